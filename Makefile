# Two commands for a fresh Debian/Ubuntu machine (Python 3.11+):
#   make run    set up everything, then open the app
#   make test   set up everything, then lint, type-check and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Debian packages: PortAudio (playback), PulseAudio (the tests' null sink), Xvfb (screenshots),
# and the X/EGL/font libraries Qt loads even offscreen.
APT_PACKAGES := libportaudio2 pulseaudio pulseaudio-utils xvfb xauth dbus libegl1 libgl1 libxkbcommon0 \
                libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 \
                libxcb-render-util0 libxcb-shape0 libxcb-randr0 libxcb-xinerama0 libxcb-xkb1 \
                libdbus-1-3 libfontconfig1 libglib2.0-0 e2fsprogs
TORCH_VERSION ?= 2.13.0

.PHONY: run test setup system-deps lint typecheck pytest bench clean

run: setup
	$(BIN)/infinite-player

test: setup lint typecheck pytest

setup: system-deps $(VENV)/.installed

# Installs what is missing when we are root on Debian/Ubuntu; elsewhere says what to install.
system-deps:
	@missing=""; \
	if command -v dpkg >/dev/null 2>&1; then \
	  for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	fi; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "missing system packages:$$missing (run: sudo apt-get install$$missing)"; \
	  fi; \
	fi

# torch first, pinned: on Linux that version is a CPU build; a bare `torch` would pull CUDA.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==$(TORCH_VERSION)
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck:
	$(BIN)/mypy

pytest:
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

bench: setup
	@for b in tests/bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
