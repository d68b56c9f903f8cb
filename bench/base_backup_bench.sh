#!/bin/bash
# Benchmark of one physical base backup through the extension against the bare pipe, on
# pgbench data at each scale given (default: 10), each measured RUNS times (default 3):
#   P  pg_basebackup -Ft -D - -X none --checkpoint=fast | zstd -3 > /dev/null  (the floor)
#   R  SELECT ripple_backup_base_backup(), until the catalog says succeeded
#      (the same pg_basebackup, zstd level 3, SHA-256 and a multipart upload to the S3
#      test server)
# Prints the median wall times, R/P and the object sizes.  Not a test: no assertion,
# just figures.  Run as root (it builds a throwaway cluster as the postgres user and
# starts the S3 test server).
set -euo pipefail
cd "$(dirname "$0")/.."
SCALES=("${@:-10}")
RUNS=${BENCH_RUNS:-3}
# shellcheck disable=SC2206
SCALES=(${SCALES[*]})
DIR=${BENCH_DIR:-/tmp/ripple_backup_base_bench}
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
ripple_backup.verify_after_backup = off
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
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '%-6s %9s %8s %8s %7s %12s %12s  %s\n' scale db_MB P_s R_s R/P zstd_B ripple_B "runs (P; R)"
for scale in "${SCALES[@]}"; do
  as_pg "$PGBIN/pgbench" -q -i -s "$scale" -h "$DIR" -p "$PORT" -U postgres postgres >/dev/null 2>&1
  as_pg "${PSQL[@]}" -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
  dbmb=$(as_pg "${PSQL[@]}" -c "SELECT (sum(pg_database_size(oid))/1048576)::bigint FROM pg_database")
  Ps=(); Rs=()
  for _ in $(seq 1 "$RUNS"); do
    t0=$(now)
    as_pg bash -c "'$PGBIN/pg_basebackup' -h '$DIR' -p $PORT -U postgres -Ft -D - -X none --checkpoint=fast | zstd -q -3 > /dev/null"
    t1=$(now)
    Ps+=("$(secs "$t0" "$t1")")

    t0=$(now)
    id=$(as_pg "${PSQL[@]}" -c "SELECT ripple_backup_base_backup('bench s$scale')")
    st=$(as_pg "${PSQL[@]}" -c "SELECT ripple_backup_wait($id, '30 minutes')")
    t1=$(now)
    [ "$st" = succeeded ] || { echo "base backup $id failed:"; as_pg "${PSQL[@]}" -c "SELECT error FROM ripple_backup.backups WHERE id = $id"; exit 1; }
    Rs+=("$(secs "$t0" "$t1")")
  done
  zsize=$(as_pg bash -c "'$PGBIN/pg_basebackup' -h '$DIR' -p $PORT -U postgres -Ft -D - -X none --checkpoint=fast | zstd -q -3 | wc -c")
  rsize=$(as_pg "${PSQL[@]}" -c "SELECT size_bytes FROM ripple_backup.backups WHERE id = $id")
  P=$(median "${Ps[@]}"); R=$(median "${Rs[@]}")
  printf '%-6s %9s %8s %8s %7s %12s %12s  %s; %s\n' "$scale" "$dbmb" "$P" "$R" "$(ratio "$R" "$P")" \
    "$zsize" "$rsize" "${Ps[*]}" "${Rs[*]}"
done
echo "P = pg_basebackup -Ft -D - -X none --checkpoint=fast | zstd -3 > /dev/null; R = ripple_backup_base_backup() to S3"
echo "R is measured from the queueing call to ripple_backup_wait's answer; medians of $RUNS runs."
