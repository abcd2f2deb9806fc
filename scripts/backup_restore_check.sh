#!/usr/bin/env bash
# Prove a backup restores: seed a throwaway database (demo data plus units pushed through the
# services), back it up, restore the backup into a fresh database, and run check_integrity on
# the copy. Everything is created under temporary names on 127.0.0.1 and removed afterwards.
#
#   scripts/backup_restore_check.sh sqlite
#   scripts/backup_restore_check.sh postgres [postgres://postgres@127.0.0.1:5432]
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:?usage: $0 sqlite|postgres [server URL]}"
units="${UNITS:-5}"
py=.venv/bin/python
# Customer e-mails are sent on commit; a throwaway database has no mail server to send them to.
export EMAIL_BACKEND=django.core.mail.backends.locmem.EmailBackend LOG_LEVEL=WARNING
unset DJANGO_SETTINGS_MODULE

manage() { DATABASE_URL="$1" "$py" manage.py "${@:2}" 2> >(grep -v '^AXES: ' >&2); }
seed() {
  manage "$1" migrate -v0
  # The demo's weeks of work roll up the dashboard, which keeps its live figures in this table.
  manage "$1" createcachetable
  manage "$1" seed_demo >/dev/null
  manage "$1" process_demo_units --count "$units"
  manage "$1" check_integrity
}
# Units and history rows: a copy that passes check_integrity must also hold every one of them.
rows() {
  manage "$1" shell --no-imports -c "from returns_desk.models import ItemEvent, ReturnItem
print(ReturnItem.objects.count(), ItemEvent.objects.count())"
}
verify() {
  local before after
  before="$(rows "$1")" after="$(rows "$2")"
  echo "units, history events: source $before, restored $after"
  [ "$before" = "$after" ] && [ "${before%% *}" -ge "$units" ] || { echo "FAIL: rows differ" >&2; exit 1; }
  manage "$2" check_integrity
}

case "$kind" in
  sqlite)
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    seed "sqlite:///$work/source.sqlite3"
    # The online backup API copies a consistent snapshot even while the app is writing (WAL).
    sqlite3 "$work/source.sqlite3" ".backup '$work/backup.sqlite3'"
    cp "$work/backup.sqlite3" "$work/restored.sqlite3"
    verify "sqlite:///$work/source.sqlite3" "sqlite:///$work/restored.sqlite3"
    ;;
  postgres)
    server="${2:-postgres://postgres@127.0.0.1:5432}"
    suffix="$$_$(date +%s)"
    source_db="rd_backup_source_$suffix" restored_db="rd_backup_restored_$suffix"
    dump="$(mktemp --suffix=.dump)"
    cleanup() {
      rm -f "$dump"
      dropdb --if-exists --maintenance-db="$server/postgres" "$source_db" || true
      dropdb --if-exists --maintenance-db="$server/postgres" "$restored_db" || true
    }
    trap cleanup EXIT
    createdb --maintenance-db="$server/postgres" "$source_db"
    seed "$server/$source_db"
    pg_dump --format=custom --file="$dump" "$server/$source_db"
    createdb --maintenance-db="$server/postgres" "$restored_db"
    # --no-owner: the copy belongs to whoever restores it, as on a fresh server.
    pg_restore --no-owner --exit-on-error --dbname="$server/$restored_db" "$dump"
    echo "Restored a $(du -h "$dump" | cut -f1) dump of $source_db into $restored_db"
    verify "$server/$source_db" "$server/$restored_db"
    ;;
  *)
    echo "usage: $0 sqlite|postgres [server URL]" >&2
    exit 2
    ;;
esac
echo "Backup and restore verified ($kind)."
