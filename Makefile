# Two commands do everything on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test score baseline eval eval-compare lint check bench soak

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

DEMO ?= 1

run: $(STAMP)  ## create .venv, install, seed the demo province into an empty database, serve on SQLite
	@if [ "$(DEMO)" = "1" ]; then $(BIN)/agribot demo seed --if-empty; fi
	$(BIN)/agribot serve

test: $(STAMP)  ## the whole test suite (SQLite always, PostgreSQL where reachable)
	$(BIN)/pytest

score: $(STAMP)  ## Q&A figures on the development questions
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python ../shared/eval/score.py ../shared/eval/dev-questions.yaml

eval: $(STAMP)  ## Q&A: 5-fold cross-validation on the cards' example questions (writes the fitted thresholds), then held-out questions and emergencies
	$(BIN)/agribot content eval --write $(wildcard ../shared/eval/dev-questions.yaml) bench/holdout/questions.yaml bench/holdout/out-of-scope.yaml
	$(BIN)/python -m bench.emergencies

eval-compare: $(STAMP)  ## the shipped ranker against standard ones, cross-validated (README "Q&A"; a few minutes)
	$(BIN)/python -m bench.compare_rankers $(wildcard ../shared/eval/dev-questions.yaml)

baseline: $(STAMP)  ## the same figures for a naive rapidfuzz baseline
	$(BIN)/python ../shared/eval/score.py ../shared/eval/dev-questions.yaml --cmd "$(BIN)/python bench/naive_baseline.py"

bench: $(STAMP)  ## benchmarks: prints a table, writes bench/results.json (about 10 minutes; QUICK=1 for a short run)
	$(BIN)/python -m bench.run $(if $(QUICK),--quick,)

SOAK_SECONDS ?= 600

soak: $(STAMP)  ## kill -9 soak: mixed webhook, web chat and report traffic, a kill every 60-120 s (SOAK_SECONDS, default 600)
	SOAK_SECONDS=$(SOAK_SECONDS) $(BIN)/python -m bench.soak

lint: $(STAMP)
	$(BIN)/ruff check bot reporting tests bench
	$(BIN)/mypy

check: $(STAMP)
	$(BIN)/agribot content check
