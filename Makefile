.PHONY: run test lint screenshots

run:  ## install, migrate, load demo data and serve on http://127.0.0.1:8000
	bash scripts/serve.sh

test:  ## install test tools (and Chromium) and run the suite on SQLite and PostgreSQL
	bash scripts/test.sh

screenshots:  ## walk every screen on the demo data in Chromium and refresh the guide's docs/img/*.png
	bash scripts/bootstrap.sh test
	SCREENSHOT_DIR=docs/img .venv/bin/python -m pytest -q tests/e2e/test_screenshots.py

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
