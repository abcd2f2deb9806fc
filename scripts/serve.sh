#!/usr/bin/env bash
# Install, migrate SQLite, load the demo data and serve Returns Desk on http://127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# A local demo: DEBUG serves static files through whitenoise's finders and allows plain HTTP cookies.
export DEBUG="${DEBUG:-true}"
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py createcachetable
.venv/bin/python manage.py seed_demo
# The worker sends the customer e-mails (to this console while DEBUG) and the webhooks. It and
# gunicorn run in the background, so that Ctrl+C or a TERM reaches this script's traps at once
# and both stop with it (background jobs of a script ignore Ctrl+C themselves).
trap 'kill ${worker:-} ${server:-} 2>/dev/null || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
.venv/bin/python manage.py deliver_webhooks --loop &
worker=$!
echo
echo "Returns Desk is serving on http://127.0.0.1:8000 (Ctrl+C stops it)."
echo "Open it in a browser and log in as one of the users above; clerks pick their station first."
.venv/bin/gunicorn returns_desk.wsgi --bind 127.0.0.1:8000 --workers 2 --no-control-socket \
  --access-logfile - --log-level warning &
server=$!
wait "$server"
