#!/bin/bash
# Benchmark of WAL archiving under a write load: `pgbench -c 4 -T 60` (default) at
# scale 50 (default), with
#   R  archive_library = 'ripple_backup'  (zstd level 3, SHA-256s, a metadata object,
#      to the S3 test server)
#   C  archive_command = 'zstd -q -c %p | aws s3 cp - s3://bench/cmd/%f.zst'  (Debian's
#      awscli, to the same S3 test server)
# in one run, in interleaved rounds (R C R C ...; BENCH_ROUNDS, default 3), on one
# cluster restarted between rounds.  For each round: WAL segments written and archived
# per second while pgbench runs, the archiver's lag (files .ready in
# pg_wal/archive_status, sampled every second: the largest count and the count when
# pgbench ends) and the drain time (from the end of pgbench until nothing is .ready;
# given up after BENCH_DRAIN_MAX seconds, default 900).  Then, with archiving held
# (R: ripple_backup.destination empty; C: archive_command empty, so the server keeps
# the WAL), a backlog of full segments (CREATE TABLE AS of BENCH_BACKLOG_ROWS rows
# of pgbench_accounts, default 3000000; 0 = no backlog phase) and the rate at which
# the archiver catches up once archiving is configured again (what an outage
# leaves).  Prints every round, the medians and the ratios R/C.  Not a test: no assertion, just figures.  Run as root
# (it builds a throwaway cluster as the postgres user and starts the S3 test server).
#
#   bench/wal_archive_bench.sh [SCALE [SECONDS]]
# Environment: BENCH_ROUNDS, BENCH_CLIENTS (4), BENCH_DRAIN_MAX, BENCH_MODES ("R C"),
# BENCH_RIPPLE_CONF (extra postgresql.conf lines for R rounds).
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${1:-50}
SECS=${2:-60}
ROUNDS=${BENCH_ROUNDS:-3}
CLIENTS=${BENCH_CLIENTS:-4}
DRAIN_MAX=${BENCH_DRAIN_MAX:-900}
BACKLOG_ROWS=${BENCH_BACKLOG_ROWS:-3000000}
# shellcheck disable=SC2206
MODES=(${BENCH_MODES:-R C})
DIR=${BENCH_DIR:-/tmp/ripple_backup_wal_bench.$$}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=${BENCH_PGPORT:-$(free_port)}
S3PORT=${BENCH_S3PORT:-$(free_port)}
PGBIN=$(pg_config --bindir)
AWS=/usr/bin/aws
as_pg() { runuser -u postgres -- "$@"; }

[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
# What the tests need (Debian packages, the S3 test server's npm modules), as
# `make test` installs it.
test/setup.sh
make -s -j"$(nproc)" all && make -s install

cleanup() {
  [ -n "${SAMPLER:-}" ] && kill "$SAMPLER" 2>/dev/null || true
  as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null 2>&1 || true
  [ -n "${S3PID:-}" ] && kill "$S3PID" 2>/dev/null || true
}
trap 'cleanup; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$DIR"' EXIT
cleanup
rm -rf "$DIR"; mkdir -p "$DIR"; chown postgres:postgres "$DIR"

NODE_OPTIONS=--openssl-legacy-provider node test/services/s3server.js --port "$S3PORT" \
  --directory "$DIR/s3" --bucket bench >"$DIR/s3.log" 2>&1 &
S3PID=$!
for _ in $(seq 1 50); do grep -q listening "$DIR/s3.log" && break; sleep 0.2; done
grep -q listening "$DIR/s3.log" || { echo "bench: the S3 test server did not start:" >&2; cat "$DIR/s3.log" >&2; exit 1; }
printf '[default]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n' >"$DIR/cred"
chown postgres "$DIR/cred"; chmod 600 "$DIR/cred"

# archive_command's environment: the same credentials file, no instance metadata lookups.
ARCHIVE_COMMAND="zstd -q -c %p | AWS_SHARED_CREDENTIALS_FILE=$DIR/cred AWS_CONFIG_FILE=/dev/null AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true $AWS --endpoint-url http://127.0.0.1:$S3PORT s3 cp --quiet - s3://bench/cmd/%f.zst"

as_pg "$PGBIN/initdb" -D "$DIR/data" -U postgres -A trust >/dev/null
cat >>"$DIR/data/postgresql.conf" <<CONF
port = $PORT
listen_addresses = ''
unix_socket_directories = '$DIR'
shared_preload_libraries = 'ripple_backup'
shared_buffers = '256MB'
max_wal_size = '4GB'
archive_mode = on
ripple_backup.verify_after_backup = off
ripple_backup.destination = 's3://bench/ripple'
ripple_backup.s3_endpoint = 'http://127.0.0.1:$S3PORT'
ripple_backup.s3_uri_style = 'path'
ripple_backup.s3_credentials_file = '$DIR/cred'
include = 'archive.conf'
CONF
PSQL=("$PGBIN/psql" -X -q -At -h "$DIR" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1)
sql() { as_pg "${PSQL[@]}" -c "$1"; }
ready_count() { find "$DIR/data/pg_wal/archive_status" -name '*.ready' | wc -l; }
now() { date +%s.%N; }
fmt() { echo "$1" | bc -l | xargs printf '%.2f'; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Switches the cluster to mode R or C (a restart) and waits until nothing is pending.
use_mode() {
  if [ "$1" = R ]; then
    { echo "archive_library = 'ripple_backup'"; echo "archive_command = ''"
      [ -n "${BENCH_RIPPLE_CONF:-}" ] && printf '%s\n' "$BENCH_RIPPLE_CONF"; } >"$DIR/data/archive.conf"
  else
    { echo "archive_library = ''"; printf "archive_command = '%s'\n" "$ARCHIVE_COMMAND"; } >"$DIR/data/archive.conf"
  fi
  chown postgres "$DIR/data/archive.conf"
  if [ -f "$DIR/data/postmaster.pid" ]; then
    as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m fast -w restart -l "$DIR/postgresql.log" >/dev/null
  else
    as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/postgresql.log" -w start >/dev/null
  fi
  wait_drained 1800 >/dev/null || { echo "bench: the backlog before a round did not drain" >&2; exit 1; }
}

# Waits until no file is .ready (at most $1 s); prints the seconds it took.
wait_drained() {
  local t0 deadline
  t0=$(now); deadline=$(( $(date +%s) + $1 ))
  while [ "$(ready_count)" -gt 0 ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { fmt "$(now) - $t0"; return 1; }
    sleep 0.2
  done
  fmt "$(now) - $t0"
}

use_mode R
sql "CREATE EXTENSION ripple_backup"
for _ in $(seq 1 300); do [ "$(sql 'SELECT count(*) FROM ripple_backup.incarnation')" = 1 ] && break; sleep 0.2; done
echo "bench: pgbench -i -s $SCALE"
as_pg "$PGBIN/pgbench" -q -i -s "$SCALE" -h "$DIR" -p "$PORT" -U postgres postgres >/dev/null 2>&1
sql "VACUUM ANALYZE"
sql "CHECKPOINT"
wait_drained 1800 >/dev/null

# Holds archiving, writes a backlog, lets it go; sets BACKLOG (files) and CATCHUP (files/s).
backlog_phase() {
  local setting t0 t1
  if [ "$1" = R ]; then setting=ripple_backup.destination; else setting=archive_command; fi
  sql "ALTER SYSTEM SET $setting = ''"; sql "SELECT pg_reload_conf()" >/dev/null
  sleep 1
  sql "CREATE TABLE backlog AS SELECT * FROM pgbench_accounts LIMIT $BACKLOG_ROWS"
  sql "DROP TABLE backlog"
  sql "SELECT pg_switch_wal()" >/dev/null
  BACKLOG=$(ready_count)
  t0=$(now)
  sql "ALTER SYSTEM RESET $setting"; sql "SELECT pg_reload_conf()" >/dev/null
  wait_drained "$DRAIN_MAX" >/dev/null || echo "bench: the backlog did not drain in $DRAIN_MAX s" >&2
  t1=$(now)
  CATCHUP=$(fmt "$BACKLOG / ($t1 - $t0)")
}

declare -A ROWS
printf '%-5s %5s %7s %9s %9s %8s %8s %9s %8s %8s %10s\n' round mode tps wal_seg/s arch_seg/s max_pend end_pend drain_s ok backlog catchup/s
for round in $(seq 1 "$ROUNDS"); do
  for mode in "${MODES[@]}"; do
    use_mode "$mode"
    sql "CHECKPOINT"
    a0=$(sql "SELECT archived_count FROM pg_stat_archiver")
    l0=$(sql "SELECT pg_current_wal_lsn()")
    ( while :; do echo "$(ready_count)"; sleep 1; done ) >"$DIR/pending.$round.$mode" &
    SAMPLER=$!
    t0=$(now)
    tps=$(as_pg "$PGBIN/pgbench" -n -c "$CLIENTS" -j 2 -T "$SECS" -h "$DIR" -p "$PORT" -U postgres postgres 2>/dev/null |
      sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1)
    t1=$(now)
    a1=$(sql "SELECT archived_count FROM pg_stat_archiver")
    end_pend=$(ready_count)
    walseg=$(sql "SELECT round(pg_wal_lsn_diff(pg_current_wal_lsn(), '$l0') / 16777216.0, 2)")
    ok=yes
    drain=$(wait_drained "$DRAIN_MAX") || ok="gave up"
    kill "$SAMPLER"; wait "$SAMPLER" 2>/dev/null || true; SAMPLER=
    maxp=$(sort -n "$DIR/pending.$round.$mode" | tail -1)
    [ "$end_pend" -gt "${maxp:-0}" ] && maxp=$end_pend
    wrate=$(fmt "$walseg / ($t1 - $t0)")
    arate=$(fmt "($a1 - $a0) / ($t1 - $t0)")
    BACKLOG=- CATCHUP=-
    if [ "$BACKLOG_ROWS" -gt 0 ]; then backlog_phase "$mode"; ROWS[$mode.catchup]+=" $CATCHUP"; fi
    printf '%-5s %5s %7.0f %9s %9s %8s %8s %9s %8s %8s %10s\n' "$round" "$mode" "$tps" "$wrate" "$arate" "$maxp" "$end_pend" "$drain" "$ok" "$BACKLOG" "$CATCHUP"
    ROWS[$mode.tps]+=" $tps"; ROWS[$mode.w]+=" $wrate"; ROWS[$mode.a]+=" $arate"
    ROWS[$mode.max]+=" $maxp"; ROWS[$mode.end]+=" $end_pend"; ROWS[$mode.drain]+=" $drain"
  done
done

echo
echo "medians of $ROUNDS rounds, pgbench -c $CLIENTS -T $SECS at scale $SCALE:"
printf '%-5s %7s %9s %9s %8s %8s %9s %10s\n' mode tps wal_seg/s arch_seg/s max_pend end_pend drain_s catchup/s
declare -A MED
for mode in "${MODES[@]}"; do
  MED[$mode.catchup]=-
  for f in tps w a max end drain catchup; do
    [ -n "${ROWS[$mode.$f]:-}" ] || continue
    # shellcheck disable=SC2086
    MED[$mode.$f]=$(median ${ROWS[$mode.$f]})
  done
  printf '%-5s %7.0f %9s %9s %8s %8s %9s %10s\n' "$mode" "${MED[$mode.tps]}" "${MED[$mode.w]}" "${MED[$mode.a]}" \
    "${MED[$mode.max]}" "${MED[$mode.end]}" "${MED[$mode.drain]}" "${MED[$mode.catchup]}"
done
if [ -n "${ROWS[R.a]:-}" ] && [ -n "${ROWS[C.a]:-}" ]; then
  ratio() { if [ "$1" = - ] || [ "$2" = - ] || [ "$(echo "$2 == 0" | bc -l)" = 1 ]; then echo "-"; else fmt "$1 / $2"; fi; }
  echo "ratios R/C: archived seg/s $(ratio "${MED[R.a]}" "${MED[C.a]}"), max pending $(ratio "${MED[R.max]}" "${MED[C.max]}"), pending at the end $(ratio "${MED[R.end]}" "${MED[C.end]}"), drain time $(ratio "${MED[R.drain]}" "${MED[C.drain]}"), backlog catch-up rate $(ratio "${MED[R.catchup]}" "${MED[C.catchup]}")"
fi
echo "R = archive_library 'ripple_backup'; C = archive_command 'zstd -q -c %p | aws s3 cp - s3://...'"
echo "backlog = files .ready after a held archiver and CREATE TABLE AS of $BACKLOG_ROWS rows; catchup = backlog / seconds until none is .ready"
echo "pending = files .ready in pg_wal/archive_status, sampled every second; drain = seconds from the end of pgbench until none is .ready"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
