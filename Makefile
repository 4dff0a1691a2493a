# FaceKit: every entry point sets itself up first (a .venv with pinned versions).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
FACEKIT := $(VENV)/bin/facekit
STAMP  := $(VENV)/.installed
DATA   ?= ../shared/datasets
TARGET ?= android
CHECKPOINT ?=
PIP    := $(PY) -m pip install -q --disable-pip-version-check

.PHONY: setup assets test train eval detect clean-venv

# Re-installs only when a pin file changes (the stamp is older than them).
$(STAMP): requirements.lock requirements-nodeps.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing pinned packages into $(VENV) (first run: about a minute)..."
	$(PIP) -r requirements.lock
	$(PIP) --no-deps -r requirements-nodeps.lock
	$(PIP) --no-deps --no-build-isolation -e .
	@touch $(STAMP)

setup: $(STAMP)

assets: setup
	$(FACEKIT) assets

test: assets
	FACEKIT_DATA=$(DATA) $(PY) -m pytest -q

train: assets
	$(FACEKIT) train --data $(DATA)

eval: assets
	$(FACEKIT) eval --data $(DATA)

clean-venv:
	rm -rf $(VENV)
