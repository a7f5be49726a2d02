# bibbla: two commands do all the set-up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin
# This machine sets PYTHONDONTWRITEBYTECODE; without compiled bytecode every process
# (dagster, dbt) starts about twice as slowly.
export UV_COMPILE_BYTECODE := 1
export UV_LINK_MODE := copy

.PHONY: install demo test lint serve ingest stress clean scenarios scenario-advice

$(UV):
	@echo "==> installing uv $(UV_VERSION) into .tools/"
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

# Always synced (a second or two when nothing changed): it also removes the optional
# groups `make test-spark`/`bench` add, since pyspark beside Great Expectations breaks
# some of the other tests (an import exits with SystemExit inside pyspark).
install: | $(UV)
	@echo "==> installing the locked Python dependencies into $(VENV)/"
	@$(UV) sync --frozen

lint: install
	@echo "==> ruff"
	$(BIN)/ruff check .
	@echo "==> import-linter (layer rules)"
	$(BIN)/lint-imports

# The suite runs on TEST_WORKERS pytest-xdist workers; the tests that share an expensive
# session fixture run on one worker, longest first (tests/conftest.py, "parallel runs").
# TEST_WORKERS=0 runs it in this process, one test after another.
TEST_WORKERS ?= 3
test: lint
	@echo "==> pytest ($(TEST_WORKERS) workers)"
	$(BIN)/pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder)

# The demo simulates the whole population over the default period (about 6.8 million
# events; 3 1/2 to 6 minutes of the demo's 6 to 9 on two free cores, by the machine
# (measured 2026-12-08, docs/scaling.md), and about 5-7 GB of memory at its peak, in the dbt build).
# `make demo DEMO_SCALE=0.25` simulates a quarter of it.
DEMO_SCALE ?= 1.0
DEMO_START ?= 2024-01-01
DEMO_END ?= 2026-10-31

demo: install
	@echo "==> creating a new lending-core database with the reference data"
	$(BIN)/bibbla db init --reset
	@# While the simulator runs:
	@# - what needs no data, under Linux's idle scheduling class (chrt --idle: it runs only
	@#   on a core nothing else wants), so that it only takes what the simulator and its
	@#   writer process leave of the two cores (given an equal share, the report bundler
	@#   halved the simulator's speed while it ran; at nice 19 it still cost the simulated
	@#   days 335-342 s against 277 s in two of three runs): the report site's
	@#   Node packages and compiled bundles, and dbt's parsed manifest, so the pipeline's
	@#   report step only prerenders and its load does not parse (data/demo-prepare.log);
	@# - the events the simulator has written so far, landed once a minute as a nightly run
	@#   lands a live lending core's (each run reads only committed days), so the pipeline
	@#   lands only the last minute's (data/demo-landing.log). Not niced: a run holds one
	@#   read transaction, and while it does SQLite cannot checkpoint its write-ahead log
	@#   (at nice 19 the runs took minutes and the log grew to 2.5 GB). The first run starts a new
	@#   landing (--full-refresh: an earlier demo's landing of the database that `db init
	@#   --reset` replaced is moved to landing/_superseded/, not mixed with this one).
	@echo "==> simulating $(DEMO_START) to $(DEMO_END) at scale $(DEMO_SCALE) (simulated data);"
	@echo "    meanwhile preparing the report site and dbt (data/demo-prepare.log) and landing"
	@echo "    the events written so far (data/demo-landing.log)"
	@mkdir -p data
	@chrt --idle 0 sh -c '$(BIN)/bibbla reports prepare && BIBBLA_ENV=$${BIBBLA_ENV:-demo} $(BIN)/bibbla pipeline prepare' \
	    > data/demo-prepare.log 2>&1 & prepare=$$!; \
	  $(BIN)/bibbla simulate --start $(DEMO_START) --end $(DEMO_END) --scale $(DEMO_SCALE) --seed 42 & simulate=$$!; \
	  { refresh=--full-refresh; seconds=60; \
	    while kill -0 $$simulate 2>/dev/null; do \
	      if [ $$seconds -ge 60 ]; then \
	        BIBBLA_ENV=$${BIBBLA_ENV:-demo} $(BIN)/bibbla ingest events $$refresh || exit 1; \
	        refresh=; seconds=0; \
	      fi; \
	      sleep 1; seconds=$$((seconds + 1)); \
	    done; } > data/demo-landing.log 2>&1 & landing=$$!; \
	  wait $$simulate || { kill $$prepare $$landing 2>/dev/null; exit 1; }; \
	  wait $$landing || echo "note: landing the events during the simulation failed (data/demo-landing.log); the pipeline lands them"; \
	  wait $$prepare || echo "note: preparing the report site or dbt failed (data/demo-prepare.log); the pipeline will say why"
	@echo "==> running the pipeline: ingestion, checks, dbt warehouse, docs, reports"
	BIBBLA_ENV=$${BIBBLA_ENV:-demo} $(BIN)/bibbla pipeline run $(PIPELINE_FLAGS)
	@echo "==> a demo card for the visitors' web: a simulated patron with loans, given a new PIN"
	$(BIN)/bibbla patron demo-card
	@echo
	@echo "Built from simulated circulation. Next steps:"
	@echo "  $(BIN)/bibbla serve           # the visitors' web on http://127.0.0.1:8000/ (log in with the card and PIN above)"
	@echo "  $(BIN)/bibbla reports serve   # the reports on http://127.0.0.1:3000/"
	@echo "  make dagster                  # the pipeline in Dagster's UI, schedule and sensor running"
	@echo "  $(BIN)/bibbla token create --role staff --name desk   # a token for the lending API (http://127.0.0.1:8000/docs)"
	@echo "  make scenarios                # what if Degerfors, Karlskoga and Örebro join: simulated, compared, page Scenarier (docs/architecture.md)"

serve: install
	$(BIN)/bibbla serve

# What if more municipalities join (docs/architecture.md "Scenarios"): the baseline (today's
# timeline) and scenarios/alla-tolv.toml (Degerfors, Karlskoga and Örebro join 2025-07-01),
# each with three seeds at a tenth of the population over eighteen months, each run in
# data/scenarios/NAME/seed-N/; then mart_scenario_comparison in the main warehouse and the
# reports with the page Scenarier. Needs the main warehouse of `make demo`. One run at 0.1
# took 6.5 minutes on two heavily loaded cores (docs/scaling.md): the six, 30-40 minutes.
SCENARIO_SCALE ?= 0.1
SCENARIO_START ?= 2025-01-01
SCENARIO_END ?= 2026-06-30
SCENARIO_SEEDS ?= 42 43 44
SCENARIO_FLAGS = $(foreach seed,$(SCENARIO_SEEDS),--seed $(seed)) --scale $(SCENARIO_SCALE) \
	--start $(SCENARIO_START) --end $(SCENARIO_END)

scenarios: install
	BIBBLA_ENV=$${BIBBLA_ENV:-demo} $(BIN)/bibbla scenario run baseline $(SCENARIO_FLAGS)
	BIBBLA_ENV=$${BIBBLA_ENV:-demo} $(BIN)/bibbla scenario run alla-tolv $(SCENARIO_FLAGS)
	BIBBLA_ENV=$${BIBBLA_ENV:-demo} $(BIN)/bibbla scenario compare
	$(BIN)/bibbla reports build
	@echo "The page Scenarier: $(BIN)/bibbla reports serve   (http://127.0.0.1:3000/scenarier/)"

# The collection balancing advice tried out (docs/metrics.md, "The advice against a rerun"):
# for each seed of `make scenarios`' baseline, the advice its warehouse gives on the eve of
# ADVICE_ON is made on that date in a rerun (`bibbla scenario run rad --apply-advice`), and
# the expected saving of hold waits on the moved titles is set against the simulated one
# (printed, and data/scenarios/rad/seed-N/advice_check.json). The rerun also joins the
# comparison (page Scenarier) as the scenario "rad". Run `make scenarios` first.
ADVICE_ON ?= 2026-01-01
scenario-advice: install
	BIBBLA_ENV=$${BIBBLA_ENV:-demo} $(BIN)/bibbla scenario run rad --apply-advice $(ADVICE_ON) $(SCENARIO_FLAGS)
	BIBBLA_ENV=$${BIBBLA_ENV:-demo} $(BIN)/bibbla scenario compare
	$(BIN)/bibbla reports build

# The long reliability tests pushed harder (BIBBLA_STRESS=1): repeated kill -9 of the API
# server under load, a longer fuzz run, more property-based examples.
stress: install
	BIBBLA_STRESS=1 $(BIN)/pytest -m slow tests/reliability tests/operational/e2e/test_api_fuzz.py tests/operational/integration/test_rules_property.py

# Land the lending core's new events, snapshots and reference data (needs
# BIBBLA_PSEUDONYM_KEY, or BIBBLA_ENV=demo for a generated key).
ingest: install
	$(BIN)/bibbla ingest

clean:
	rm -rf $(VENV) .tools data/operational.sqlite*

# ---- reports: the Evidence site (reports/) -------------------------------------------------
# Needs Node.js 20 and npm. `reports` builds reports/build from the warehouse
# (BIBBLA_WAREHOUSE, default data/warehouse.duckdb), running `npm ci` first when
# reports/node_modules is missing or stale; `bibbla reports serve` then serves it.
.PHONY: reports reports-install

reports-install: install
	$(BIN)/bibbla reports install

reports: install
	$(BIN)/bibbla reports build
	@echo "Open the reports with: $(BIN)/bibbla reports serve   (http://127.0.0.1:3000/)"
# ---- end of reports ------------------------------------------------------------------------

# ---- warehouse: the dbt-duckdb project (dbt_project/) --------------------------------------
# `warehouse` runs `dbt build` (models, tests, unit tests) from the landing (BIBBLA_LANDING,
# default data/landing) into the warehouse (BIBBLA_WAREHOUSE, default data/warehouse.duckdb);
# run `bibbla ingest` first. `warehouse-docs` generates dbt's documentation site.
.PHONY: warehouse warehouse-docs

warehouse: install
	$(BIN)/bibbla warehouse build

warehouse-docs: install
	$(BIN)/bibbla warehouse docs
# ---- end of warehouse ----------------------------------------------------------------------

# ---- pipeline: Dagster (orchestration/) ----------------------------------------------------
# `pipeline` runs the whole graph once, now, against the existing lending core (the nightly
# run; PIPELINE_FLAGS=--no-reports leaves out the Evidence site). `dagster` starts the UI and
# the daemon on 127.0.0.1:$(DAGSTER_PORT), so the nightly schedule and the feed sensor run;
# Ctrl-C stops both. Runs and schedule state live in DAGSTER_HOME (default data/dagster_home).
# Both default BIBBLA_ENV to demo (a generated pseudonym key) unless it is set.
.PHONY: pipeline dagster
DAGSTER_PORT ?= 3070
PIPELINE_FLAGS ?=

pipeline: install
	BIBBLA_ENV=$${BIBBLA_ENV:-demo} $(BIN)/bibbla pipeline run $(PIPELINE_FLAGS)

dagster: install
	BIBBLA_ENV=$${BIBBLA_ENV:-demo} $(BIN)/bibbla pipeline dev --port $(DAGSTER_PORT)
# ---- end of pipeline -----------------------------------------------------------------------

# ---- scale: the Spark target and the benchmarks (benchmarks/, docs/scaling.md) ------------
# The optional dependency groups `spark` (pyspark 4.3.0 and dbt-spark[session]: ~490 MB, and
# pyspark is built from its 456 MB source archive, ~30 s on a cold cache) and `bench`
# (dbt-postgres) are installed only by these targets, not by `make install`/`test`/`demo`.
# `test-spark` builds every model on DuckDB and on Spark (pyspark local mode, Java 17) from
# one simulated landing, first in full and then incrementally, and compares every table row
# for row (a few minutes). `bench` runs the benchmark suite at its smallest sizes and prints
# one table of ratios (it aims at 15 minutes on two cores: 14.2 on two quiet ones, 41.7 on a
# loaded machine; docs/scaling.md says where the time goes); `bench-full` runs it at the large
# volumes (several hours).
# Results: benchmarks/results/<name>.json.
.PHONY: install-scale test-spark bench bench-full
SCALE_GROUPS := --group spark --group bench
BENCH_FLAGS ?=

install-scale: install
	$(UV) sync --frozen $(SCALE_GROUPS)

test-spark: install-scale
	BIBBLA_SPARK_TESTS=1 $(BIN)/pytest tests/spark

bench: install-scale
	$(BIN)/python -m benchmarks $(BENCH_FLAGS)

bench-full: install-scale
	$(BIN)/python -m benchmarks --full $(BENCH_FLAGS)
# ---- end of scale --------------------------------------------------------------------------
