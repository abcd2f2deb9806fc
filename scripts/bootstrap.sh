#!/usr/bin/env bash
# Create .venv with a Python 3.12+ and install the project (plus extras, e.g. "test") into it.
# Sourced by serve.sh and test.sh; safe to run again: it reinstalls only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

find_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3.14 python3.13 python3.12 python3 \
      "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python3; do
    [ -n "$candidate" ] || continue
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

extras="${1:-}"
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
  python=$(find_python) || {
    echo "Returns Desk needs Python 3.12 or newer (Django 6). Install one (e.g. python3.12) or set PYTHON=/path/to/python3.12." >&2
    exit 1
  }
  echo "Creating .venv with $($python --version)"
  rm -rf .venv
  "$python" -m venv .venv
fi

spec="."
[ -n "$extras" ] && spec=".[$extras]"
stamp=".venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)-${extras:-base}"
if [ ! -f "$stamp" ]; then
  echo "Installing dependencies ($spec)..."
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec" 2>&1 \
    | grep -v "is ignored: it is neither a file nor a directory" || true
  .venv/bin/python -c 'import django' || { echo "Installation failed." >&2; exit 1; }
  rm -f .venv/.installed-*
  touch "$stamp"
fi
