.PHONY: run test lint

run:  ## install, migrate, load demo data and serve on http://127.0.0.1:8000
	bash scripts/serve.sh

test:  ## install test tools (and Chromium) and run the suite on SQLite and PostgreSQL
	bash scripts/test.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
