#!/bin/bash
# Benchmark of a disaster-recovery restore with the CLI against pg_restore alone, on
# pgbench data at each scale given (default: 50):
#   C  ripple-backup restore latest --create --jobs 2   (download from the S3 test
#      server, SHA-256 check, decompress, CREATE DATABASE, pg_restore -j 2, row counts)
#   P  createdb && pg_restore -j 2 of a local copy of the same archive
#      (already downloaded and decompressed: the floor)
# Prints wall times and the ratio C/P (target: at most 1.15).  The backup
# is taken once per scale with src/core's pipeline (build/tools/backup_run).
# Not a test: no assertion, just figures.  Run as root (it builds a throwaway cluster
# as the postgres user and starts the S3 test server).
set -euo pipefail
cd "$(dirname "$0")/.."
SCALES=("${@:-50}")
# shellcheck disable=SC2206
SCALES=(${SCALES[*]})
DIR=${BENCH_DIR:-/tmp/ripple_restore_bench}
PORT=${BENCH_PGPORT:-54341}
S3PORT=${BENCH_S3PORT:-45691}
PGBIN=$(pg_config --bindir)
ROOT=$PWD
as_pg() { runuser -u postgres -- "$@"; }

[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
# What the tests need (Debian packages, the S3 test server's npm modules), as
# `make test` installs it.
test/setup.sh
make -s -j"$(nproc)" all tools && make -s install

cleanup() {
  as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null 2>&1 || true
  [ -n "${S3PID:-}" ] && kill "$S3PID" 2>/dev/null || true
}
trap cleanup EXIT
cleanup
rm -rf "$DIR"; mkdir -p "$DIR/work"; chown -R postgres:postgres "$DIR"

NODE_OPTIONS=--openssl-legacy-provider node test/services/s3server.js --port "$S3PORT" \
  --directory "$DIR/s3" --bucket bench >"$DIR/s3.log" 2>&1 &
S3PID=$!
for _ in $(seq 1 50); do grep -q listening "$DIR/s3.log" && break; sleep 0.2; done
grep -q listening "$DIR/s3.log" || { echo "bench: the S3 test server did not start:" >&2; cat "$DIR/s3.log" >&2; exit 1; }

as_pg "$PGBIN/initdb" -D "$DIR/data" -U postgres -A trust >/dev/null
cat >>"$DIR/data/postgresql.conf" <<CONF
port = $PORT
listen_addresses = ''
unix_socket_directories = '$DIR'
shared_buffers = '256MB'
CONF
as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/postgresql.log" -w start >/dev/null
PSQL=("$PGBIN/psql" -X -q -At -h "$DIR" -p "$PORT" -U postgres -v ON_ERROR_STOP=1)
S3ENV=(AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1)
CLIENV=("${S3ENV[@]}" RIPPLE_BACKUP_DESTINATION=s3://bench/restore
  RIPPLE_BACKUP_S3_ENDPOINT="http://127.0.0.1:$S3PORT" RIPPLE_BACKUP_S3_URI_STYLE=path
  PGHOST="$DIR" PGPORT="$PORT" PGUSER=postgres)
SYSID=$(as_pg "${PSQL[@]}" -d postgres -c "SELECT system_identifier FROM pg_control_system()")

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l | xargs printf '%.2f'; }
ratio() { echo "$1 / $2" | bc -l | xargs printf '%.2f'; }

printf '%-6s %9s %11s %10s %8s %8s %6s\n' scale db_MB stored_B archive_B C_s P_s C/P
id=0
steps=()
for scale in "${SCALES[@]}"; do
  id=$((id + 1))
  db=bench_s$scale
  as_pg "${PSQL[@]}" -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  as_pg "$PGBIN/pgbench" -q -i -s "$scale" -h "$DIR" -p "$PORT" -U postgres "$db" >/dev/null 2>&1
  dbmb=$(as_pg "${PSQL[@]}" -d "$db" -c "SELECT pg_database_size('$db')/1048576")
  out=$(as_pg env "${S3ENV[@]}" "$ROOT/build/tools/backup_run" --dest s3://bench/restore --dbname "$db" \
    --host "$DIR" --port "$PORT" --id "$id" --sysid "$SYSID" \
    --s3-endpoint "http://127.0.0.1:$S3PORT" --s3-uri-style path)
  stored=$(sed -n 's/^size_bytes=//p' <<<"$out")
  archive=$(sed -n 's/^bytes_read=//p' <<<"$out")

  t0=$(now)
  line=$(as_pg env "${CLIENV[@]}" ripple-backup restore latest --db "$db" --dbname "r_cli_$db" --create \
    --jobs 2 --work-dir "$DIR/work" --no-progress 2>/dev/null)
  t1=$(now)
  steps+=("s$scale: ${line##*(}")
  C=$(secs "$t0" "$t1")

  as_pg env "${CLIENV[@]}" ripple-backup fetch latest --db "$db" -o "$DIR/work/local.dump" -q
  t0=$(now)
  as_pg "$PGBIN/createdb" -h "$DIR" -p "$PORT" -U postgres "r_pg_$db"
  as_pg "$PGBIN/pg_restore" -j 2 -h "$DIR" -p "$PORT" -U postgres -d "r_pg_$db" "$DIR/work/local.dump"
  t1=$(now)
  P=$(secs "$t0" "$t1")
  rm -f "$DIR/work/local.dump"

  printf '%-6s %9s %11s %10s %8s %8s %6s\n' "$scale" "$dbmb" "$stored" "$archive" "$C" "$P" "$(ratio "$C" "$P")"
done
printf 'C steps, %s\n' "${steps[@]}"
echo "C = ripple-backup restore --create --jobs 2 from S3 (download, check, decompress, restore, row counts)"
echo "P = createdb + pg_restore -j 2 of a local, already decompressed copy of the same archive"
