#!/bin/bash
# Benchmark of what client-side encryption costs a backup: the same backup of
# pgbench data (default scale 50) through the extension, with
# ripple_backup.encryption_key_file set and unset, in interleaved rounds (the order
# alternates each round, so that a drift in the machine's load falls on both), to a
# file:// destination (BENCH_DEST=s3 for the S3 test server).  Prints each round's
# times, the medians, the ratio of the medians encrypted/plain (the target is under
# 1.10) and the median of the per-round ratios (each round's pair ran back to back,
# so it is the steadier figure on a loaded machine), the stored sizes, and the load
# average before and after.  The time is the catalog's
# duration of the backup (pg_dump start to the stored object), so the launcher's
# polling does not count.
# Not a test: no assertion, just figures.  Run as root (it builds a throwaway cluster
# as the postgres user).
#
#   bench/encrypt_bench.sh [SCALE] [ROUNDS]      default: 50 5
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${1:-50}
ROUNDS=${2:-5}
DIR=${BENCH_DIR:-/tmp/ripple_backup_encrypt_bench}
PORT=${BENCH_PGPORT:-54341}
S3PORT=${BENCH_S3PORT:-45691}
DEST=${BENCH_DEST:-file}
PGBIN=$(pg_config --bindir)
as_pg() { runuser -u postgres -- "$@"; }

[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
if [ -z "${BENCH_NO_BUILD:-}" ]; then
  test/setup.sh
  make -s -j"$(nproc)" all && make -s install
fi

cleanup() {
  as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null 2>&1 || true
  [ -n "${S3PID:-}" ] && kill "$S3PID" 2>/dev/null || true
}
trap cleanup EXIT
cleanup
rm -rf "$DIR"; mkdir -p "$DIR/store"; chown -R postgres:postgres "$DIR"

# the key: 64 hex digits, readable by the server only
openssl rand -hex 32 >"$DIR/backup.key"
chown postgres "$DIR/backup.key"; chmod 600 "$DIR/backup.key"

if [ "$DEST" = s3 ]; then
  NODE_OPTIONS=--openssl-legacy-provider node test/services/s3server.js --port "$S3PORT" \
    --directory "$DIR/s3" --bucket bench >"$DIR/s3.log" 2>&1 &
  S3PID=$!
  for _ in $(seq 1 50); do grep -q listening "$DIR/s3.log" && break; sleep 0.2; done
  printf '[default]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n' >"$DIR/cred"
  chown postgres "$DIR/cred"; chmod 600 "$DIR/cred"
  DEST_CONF="ripple_backup.destination = 's3://bench/ripple'
ripple_backup.s3_endpoint = 'http://127.0.0.1:$S3PORT'
ripple_backup.s3_uri_style = 'path'
ripple_backup.s3_credentials_file = '$DIR/cred'"
else
  DEST_CONF="ripple_backup.destination = 'file://$DIR/store'"
fi

as_pg "$PGBIN/initdb" -D "$DIR/data" -U postgres -A trust >/dev/null
cat >>"$DIR/data/postgresql.conf" <<CONF
port = $PORT
listen_addresses = ''
unix_socket_directories = '$DIR'
shared_preload_libraries = 'ripple_backup'
shared_buffers = '256MB'
ripple_backup.verify_after_backup = off
ripple_backup.backup_retries = 0
$DEST_CONF
CONF
as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/postgresql.log" -w start >/dev/null
PSQL=("$PGBIN/psql" -X -q -At -h "$DIR" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1)
as_pg "${PSQL[@]}" -c "CREATE EXTENSION ripple_backup"
as_pg "$PGBIN/pgbench" -q -i -s "$SCALE" -h "$DIR" -p "$PORT" -U postgres postgres >/dev/null 2>&1
as_pg "${PSQL[@]}" -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
dbmb=$(as_pg "${PSQL[@]}" -c "SELECT pg_database_size('postgres')/1048576")

set_key() {
  as_pg "${PSQL[@]}" -c "ALTER SYSTEM SET ripple_backup.encryption_key_file = '$1'" -c "SELECT pg_reload_conf()" >/dev/null
  for _ in $(seq 1 50); do
    [ "$(as_pg "${PSQL[@]}" -c "SHOW ripple_backup.encryption_key_file")" = "$1" ] && break
    sleep 0.1
  done
  sleep 0.5
}
PM_PID=$(head -1 "$DIR/data/postmaster.pid")
TICKS=$(getconf CLK_TCK)
# one backup; prints "seconds stored_bytes encryption runner_cpu_seconds"
one() {
  local id status pid="" ticks=0 t
  id=$(as_pg "${PSQL[@]}" -c "SELECT ripple_backup_now('postgres', 'bench')")
  as_pg "${PSQL[@]}" -c "SELECT ripple_backup_wait($id, '30 minutes')" >"$DIR/status" &
  local waiter=$!
  # the runner of this backup: a child of this cluster's postmaster
  while kill -0 "$waiter" 2>/dev/null; do
    if [ -z "$pid" ]; then
      pid=$(ps -o pid=,args= --ppid "$PM_PID" | awk -v id="$id" '$0 ~ ("runner for backup " id "([^0-9]|$)") {print $1; exit}')
    fi
    if [ -n "$pid" ] && t=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null); then
      ticks=$t
    fi
    sleep 0.05
  done
  wait "$waiter"
  status=$(cat "$DIR/status")
  [ "$status" = succeeded ] || { echo "backup $id $status:" >&2; as_pg "${PSQL[@]}" -c "SELECT error FROM ripple_backup.backups WHERE id = $id" >&2; exit 1; }
  echo "$(as_pg "${PSQL[@]}" -F ' ' -c "SELECT round(extract(epoch FROM duration)::numeric, 2), size_bytes, encryption FROM ripple_backup.backups WHERE id = $id") $(echo "$ticks / $TICKS" | bc -l | xargs printf '%.2f')"
}
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.2f\n", (a[NR/2]+a[NR/2+1])/2}'; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "encryption benchmark: pgbench scale $SCALE ($dbmb MB), $ROUNDS interleaved rounds, destination $DEST, $(nproc) cores"
printf '%-6s %-10s %8s %12s %11s\n' round mode seconds stored_B runner_cpu
: >"$DIR/plain.txt"; : >"$DIR/enc.txt"; : >"$DIR/ratio.txt"; : >"$DIR/cpu_plain.txt"; : >"$DIR/cpu_enc.txt"
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then order="plain enc"; else order="enc plain"; fi
  for mode in $order; do
    if [ "$mode" = enc ]; then set_key "$DIR/backup.key"; else set_key ""; fi
    read -r s bytes enc cpu < <(one)
    [ "$mode" = enc ] && [ "$enc" = none ] && { echo "an encrypted round stored an unencrypted backup" >&2; exit 1; }
    [ "$mode" = plain ] && [ "$enc" != none ] && { echo "a plain round stored an encrypted backup" >&2; exit 1; }
    echo "$s" >>"$DIR/$mode.txt"
    echo "$cpu" >>"$DIR/cpu_$mode.txt"
    printf '%-6s %-10s %8s %12s %11s\n' "$r" "$mode" "$s" "$bytes" "$cpu"
    eval "t_$mode=$s"
    # each backup's object is removed: the store does not grow with the rounds
    rm -f "$DIR"/store/*/*/*/* 2>/dev/null || true
  done
  # shellcheck disable=SC2154
  echo "$t_enc / $t_plain" | bc -l >>"$DIR/ratio.txt"
done
mp=$(median <"$DIR/plain.txt")
me=$(median <"$DIR/enc.txt")
echo "median plain     ${mp} s"
echo "median encrypted ${me} s"
echo "ratio of the medians encrypted/plain $(echo "$me / $mp" | bc -l | xargs printf '%.3f') (target < 1.10)"
echo "median of the per-round ratios      $(median <"$DIR/ratio.txt" | xargs printf '%.3f')"
cp=$(median <"$DIR/cpu_plain.txt")
ce=$(median <"$DIR/cpu_enc.txt")
echo "runner CPU, medians: plain ${cp} s, encrypted ${ce} s, ratio $(echo "$ce / $cp" | bc -l | xargs printf '%.3f')"
echo "load average before: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)"
