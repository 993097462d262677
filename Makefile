# The README's two commands are `make run` and `make test`; CI runs `make ci`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MODEL := models/multilingual-e5-small/openvino/EXPORT
LEXICON := models/jmdict-en-ja-v3.sqlite
TOKENIZER := models/multilingual-e5-small/sentencepiece.model
HOST ?= 127.0.0.1
PORT ?= 7860

.PHONY: install model index run test test-unit test-integration lint format ci clean bench bench-quick eval

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# the CPU build of torch that lies on this machine's disk; a bare `torch` would pull CUDA
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

model: $(MODEL) $(LEXICON) $(TOKENIZER)

$(MODEL) $(LEXICON) $(TOKENIZER): $(STAMP)
	$(PY) -m rag model build

index: $(MODEL) $(LEXICON) $(TOKENIZER)
	# exit code 2: built, but some files could not be read (they are listed); the app still starts
	$(PY) -m rag index --progress || [ $$? -eq 2 ]

run: index
	$(PY) app.py --host $(HOST) --port $(PORT)

test: $(MODEL) $(LEXICON) $(TOKENIZER)
	$(PY) -m pytest -q

test-unit: $(STAMP) $(LEXICON)
	$(PY) -m pytest -q -m "not integration"

test-integration: $(MODEL) $(LEXICON) $(TOKENIZER)
	$(PY) -m pytest -q -m integration

lint: $(STAMP)
	$(PY) -m ruff check rag tests app.py
	$(PY) -m ruff format --check rag tests app.py

format: $(STAMP)
	$(PY) -m ruff format rag tests app.py
	$(PY) -m ruff check --fix rag tests app.py

eval: index
	$(PY) -m rag eval --check

bench: index
	$(PY) -m rag bench --out docs/benchmarks.md

bench-quick: index
	$(PY) -m rag bench --quick

ci: lint test bench-quick

clean:
	rm -rf $(VENV) models index/current index/builds .pytest_cache
