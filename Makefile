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

BENCH_ARGS ?=
# --data only when DATA is given: without it, export uses ../shared/datasets when present, else its built-in set.
DATA_OPTION := $(if $(filter command line environment,$(origin DATA)),--data $(DATA))

.PHONY: help setup assets test export bench train eval detect clean-venv

help:
	@echo "make export TARGET=android set up, convert, verify and package (android, ios, ncnn, onnx, all)"
	@echo "make test                  set up .venv, fetch assets, run the test suite"
	@echo "make bench [BENCH_ARGS=--quick]  latency vs MediaPipe, accuracy per variant, frame reuse (report in runs/bench)"
	@echo "make train [DATA=dir]      retrain the shipped checkpoint and rewrite its model card"
	@echo "make eval  [DATA=dir]      score the shipped checkpoint and the teachers"
	@echo "make detect IMAGES='a.jpg b.mp4'   faces, age and gender with the shipped checkpoint"

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

test: assets
	FACEKIT_DATA=$(DATA) $(PY) -m pytest -q

export: assets
	$(FACEKIT) export --target $(TARGET) --checkpoint $(CHECKPOINT) $(DATA_OPTION)

bench: assets
	$(FACEKIT) bench --data $(DATA) --checkpoint $(CHECKPOINT) $(BENCH_ARGS)

train: assets
	$(FACEKIT) train --data $(DATA) --out runs/train --ship $(SHIPPED)
	$(FACEKIT) eval --data $(DATA) --checkpoint $(SHIPPED) --card exporter/weights

eval: assets
	$(FACEKIT) eval --data $(DATA) --checkpoint $(SHIPPED)

detect: assets
	@test -n "$(IMAGES)" || { echo "usage: make detect IMAGES='photo.jpg clip.mp4' (add --save with: $(FACEKIT) detect ... --save out/)"; exit 2; }
	$(FACEKIT) detect $(IMAGES)

clean-venv:
	rm -rf $(VENV)
