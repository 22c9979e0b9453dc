# Kinerja: two commands. `make run` starts everything; `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test soak production-test install bench clean lint

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

# slow or disruptive fault tests, not part of `make test`: a year for 5,000 employees on the
# production profile with injected faults, and PostgreSQL restarted under load. Restarts the
# PostgreSQL cluster (KINERJA_SOAK_PG_CLUSTER=15/main by default): run it alone.
soak: $(STAMP)
	KINERJA_TEST_DATABASE_URL="$${KINERJA_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/postgres}" \
	  $(BIN)/pytest -m soak tests/api $(ARGS)
	bash scripts/production-test.sh -m soak $(ARGS)

# the production profile (PostgreSQL, Prefect replicas on Redis, workers, two API processes,
# Postfix) through a compressed year for KINERJA_PROD_EMPLOYEES (2,000); not part of `make test`
production-test: $(STAMP)
	bash scripts/production-test.sh -m production $(ARGS)

# benchmarks, not part of `make test`: make bench ARGS="--size 10000"
bench: $(STAMP)
	bash scripts/bench.sh $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .kinerja
