#!/usr/bin/env bash
# Install what the tests need and run the whole suite on SQLite, then again on PostgreSQL.
# With CI=true a missing Chromium or PostgreSQL fails the run; elsewhere it is skipped with a note.
# Extra arguments go to pytest (e.g. scripts/test.sh -k receiving).
set -euo pipefail
cd "$(dirname "$0")/.."
ci="${CI:-false}"
bash scripts/bootstrap.sh test

apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian's $1 for the browser tests..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1") >/dev/null \
      || echo "apt-get could not install $1." >&2
  fi
}

pytest_args=("$@")
if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
  if [ ! -x /usr/bin/chromium ]; then
    [ "$ci" = true ] && { echo "FAIL: /usr/bin/chromium is missing and CI needs the browser tests." >&2; exit 1; }
    echo "NOTE: no /usr/bin/chromium: browser tests are left out of this run (sudo apt-get install chromium)." >&2
    pytest_args+=(-m "not e2e")
  fi
fi
# The label print check reads Chromium's PDF back with poppler (pdfinfo, pdftotext, pdftoppm).
if [ -x /usr/bin/chromium ] && ! command -v pdftoppm >/dev/null; then
  apt_install poppler-utils
  if ! command -v pdftoppm >/dev/null; then
    [ "$ci" = true ] && { echo "FAIL: pdftoppm is missing and CI needs the label print check." >&2; exit 1; }
    echo "NOTE: no pdftoppm: the label print check is skipped (sudo apt-get install poppler-utils)." >&2
  fi
fi
# The translation tests build a catalogue with makemessages and compilemessages: GNU gettext.
if ! command -v msgfmt >/dev/null; then
  apt_install gettext
  if ! command -v msgfmt >/dev/null; then
    [ "$ci" = true ] && { echo "FAIL: msgfmt is missing and CI needs the translation tests." >&2; exit 1; }
    echo "NOTE: no msgfmt: the translation tests are skipped (sudo apt-get install gettext)." >&2
  fi
fi

echo "== Test suite on SQLite =="
env -u DATABASE_URL .venv/bin/python -m pytest "${pytest_args[@]}"
echo "== Backup and restore check on SQLite =="
bash scripts/backup_restore_check.sh sqlite

pg_url="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/returns_desk}"
pg_ready() { .venv/bin/python - "$pg_url" <<'PY'
import sys, psycopg
from urllib.parse import urlsplit
url = urlsplit(sys.argv[1])
try:
    psycopg.connect(f"postgresql://{url.netloc}/postgres", connect_timeout=3).close()
except Exception as error:
    print(f"PostgreSQL not reachable: {error}".strip(), file=sys.stderr)
    sys.exit(1)
PY
}
if ! pg_ready && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  echo "Starting the local PostgreSQL cluster..."
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  sleep 2
fi
if pg_ready; then
  echo "== Test suite on PostgreSQL =="
  DATABASE_URL="$pg_url" .venv/bin/python -m pytest "${pytest_args[@]}"
  echo "== Backup and restore check on PostgreSQL =="
  bash scripts/backup_restore_check.sh postgres "${pg_url%/*}"
elif [ "$ci" = true ]; then
  echo "FAIL: PostgreSQL is not reachable at $pg_url and CI must run the suite on it." >&2
  exit 1
else
  echo "NOTE: PostgreSQL is not reachable at $pg_url: the PostgreSQL run was skipped." >&2
fi
