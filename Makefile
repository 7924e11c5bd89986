# The README's two commands: `make lab` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
TORCH  := torch==2.14.1 torchvision==0.29.1
PORT   ?= 8888

.PHONY: lab test install install-dev bench clean

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

lab: install
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

# -n auto: one worker per core; --dist loadfile keeps each notebook's cells in one worker.
test: install-dev
	$(PY) -m pytest -n auto --dist loadfile

bench: install-dev
	for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
