#!/bin/bash
# `make demo`: the main job end to end on a throwaway setup.
#   1. installs what is missing (test/setup.sh), builds and installs ripple_backup;
#   2. starts a throwaway PostgreSQL 15 cluster (as the postgres user, in
#      $DEMO_DIR) with shared_preload_libraries = 'ripple_backup', and the local S3
#      test server with a bucket "demo";
#   3. loads pgbench data, CREATE EXTENSION, SELECT ripple_backup_wait(ripple_backup_now());
#   4. shows the catalog row, the per-table counts and the objects in the bucket
#      (read back with awscli), then verifies the backup: SHA-256 of the object
#      against the catalog, and the archive's table of contents with pg_restore --list.
# Everything is stopped at the end unless DEMO_KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEMO_DIR=${DEMO_DIR:-/tmp/ripple_backup_demo}
PGPORT_DEMO=${PGPORT_DEMO:-54329}
S3PORT=${S3PORT:-45679}

if [ "$(id -u)" != 0 ]; then
  echo "demo: run as root (sudo make demo): it installs packages and the extension" >&2
  exit 1
fi

test/setup.sh
make -s -j"$(nproc)" all
make -s install

PGBIN=$(pg_config --bindir)
AWS=/usr/bin/aws
as_pg() { runuser -u postgres -- "$@"; }

cleanup() {
  if [ -z "${DEMO_KEEP:-}" ]; then
    as_pg "$PGBIN/pg_ctl" -D "$DEMO_DIR/data" -m fast stop >/dev/null 2>&1 || true
    [ -n "${S3PID:-}" ] && kill "$S3PID" 2>/dev/null || true
  else
    echo "demo: left running (DEMO_KEEP=1): psql -h $DEMO_DIR -p $PGPORT_DEMO -U postgres"
  fi
}
trap cleanup EXIT

as_pg "$PGBIN/pg_ctl" -D "$DEMO_DIR/data" -m fast stop >/dev/null 2>&1 || true
rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"
chown postgres:postgres "$DEMO_DIR"

echo "== starting the S3 test server on 127.0.0.1:$S3PORT (bucket demo)"
NODE_OPTIONS=--openssl-legacy-provider node test/services/s3server.js \
  --port "$S3PORT" --directory "$DEMO_DIR/s3" --bucket demo >"$DEMO_DIR/s3.log" 2>&1 &
S3PID=$!
for _ in $(seq 1 50); do grep -q listening "$DEMO_DIR/s3.log" && break; sleep 0.2; done

# Credentials live in a file only the server can read, never in a setting.
cat >"$DEMO_DIR/aws_credentials" <<CRED
[default]
aws_access_key_id = S3RVER
aws_secret_access_key = S3RVER
CRED
chown postgres:postgres "$DEMO_DIR/aws_credentials"
chmod 600 "$DEMO_DIR/aws_credentials"

echo "== creating a throwaway cluster in $DEMO_DIR/data (port $PGPORT_DEMO)"
as_pg "$PGBIN/initdb" -D "$DEMO_DIR/data" -U postgres -A trust >/dev/null
cat >>"$DEMO_DIR/data/postgresql.conf" <<CONF
port = $PGPORT_DEMO
listen_addresses = ''
unix_socket_directories = '$DEMO_DIR'
shared_preload_libraries = 'ripple_backup'
ripple_backup.destination = 's3://demo/backups'
ripple_backup.s3_endpoint = 'http://127.0.0.1:$S3PORT'
ripple_backup.s3_uri_style = 'path'
ripple_backup.s3_credentials_file = '$DEMO_DIR/aws_credentials'
CONF
as_pg "$PGBIN/pg_ctl" -D "$DEMO_DIR/data" -l "$DEMO_DIR/postgresql.log" -w start >/dev/null

PSQL=("$PGBIN/psql" -X -q -h "$DEMO_DIR" -p "$PGPORT_DEMO" -U postgres -v ON_ERROR_STOP=1)
echo "== loading pgbench data (scale 5) and installing the extension"
as_pg "$PGBIN/pgbench" -q -i -s 5 -h "$DEMO_DIR" -p "$PGPORT_DEMO" -U postgres postgres >/dev/null 2>&1
as_pg "${PSQL[@]}" -d postgres -c "CREATE EXTENSION ripple_backup"

echo "== SELECT ripple_backup_wait(ripple_backup_now(label => 'demo'))"
as_pg "${PSQL[@]}" -d postgres -c "SELECT ripple_backup_wait(ripple_backup_now(label => 'demo')) AS status"
as_pg "${PSQL[@]}" -d postgres -x -c "SELECT id, dbname, backup_type, label, status, size_bytes, sha256, location, finished_at - started_at AS took, error FROM ripple_backup.backups ORDER BY id DESC LIMIT 1"
as_pg "${PSQL[@]}" -d postgres -c "SELECT * FROM ripple_backup_stats()"

status=$(as_pg "${PSQL[@]}" -d postgres -At -c "SELECT status FROM ripple_backup.backups ORDER BY id DESC LIMIT 1")
[ "$status" = succeeded ] || { echo "demo: the backup did not succeed" >&2; exit 1; }

echo "== the bucket, read back with awscli"
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1
$AWS --endpoint-url "http://127.0.0.1:$S3PORT" s3 ls --recursive s3://demo/

echo "== verifying: checksum and archive table of contents"
location=$(as_pg "${PSQL[@]}" -d postgres -At -c "SELECT location FROM ripple_backup.backups ORDER BY id DESC LIMIT 1")
sha=$(as_pg "${PSQL[@]}" -d postgres -At -c "SELECT sha256 FROM ripple_backup.backups ORDER BY id DESC LIMIT 1")
$AWS --endpoint-url "http://127.0.0.1:$S3PORT" s3 cp --quiet "$location" "$DEMO_DIR/backup.dump.zst"
$AWS --endpoint-url "http://127.0.0.1:$S3PORT" s3 cp --quiet "$location.metadata.json" - | head -c 600; echo
got=$(sha256sum "$DEMO_DIR/backup.dump.zst" | cut -d' ' -f1)
if [ "$got" = "$sha" ]; then echo "checksum ok: $got"; else echo "checksum MISMATCH: $got != $sha" >&2; exit 1; fi
zstd -q -d -c "$DEMO_DIR/backup.dump.zst" >"$DEMO_DIR/backup.dump"
"$PGBIN/pg_restore" --list "$DEMO_DIR/backup.dump" | grep -c 'TABLE DATA' | sed 's/^/archive ok: table data entries: /'
echo "== demo finished"
