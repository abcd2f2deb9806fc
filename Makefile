.PHONY: run test lint screenshots messages compilemessages

run:  ## install, migrate, load demo data and serve on http://127.0.0.1:8000
	bash scripts/serve.sh

test:  ## install test tools (and Chromium) and run the suite on SQLite and PostgreSQL
	bash scripts/test.sh

screenshots:  ## walk every screen on the demo data in Chromium and refresh the guide's docs/img/*.png
	bash scripts/bootstrap.sh test
	SCREENSHOT_DIR=docs/img .venv/bin/python -m pytest -q tests/e2e/test_screenshots.py

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

# Catalogues: the source's strings into locale/*/django.po, then the .po files compiled to .mo
messages:  ## refresh locale/{de,nl}/LC_MESSAGES/django.po from the source (then translate what is new)
	.venv/bin/python manage.py makemessages --locale de --locale nl --add-location file --no-obsolete \
		--ignore 'tests/*' --ignore 'bench/*' --ignore 'docs/*' --ignore 'media/*' --ignore 'var/*' \
		--ignore 'staticfiles/*' --ignore 'scripts/*'

compilemessages:  ## compile the translated catalogues (the .mo files are committed)
	.venv/bin/python manage.py compilemessages --locale de --locale nl --ignore '.venv/*'
