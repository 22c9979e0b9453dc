# Kinerja: two commands. `make run` starts everything; `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test soak install bench clean lint

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/kinerja run

test: $(STAMP)
	bash scripts/test.sh

# slow or disruptive fault tests, not part of `make test`: restarts the PostgreSQL cluster
# (KINERJA_SOAK_PG_CLUSTER=15/main by default; point KINERJA_TEST_PG_URL at that cluster)
soak: $(STAMP)
	KINERJA_TEST_DATABASE_URL="$${KINERJA_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/postgres}" \
	  $(BIN)/pytest -m soak tests $(ARGS)

# benchmarks, not part of `make test`: make bench ARGS="--size 10000"
bench: $(STAMP)
	bash scripts/bench.sh $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .kinerja
