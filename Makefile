# Kohorte: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := run

UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
PORT ?= 8501
export KOHORTE_HOME ?= $(CURDIR)/data
# Offline and tidy: Prefect keeps its state under KOHORTE_HOME and phones nowhere.
export PREFECT_HOME ?= $(KOHORTE_HOME)/prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 120

.PHONY: run serve install test check lint format browser proxy pdftools docs sample deploy loadtest bench clean-data

## run: install, generate demo data if there is none, load it once, create the demo
## account on a fresh installation (its password is printed once), start the dashboard
run: install
	$(UV) run kohorte generate --if-empty --wirkung 10
	$(UV) run kohorte load || test $$? -eq 3  # 3: loaded, some lines or files rejected
	$(UV) run kohorte user demo
	@echo ""
	@echo "Kohorte-Dashboard: http://127.0.0.1:$(PORT)  (beenden mit Strg+C)"
	@echo ""
	$(UV) run kohorte dashboard --port $(PORT)

## serve: service mode for a server: Prefect server, work pool and deployments (nightly
## 02:00, retention 03:30 Berlin), worker and dashboard, supervised; Ctrl+C stops all.
## Creates the demo account on a fresh installation; loads nothing by itself.
serve: install proxy
	$(UV) run kohorte user demo
	$(UV) run kohorte serve

## install: the virtual environment from the lock file (bootstraps uv with pip if needed),
## compiled to bytecode once here, so the first test run, night or dashboard start after an
## install does not compile the libraries in every process it starts
install: .venv/.installed
.venv/.installed: pyproject.toml uv.lock
	@test -x "$(UV)" || scripts/bootstrap-uv.sh
	$(UV) sync --frozen --compile-bytecode
	@touch $@

## test: lint, then the whole suite (unit, flow, deployment, fault, service, real browser),
## on three workers: the service, browser and Prefect tests spend much of their time
## waiting for the processes they start, and a third worker fills those waits (on 2 cores:
## 314 s instead of 392 s); `make check`, busy on the CPU throughout, keeps two
test: install lint browser proxy pdftools
	$(UV) run pytest -n 3

## check: the edit-test loop: lint, then every test that needs no Prefect server, no
## browser or service, injects no faults and runs no whole tool in subprocesses (marks
## server, e2e, fault, slow), with 3 instead of 5 examples per property test; prints how
## long it took. `make test` runs them all.
CHECK_MARKS := not server and not e2e and not fault and not slow
check: install pdftools
	@started=$$(date +%s.%N); \
	$(MAKE) --no-print-directory lint && \
	$(UV) run pytest -m "$(CHECK_MARKS)" --hypothesis-profile=check; \
	status=$$?; \
	echo "make check: $$(awk "BEGIN { printf \"%.0f\", $$(date +%s.%N) - $$started }") s wall time"; \
	exit $$status

lint: install
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run lint-imports

format: install
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

## browser: Debian's chromium for the real-browser tests (Playwright cannot download here)
browser:
	@scripts/ensure-debian.sh /usr/bin/chromium chromium fonts-dejavu-core

## pdftools: Debian's poppler-utils (pdftoppm), to look at a report's pages as images
pdftools:
	@scripts/ensure-debian.sh pdftoppm poppler-utils fonts-dejavu-core

## proxy: Debian's HAProxy, in front of the dashboard processes of `kohorte serve`
proxy:
	@scripts/ensure-debian.sh --no-recommends haproxy haproxy

## docs: regenerate the tables in docs/ (contract, KPIs, analyst tables) between their cog markers
docs: install
	$(UV) run kohorte docs

## sample: regenerate the small committed sample in data/sample
sample: install
	rm -rf data/sample && $(UV) run kohorte generate --out data/sample --start 2025-04-07 \
		--end 2026-03-27 --entries-per-year 80 --weekly-weeks 4 --seed 7

## deploy: register the nightly deployment with a running Prefect server (PREFECT_API_URL)
deploy: install
	$(UV) run prefect work-pool create kohorte --type process --overwrite
	PWD=$(CURDIR) $(UV) run prefect --no-prompt deploy --all

## loadtest: 50 sessions (3 chromium pages, 47 websocket clients) use the dashboard for
## 2 minutes while the nightly load publishes once, halfway (LOADTEST_SESSIONS,
## LOADTEST_BROWSERS, LOADTEST_SECONDS, LOADTEST_PUBLISHES: 0 = back to back); p50/p95
## latencies into docs/reliability.md
loadtest: install browser proxy
	$(UV) run python scripts/loadtest.py --report docs/reliability.md

## bench: the nightly load against bare read_csv and pandas, an incremental night, every
## dashboard query, first paint in chromium, at four scales (BENCH_SCALE=jobcenter,region,
## national,bund; BENCH_REPEAT=3); data cached in bench-data/; figures into docs/performance.md
bench: install browser
	$(UV) run python scripts/bench.py --report docs/performance.md

clean-data:
	rm -rf data/inbox data/raw data/quarantine data/warehouse data/state data/work data/prefect
