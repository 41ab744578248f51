# make demo | make test | make lint | make clean   (all build .venv first when needed)

PYTHON_BASE ?= python3
VENV        := .venv
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.ifagent-installed
# Shared libraries the pip wheels need at import/run time: open3d (libusb, GL, OpenMP),
# speech (espeak-ng, sox, PortAudio).
APT_PACKAGES := libusb-1.0-0 libgl1 libgomp1 espeak-ng sox libportaudio2
PYTEST_ARGS ?=

.PHONY: all venv apt-deps browser-deps demo test lint clean distclean

all: test

# Installs only what is missing; `apt-get update` only when something is.
apt-deps:
	@if ! command -v dpkg >/dev/null 2>&1; then \
	  echo "dpkg not found: install the equivalents of $(APT_PACKAGES) yourself"; exit 0; fi; \
	missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo="sudo"; \
	  echo "installing Debian packages:$$missing"; \
	  $$sudo apt-get update && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y --no-install-recommends $$missing; \
	fi

# Headless Chromium for the browser tests (the campaign report is opened in it); the tests
# fail instead of skipping under `make test` (IFAGENT_REQUIRE_BROWSER=1).
browser-deps:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then \
	  exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
	  echo "apt-get not found: install Chromium yourself for the browser tests"; exit 1; fi; \
	sudo=""; [ "$$(id -u)" = 0 ] || sudo="sudo"; \
	echo "installing Debian package: chromium"; \
	$$sudo apt-get update && \
	DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y --no-install-recommends chromium

venv: apt-deps $(STAMP)

# Reruns when requirements or packaging change. The package is installed editable with
# --no-deps (deps come from requirements.txt) and --no-build-isolation (setup.py needs only
# setuptools, already in the venv); console scripts (`ifagent`, `sim_node`, ...) land in
# .venv/bin.
$(STAMP): requirements.txt setup.py setup.cfg package.xml
	@test -x $(PY) || $(PYTHON_BASE) -m venv $(VENV)
	$(PY) -m pip install -r requirements.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	@touch $@

demo: venv
	$(VENV)/bin/ifagent demo

test: venv browser-deps
	IFAGENT_REQUIRE_BROWSER=1 $(PY) -m pytest -q $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .

clean:
	rm -rf build install log .pytest_cache .ruff_cache .hypothesis *.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
