# FaceKit: every entry point sets itself up first (a .venv with pinned versions).
PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
FACEKIT := $(VENV)/bin/facekit
STAMP   := $(VENV)/.installed
DATA    ?= ../shared/datasets
SHIPPED := exporter/weights/facekit_default.pt
IMAGES  ?=
TARGET  ?= android
CHECKPOINT ?= $(SHIPPED)
PIP     := $(PY) -m pip install -q --disable-pip-version-check
PADDLE_VENV  := .venv-paddle
PADDLE_STAMP := $(PADDLE_VENV)/.installed

BENCH_ARGS ?=
# --data only when DATA is given: without it, export uses ../shared/datasets when present, else its built-in set.
DATA_OPTION := $(if $(filter command line environment,$(origin DATA)),--data $(DATA))

DEMO_ADDRESS ?= localhost
DEMO_PORT ?= 8501
CHROMIUM := /usr/bin/chromium

.PHONY: help setup assets browser test android-check export paddle bench train eval detect demo clean-venv compress compress-targets pareto

help:
	@echo "make export TARGET=android set up, convert, verify and package (android, ios, executorch, mnn, ncnn, onnx, opencv, all)"
	@echo "make test                  set up .venv, fetch assets, run the test suite and make android-check"
	@echo "make paddle                set up .venv-paddle, convert to a Paddle inference model, verify (exports/paddle)"
	@echo "make android-check         compile android_app/, run its core tests on the goldens, build and check a debug APK"
	@echo "make bench [BENCH_ARGS=--quick]  latency vs MediaPipe, accuracy per variant, frame reuse (report in runs/bench)"
	@echo "make train [DATA=dir]      retrain the shipped checkpoint and rewrite its model card"
	@echo "make compress [DATA=dir]   prune, factorise, palettize, QAT, width- and size-search the shipped checkpoint (runs/compress/*; about 1.6 hours at one thread)"
	@echo "make compress-targets [DATA=dir]  the two longer chains that met compression's 0.6x and 100 KB targets (about 1 and 1.6 hours at two threads)"
	@echo "make pareto [DATA=dir]     export, time and score every compressed variant beside the shipped one (runs/pareto)"
	@echo "make eval  [DATA=dir]      score the shipped checkpoint and the teachers"
	@echo "make detect IMAGES='a.jpg b.mp4'   faces, age and gender with the shipped checkpoint"
	@echo "make demo [DEMO_PORT=8501]  the Streamlit preview of the exported models on http://localhost:8501"
	@echo ".venv/bin/facekit golden [--update]   check (or regenerate on purpose) the app contract in tests/golden"

# Re-installs only when a pin file changes (the stamp is older than them).
$(STAMP): requirements.lock requirements-nodeps.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing pinned packages into $(VENV) (first run: about a minute and a half)..."
	$(PIP) -r requirements.lock
	$(PIP) --no-deps -r requirements-nodeps.lock
	$(PIP) --no-deps --no-build-isolation -e .
	@touch $(STAMP)

setup: $(STAMP)

assets: setup
	$(FACEKIT) assets

# Debian's Chromium for the preview's browser test (Playwright's own browser download does not work here).
# Without apt-get as root it is not installed and that one test is skipped, saying why.
browser:
	@test -x $(CHROMIUM) || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null; } || \
		echo "Chromium is missing and cannot be installed here (needs apt-get as root): the preview's browser test will be skipped"

test: assets browser
	FACEKIT_DATA=$(DATA) $(PY) -m pytest -q
	@$(MAKE) --no-print-directory android-check

# Exports TARGET=android first when the app's assets are missing; skips with a reason when ../shared/android is absent.
android-check: assets
	FACEKIT_EXPORT="$(FACEKIT) export --target android --checkpoint $(CHECKPOINT) $(DATA_OPTION)" bash android_app/tools/android_check.sh

export: assets
	$(FACEKIT) export --target $(TARGET) --checkpoint $(CHECKPOINT) $(DATA_OPTION)

# Paddle's converter and runtime need their own venv (see requirements-paddle.lock); re-installs when the lock changes.
$(PADDLE_STAMP): requirements-paddle.lock
	@test -x $(PADDLE_VENV)/bin/python || $(PYTHON) -m venv $(PADDLE_VENV)
	@echo "Installing Paddle's pinned packages into $(PADDLE_VENV) (first run: about a minute and a half, 1.1 GB)..."
	$(PADDLE_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-paddle.lock
	@touch $(PADDLE_STAMP)

paddle: assets $(PADDLE_STAMP)
	$(PY) -m exporter.export.paddle_check --checkpoint $(CHECKPOINT) --venv $(PADDLE_VENV) $(DATA_OPTION)

bench: assets
	$(FACEKIT) bench --data $(DATA) --checkpoint $(CHECKPOINT) $(BENCH_ARGS)

# Two stages (exporter/train/recipes.py): base from scratch, then attributes from base's best.
train: assets
	$(FACEKIT) train --recipe base --data $(DATA) --out runs/train/base
	$(FACEKIT) train --recipe attributes --init runs/train/base/best.pt --data $(DATA) --out runs/train/attributes --ship $(SHIPPED)
	$(FACEKIT) eval --data $(DATA) --checkpoint $(SHIPPED) --card exporter/weights

# The recipes of exporter/compress/methods.py, one after another; each resumes where it stopped.
compress: assets
	$(FACEKIT) compress --recipes --checkpoint $(CHECKPOINT) --data $(DATA)

# The chains that met `facekit compress`'s targets (README, Compression): a width cut fine-tuned for 3,600 steps (the
# size one continued to 7,200), training's attributes stage on it, then QAT. Every command resumes where it stopped.
COMPRESSED := runs/compress
compress-targets: assets
	$(FACEKIT) compress --method search --amount 0.6 --steps 3600 --resume --checkpoint $(CHECKPOINT) --data $(DATA) --out $(COMPRESSED)/search-0.6-3600
	$(FACEKIT) train --recipe attributes --init $(COMPRESSED)/search-0.6-3600/best.pt --resume --data $(DATA) --out $(COMPRESSED)/search-0.6-3600-attributes
	$(FACEKIT) compress --method qat --amount 8 --lr 1e-4 --val-every 100 --resume --checkpoint $(COMPRESSED)/search-0.6-3600-attributes/best.pt --data $(DATA) --out $(COMPRESSED)/search-0.6-3600-attributes-qat-lr1e-4
	$(FACEKIT) compress --method size --amount 100 --steps 3600 --resume --checkpoint $(CHECKPOINT) --data $(DATA) --out $(COMPRESSED)/size-100-3600
	test -e $(COMPRESSED)/size-100-7200/last.pt || cp -rT $(COMPRESSED)/size-100-3600 $(COMPRESSED)/size-100-7200
	$(FACEKIT) compress --method size --amount 100 --steps 7200 --resume --checkpoint $(CHECKPOINT) --data $(DATA) --out $(COMPRESSED)/size-100-7200
	$(FACEKIT) train --recipe attributes --init $(COMPRESSED)/size-100-7200/best.pt --resume --data $(DATA) --out $(COMPRESSED)/size-100-7200-attributes
	$(FACEKIT) compress --method qat --amount 8 --lr 1e-4 --val-every 100 --resume --checkpoint $(COMPRESSED)/size-100-7200-attributes/best.pt --data $(DATA) --out $(COMPRESSED)/size-100-7200-attributes-qat-lr1e-4

pareto: assets
	$(FACEKIT) bench --pareto --data $(DATA) --checkpoint $(CHECKPOINT)

eval: assets
	$(FACEKIT) eval --data $(DATA) --checkpoint $(SHIPPED)

detect: assets
	@test -n "$(IMAGES)" || { echo "usage: make detect IMAGES='photo.jpg clip.mp4' (add --save with: $(FACEKIT) detect ... --save out/)"; exit 2; }
	$(FACEKIT) detect $(IMAGES)

# The preview reads exports/all (it offers to make it when missing) and runs/bench; it binds to localhost.
demo: assets
	@echo "FaceKit preview on http://$(DEMO_ADDRESS):$(DEMO_PORT) (Ctrl-C stops it)"
	FACEKIT_DATA=$(DATA) $(VENV)/bin/streamlit run demo_web/app.py --server.address $(DEMO_ADDRESS) \
		--server.port $(DEMO_PORT) --server.headless true --browser.gatherUsageStats false --client.toolbarMode viewer

clean-venv:
	rm -rf $(VENV) $(PADDLE_VENV)
