#!/bin/bash
# Benchmark of one backup through the extension against the obvious alternatives, on
# pgbench data at each scale given (default: 10 50):
#   A  pg_dump -Fc > /dev/null                        (the floor: dump and compress, store nothing)
#   B  pg_dump -Fc | aws s3 cp - s3://bench/...       (what a cron script would do)
#   R  SELECT ripple_backup_wait(ripple_backup_now()) (ripple_backup, zstd, to the same S3 server)
# Prints wall times, the ratios R/A and R/B, object sizes (R against pg_dump -Fc's), and
# the peak RSS of the runner (sampled from /proc while it runs) at each scale.
# Not a test: no assertion, just figures.  Run as root (it builds a throwaway cluster
# as the postgres user and starts the S3 test server).
set -euo pipefail
cd "$(dirname "$0")/.."
SCALES=("${@:-10 50}")
# shellcheck disable=SC2206
SCALES=(${SCALES[*]})
DIR=${BENCH_DIR:-/tmp/ripple_backup_bench}
PORT=${BENCH_PGPORT:-54339}
S3PORT=${BENCH_S3PORT:-45689}
PGBIN=$(pg_config --bindir)
AWS=/usr/bin/aws
as_pg() { runuser -u postgres -- "$@"; }

[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
# What the tests need (Debian packages, the S3 test server's npm modules), as
# `make test` installs it.
test/setup.sh
make -s -j"$(nproc)" all && make -s install

cleanup() {
  as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null 2>&1 || true
  [ -n "${S3PID:-}" ] && kill "$S3PID" 2>/dev/null || true
}
trap cleanup EXIT
cleanup
rm -rf "$DIR"; mkdir -p "$DIR"; chown postgres:postgres "$DIR"

NODE_OPTIONS=--openssl-legacy-provider node test/services/s3server.js --port "$S3PORT" \
  --directory "$DIR/s3" --bucket bench >"$DIR/s3.log" 2>&1 &
S3PID=$!
for _ in $(seq 1 50); do grep -q listening "$DIR/s3.log" && break; sleep 0.2; done
grep -q listening "$DIR/s3.log" || { echo "bench: the S3 test server did not start:" >&2; cat "$DIR/s3.log" >&2; exit 1; }
printf '[default]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n' >"$DIR/cred"
chown postgres "$DIR/cred"; chmod 600 "$DIR/cred"

as_pg "$PGBIN/initdb" -D "$DIR/data" -U postgres -A trust >/dev/null
cat >>"$DIR/data/postgresql.conf" <<CONF
port = $PORT
listen_addresses = ''
unix_socket_directories = '$DIR'
shared_preload_libraries = 'ripple_backup'
shared_buffers = '256MB'
ripple_backup.destination = 's3://bench/ripple'
ripple_backup.s3_endpoint = 'http://127.0.0.1:$S3PORT'
ripple_backup.s3_uri_style = 'path'
ripple_backup.s3_credentials_file = '$DIR/cred'
CONF
as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/postgresql.log" -w start >/dev/null
PSQL=("$PGBIN/psql" -X -q -At -h "$DIR" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1)
as_pg "${PSQL[@]}" -c "CREATE EXTENSION ripple_backup"
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l | xargs printf '%.2f'; }
ratio() { echo "$1 / $2" | bc -l | xargs printf '%.2f'; }

printf '%-6s %9s %8s %8s %8s %7s %7s %12s %12s %10s\n' scale db_MB A_s B_s R_s R/A R/B pgdumpFc_B ripple_B runner_RSS
for scale in "${SCALES[@]}"; do
  as_pg "$PGBIN/pgbench" -q -i -s "$scale" -h "$DIR" -p "$PORT" -U postgres postgres >/dev/null 2>&1
  as_pg "${PSQL[@]}" -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
  dbmb=$(as_pg "${PSQL[@]}" -c "SELECT pg_database_size('postgres')/1048576")

  t0=$(now); as_pg "$PGBIN/pg_dump" -Fc -h "$DIR" -p "$PORT" -U postgres postgres >/dev/null; t1=$(now)
  A=$(secs "$t0" "$t1")
  fcsize=$(as_pg "$PGBIN/pg_dump" -Fc -h "$DIR" -p "$PORT" -U postgres postgres | wc -c)

  t0=$(now)
  as_pg "$PGBIN/pg_dump" -Fc -h "$DIR" -p "$PORT" -U postgres postgres |
    $AWS --endpoint-url "http://127.0.0.1:$S3PORT" s3 cp --quiet - "s3://bench/awscli/s$scale.dump"
  t1=$(now)
  B=$(secs "$t0" "$t1")

  # R, with the runner's peak RSS sampled from /proc while it runs
  id=$(as_pg "${PSQL[@]}" -c "SELECT ripple_backup_now(label => 'bench s$scale')")
  t0=$(now)
  peak=0
  while :; do
    st=$(as_pg "${PSQL[@]}" -c "SELECT status FROM ripple_backup.backups WHERE id = $id")
    case $st in succeeded|failed) break ;; esac
    pid=$(as_pg "${PSQL[@]}" -c "SELECT pid FROM ripple_backup.progress WHERE backup_id = $id" || true)
    if [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; then
      hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
      [ "${hwm:-0}" -gt "$peak" ] && peak=$hwm
    fi
    sleep 0.05
  done
  t1=$(now)
  R=$(secs "$t0" "$t1")
  [ "$st" = succeeded ] || { echo "backup $id failed:"; as_pg "${PSQL[@]}" -c "SELECT error FROM ripple_backup.backups WHERE id = $id"; exit 1; }
  rsize=$(as_pg "${PSQL[@]}" -c "SELECT size_bytes FROM ripple_backup.backups WHERE id = $id")
  printf '%-6s %9s %8s %8s %8s %7s %7s %12s %12s %8sMB\n' "$scale" "$dbmb" "$A" "$B" "$R" \
    "$(ratio "$R" "$A")" "$(ratio "$R" "$B")" "$fcsize" "$rsize" "$((peak / 1024))"
done
echo "A = pg_dump -Fc > /dev/null; B = pg_dump -Fc | aws s3 cp -; R = ripple_backup to the same S3 server"
echo "R is measured from the queueing call to the catalog's 'succeeded' (polled every 50 ms)."
