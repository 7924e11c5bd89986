# The README's two commands: `make lab` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
TORCH  := torch==2.14.1 torchvision==0.29.1
PORT   ?= 8888

.PHONY: lab test install install-dev browser bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch first, pinned to the build this project is tested with; then the package.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install $(TORCH)
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(PIP) install -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The browser test drives Debian's Chromium (no browser download): installed through apt when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

lab: install
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

# -n auto: one worker per core; --dist loadfile keeps each notebook's cells in one worker, and the browser tests
# (one module) on one JupyterLab server. (--dist loadgroup does not group under pytest 9.2 with xdist 3.8.)
test: install-dev browser
	WORKBENCH_FAST=1 $(PY) -m pytest -n auto --dist loadfile

# (the *_equivalence.py scripts are before/after checks for refactors: `save PATH` then `compare PATH`)
bench: install-dev
	cd benchmarks && for b in *.py; do case $$b in _*|*_equivalence.py) continue;; esac; \
	  echo "== $$b"; ../$(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
