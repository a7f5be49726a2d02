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

.PHONY: install demo test lint serve clean

$(UV):
	@echo "==> installing uv $(UV_VERSION) into .tools/"
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	@echo "==> installing the locked Python dependencies into $(VENV)/"
	$(UV) sync --frozen
	@touch $@

install: $(VENV)/.synced

lint: install
	@echo "==> ruff"
	$(BIN)/ruff check .
	@echo "==> import-linter (layer rules)"
	$(BIN)/lint-imports

test: lint
	@echo "==> pytest"
	$(BIN)/pytest

demo: install
	@echo "==> creating the lending core's database and loading reference data"
	$(BIN)/bibbla db init
	@echo
	@echo "The lending core is ready. Next steps (see README.md):"
	@echo "  $(BIN)/bibbla token create --role staff --name desk"
	@echo "  $(BIN)/bibbla serve          # API on http://127.0.0.1:8000, docs at /docs"

serve: install
	$(BIN)/bibbla serve

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
