# Two commands do all the set-up on a fresh machine with Python 3.11+, pip and make:
#   make demo   create the environment, serve the demo blog, migrate it into data/demo.db
#   make test   create the environment, run the whole test suite
PYTHON ?= python3
VENV   := .venv
UV     := $(VENV)/bin/uv
RUN    := $(UV) run --frozen

.PHONY: env demo test wheel-check lint typecheck bench bench-fetch bench-extract bench-load wordpress-check clean

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet "uv>=0.5"

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --inexact --python $(VENV)/bin/python
	touch $@

env: $(VENV)/.synced

demo: env
	$(RUN) migrator demo

test: env
	$(RUN) ruff check src tests benchmarks
	$(RUN) ruff format --check src tests benchmarks
	$(RUN) mypy
	$(RUN) pytest

# CI's wheel job: python -m build, then the wheel alone in a plain pip virtualenv (no uv, no
# lock) runs `migrator demo` and `migrator parse` (bodies equal to the locked ones).
wheel-check: env
	$(RUN) python benchmarks/wheel_check.py $(WHEEL_ARGS)

lint: env
	$(RUN) ruff format src tests benchmarks
	$(RUN) ruff check --fix src tests benchmarks

typecheck: env
	$(RUN) mypy

# make bench BENCH_ARGS="--posts 2000 --runs 1" for a quick look; see BENCHMARKS.md
bench: env
	UV_PROJECT_ENVIRONMENT=$(VENV) $(RUN) --group bench python benchmarks/compare.py $(BENCH_ARGS)

# The stage benchmarks (numbers in BENCHMARKS.md): fetch at 10k/50k posts vs a plain
# httpx loop, extract ms/page and body F1 (reads ../shared/corpus when present), load.
bench-fetch: env
	$(RUN) python benchmarks/bench_fetch.py $(BENCH_ARGS)

bench-extract: env
	$(RUN) python benchmarks/bench_extract.py $(BENCH_ARGS)

bench-load: env
	$(RUN) python benchmarks/bench_load.py $(BENCH_ARGS)

# A real WordPress from Debian's packages (installed if missing; needs root), filled
# with a generated blog, migrated and checked against WordPress's own database. Not part
# of `make test`: the first run installs packages and the blog (~1 min), later runs reuse
# data/wordpress/. WP_ARGS="--port 8481 --samples DIR --rebuild"; see benchmarks/wordpress/.
wordpress-check: env
	$(RUN) python benchmarks/wordpress/wpcheck.py $(WP_ARGS)

clean:
	rm -rf $(VENV) data/*.db data/*.db-wal data/*.db-shm .pytest_cache .mypy_cache .ruff_cache
