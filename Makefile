# Sketch Variants: the commands a newcomer needs.  `make demo` and `make test` are the two that matter.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
VPY := $(VENV)/bin/python
# The stamp records that the venv matches pyproject.toml, so a second `make test` skips pip entirely.
STAMP := $(VENV)/.installed-dev
PIP_FLAGS := --disable-pip-version-check $(if $(CI),--progress-bar off,)
SYSTEM_PACKAGES := krita python3-pyqt5 xvfb xauth xdotool debootstrap
PYTEST_ARGS ?=

.PHONY: help venv sysdeps lint test plugin install uninstall demo clean

help:
	@echo "make demo       engine + bundled sketch -> out/demo/ (variants, contact.png, demo.kra with Krita)"
	@echo "make test       install what the tests need, then ruff, mypy and the whole pytest suite"
	@echo "make plugin     build dist/sketch_variants.zip (Krita: Tools > Scripts > Import Python Plugin)"
	@echo "make install    engine venv under \$$XDG_DATA_HOME + plugin into Krita's resource folder"
	@echo "make uninstall  remove exactly what make install added"

$(VPY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed, found " + sys.version.split()[0] + "; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(VPY)
	$(VPY) -m pip install $(PIP_FLAGS) -e '.[dev,studio]'
	touch $@

venv: $(STAMP)

# Real-Krita tests need Krita, a virtual X server and xdotool, and debootstrap for the Debian unstable
# root Krita 6 runs in (tests/krita/krita6_root.py); install them only where we may (root).
sysdeps:
	@missing=""; \
	command -v krita >/dev/null || missing="$$missing krita"; \
	command -v Xvfb >/dev/null || missing="$$missing xvfb"; \
	command -v xdotool >/dev/null || missing="$$missing xdotool"; \
	command -v xauth >/dev/null || missing="$$missing xauth"; \
	command -v debootstrap >/dev/null || missing="$$missing debootstrap"; \
	dpkg -s python3-pyqt5 >/dev/null 2>&1 || missing="$$missing python3-pyqt5"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing system packages:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -q && apt-get install -y -q --no-install-recommends $(SYSTEM_PACKAGES); \
	else \
	  echo "note:$$missing not installed (needs root): the real-Krita tests in tests/krita will fail"; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# pytest exits 5 when it collects nothing; make treats that like any failure, which is what we want:
# an empty or mis-collected suite must never look green.
test: $(STAMP) sysdeps lint
	$(VPY) -m pytest -ra $(PYTEST_ARGS) tests
	@echo "make test: ruff and mypy clean, pytest passed"

clean:
	rm -rf dist out build

# Stdlib-only scripts, so the system python3 runs them without the venv.
plugin:
	$(PYTHON) packaging/build_plugin_zip.py --out dist/sketch_variants.zip

install:
	$(PYTHON) packaging/install.py install

uninstall:
	$(PYTHON) packaging/install.py uninstall

demo: $(STAMP)
	$(VPY) packaging/demo.py --out out/demo
