# One task runner. `make start` sets everything up and starts the product; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# llama.cpp is compiled for this CPU (-march=native), but without its AMX kernels: on a Xeon with AMX,
# ggml_backend_amx_mul_mat (llama-cpp-python 0.3.36) crashes the process at the first prompt (seen on this
# project's machines, a segmentation fault). AVX2/AVX-512 stay on; only x86-64 compilers know these flags.
ifeq ($(shell uname -m),x86_64)
NO_AMX := -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
export CMAKE_ARGS ?= -DCMAKE_C_FLAGS='$(NO_AMX)' -DCMAKE_CXX_FLAGS='$(NO_AMX)'
endif

.PHONY: start setup chromium postgresql models ingest chat serve test test-fast test-browser lint eval-retrieval eval bench bench-load bench-load-avx2 bench-soak bench-avx2 avx2-llama clean

start: setup models ingest  ## set up, fetch models, index knowledge/, serve kiosk, widget and API on 127.0.0.1:7860
	$(BIN)/assistant serve

setup: $(STAMP) chromium postgresql  ## create .venv and install the pinned stack (CPU torch, no CUDA download)

# The browser tests drive Debian's chromium; Playwright never downloads a browser.
chromium:
	@test -x /usr/bin/chromium || { \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else echo "chromium is missing: sudo apt-get install -y chromium (the browser tests need it)"; fi; }

# The record's contract tests start a PostgreSQL server of their own from Debian's package (initdb, pg_ctl).
postgresql:
	@command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
		else echo "postgresql is missing: sudo apt-get install -y postgresql (the record's PostgreSQL tests need it)"; fi; }

$(STAMP): pyproject.toml constraints.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	# torch first and pinned: pip then takes the CPU wheel instead of a CUDA build.
	$(BIN)/pip install -q -c constraints.txt torch==2.13.0
	# llama.cpp built here with CMAKE_ARGS, never a wheel cached from a build with other flags.
	$(BIN)/pip install -q --no-cache-dir -c constraints.txt llama-cpp-python
	$(BIN)/pip install -q -c constraints.txt -e '.[dev,llm]'
	touch $(STAMP)

models: setup  ## put the default models into ./models (idempotent, SHA-256 verified)
	$(BIN)/assistant models fetch

ingest: setup  ## index knowledge/ (no-op when nothing changed)
	$(BIN)/assistant ingest

chat: setup
	$(BIN)/assistant chat

serve: setup  ## kiosk (/kiosk), widget (/widget, snippet /widget/embed.js) and API on 127.0.0.1:7860
	$(BIN)/assistant serve

test: setup models lint  ## the whole suite: fast tests with fakes, then real models, a real Chroma server
	$(BIN)/python -m pytest

test-fast: setup  ## only the fast tests (fakes, no models, no browser)
	$(BIN)/python -m pytest -m "not slow and not browser"

test-browser: setup  ## the kiosk and the widget in chromium (fakes); screenshots in test-artifacts/screenshots/
	$(BIN)/python -m pytest -m browser

lint: setup
	$(BIN)/ruff check assistant evals tests
	$(BIN)/ruff format --check assistant evals tests
	$(BIN)/mypy assistant

eval-retrieval: setup models  ## retrieval hit@k/MRR per language cell, report in evals/reports/
	$(BIN)/python -m evals.retrieval

bench: setup models  ## ingestion and retrieval latency, then answer latency with the local model
	$(BIN)/python -m evals.bench_retrieval
	$(BIN)/python -m evals.bench_answers

# The AVX2 path on a machine with more (the common kiosk CPU): torch/oneDNN/MKL limited to AVX2, float32
# embeddings, and llama.cpp built for AVX2 alone into .avx2-llama/ (the product's own build stays as it is).
AVX2_CMAKE := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF \
	-DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF -DGGML_AVX_VNNI=OFF \
	-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
avx2-llama: setup  ## build llama-cpp-python for AVX2 only into .avx2-llama/ (for bench-avx2; about 8 min)
	test -d .avx2-llama/llama_cpp || CMAKE_ARGS="$(AVX2_CMAKE)" $(BIN)/pip install -q --no-deps --no-cache-dir \
		--no-binary llama-cpp-python --target .avx2-llama -c constraints.txt llama-cpp-python

bench-avx2: setup models avx2-llama  ## the bench figures on the AVX2 path
	$(BIN)/python -m evals.bench_retrieval --avx2
	$(BIN)/python -m evals.bench_answers --avx2

bench-load: setup models  ## the HTTP API under 10 and 50 concurrent clients: local model, then extractive route
	$(BIN)/python -m evals.bench_load

bench-load-avx2: setup models avx2-llama  ## bench-load with the servers on the AVX2 path
	$(BIN)/python -m evals.bench_load --avx2

bench-soak: setup models  ## 50 visitors for 10 minutes on SSE and the screens' queue: errors, latency, memory (docs/soak.md)
	$(BIN)/python -m evals.bench_soak

eval: setup models  ## answer quality and retrieval on the golden set: evals/reports/eval.json + eval.html
	$(BIN)/assistant eval

clean:
	rm -rf data evals/reports test-artifacts
