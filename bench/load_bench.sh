#!/bin/bash
# Benchmark of what a backup costs the workload it protects: pgbench TPS (scale 50,
# -c 4 -T 30) on one cluster
#   N  with no backup running
#   R  while backups through the extension run back to back for the whole window
#      (SELECT ripple_backup_wait(ripple_backup_now()) in a loop, to the S3 test server)
#   B  while `pg_dump -Fc | aws s3 cp - s3://...` runs back to back (the cron script peer)
# plus, when VARIANTS names it, RN: R with ripple_backup.backup_nice = 19.  The variants are interleaved
# (their order rotates each round) and the medians over the rounds give the ratios
# R/N and B/N (1.00 = no impact).  Each backup variant also reports how many backups
# finished inside the window and their median duration under load.
#   bench/load_bench.sh [SECONDS [ROUNDS]]     defaults: 30 s, 3 rounds
# Environment: SCALE (50), VARIANTS ("N R B"; "N R B RN" adds backup_nice), BENCH_DIR,
# BENCH_PGPORT, BENCH_S3PORT.
# Not a test: no assertion, just figures.  Run as root (it builds a throwaway cluster
# as the postgres user and starts the S3 test server).
set -euo pipefail
cd "$(dirname "$0")/.."
T=${1:-30}
ROUNDS=${2:-3}
SCALE=${SCALE:-50}
# shellcheck disable=SC2206
VARIANTS=(${VARIANTS:-N R B})
DIR=${BENCH_DIR:-/tmp/ripple_load_bench}
PORT=${BENCH_PGPORT:-54343}
S3PORT=${BENCH_S3PORT:-45693}
PGBIN=$(pg_config --bindir)
AWS=/usr/bin/aws
as_pg() { runuser -u postgres -- "$@"; }

[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
# What the tests need (Debian packages, the S3 test server's npm modules), as
# `make test` installs it.
test/setup.sh
make -s -j"$(nproc)" all && make -s install

cleanup() {
  [ -n "${LOOPPID:-}" ] && kill "$LOOPPID" 2>/dev/null || true
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
max_wal_size = '2GB'
ripple_backup.destination = 's3://bench/ripple'
ripple_backup.s3_endpoint = 'http://127.0.0.1:$S3PORT'
ripple_backup.s3_uri_style = 'path'
ripple_backup.s3_credentials_file = '$DIR/cred'
ripple_backup.verify_after_backup = off
CONF
as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/postgresql.log" -w start >/dev/null
PSQL=("$PGBIN/psql" -X -q -At -h "$DIR" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1)
as_pg "${PSQL[@]}" -c "CREATE EXTENSION ripple_backup"
as_pg "$PGBIN/pgbench" -q -i -s "$SCALE" -h "$DIR" -p "$PORT" -U postgres postgres >/dev/null 2>&1
as_pg "${PSQL[@]}" -c "VACUUM ANALYZE" -c "CHECKPOINT"
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1

now() { date +%s.%N; }
ratio() { echo "$1 / $2" | bc -l | xargs printf '%.2f'; }
median() { sort -g | awk '{a[NR] = $1} END {if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# The settings a variant runs with (ALTER SYSTEM + reload; the runner reads them at start)
settings() {
  as_pg "${PSQL[@]}" -c "ALTER SYSTEM RESET ripple_backup.backup_nice" >/dev/null
  case $1 in
    RN) as_pg "${PSQL[@]}" -c "ALTER SYSTEM SET ripple_backup.backup_nice = 19" >/dev/null ;;
  esac
  as_pg "${PSQL[@]}" -c "SELECT pg_reload_conf()" >/dev/null
}

# One backup of the variant, to completion; prints its duration
one_backup() {
  local t0 t1 st
  t0=$(now)
  case $1 in
    B)
      as_pg "$PGBIN/pg_dump" -Fc -h "$DIR" -p "$PORT" -U postgres postgres |
        $AWS --endpoint-url "http://127.0.0.1:$S3PORT" s3 cp --quiet - "s3://bench/awscli/load.dump"
      ;;
    *)
      st=$(as_pg "${PSQL[@]}" -c "SELECT ripple_backup_wait(ripple_backup_now(label => 'load $1'))")
      [ "$st" = succeeded ] || { echo "bench: a backup $st" >&2; return 1; }
      ;;
  esac
  t1=$(now)
  echo "$t1 - $t0" | bc -l
}

# Backups back to back until $DIR/stop exists; durations into $DIR/dur.$1
backup_loop() {
  : >"$DIR/dur.$1"
  while [ ! -e "$DIR/stop" ]; do
    one_backup "$1" >>"$DIR/dur.$1" || break
  done
}

# pgbench for T seconds with variant $1 running beside it; prints TPS
run_variant() {
  local v=$1 out tps
  as_pg "${PSQL[@]}" -c "CHECKPOINT" >/dev/null
  rm -f "$DIR/stop"
  LOOPPID=
  if [ "$v" != N ]; then
    backup_loop "$v" &
    LOOPPID=$!
  fi
  out=$(as_pg "$PGBIN/pgbench" -n -c 4 -T "$T" -h "$DIR" -p "$PORT" -U postgres postgres 2>&1)
  touch "$DIR/stop"
  if [ -n "$LOOPPID" ]; then wait "$LOOPPID" || true; LOOPPID=; fi
  tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' <<<"$out")
  [ -n "$tps" ] || { echo "bench: pgbench said: $out" >&2; exit 1; }
  echo "$tps"
}

declare -A TPS DUR NB
for v in "${VARIANTS[@]}"; do TPS[$v]=""; DUR[$v]=""; NB[$v]=""; done
echo "load: $(uptime)"
for round in $(seq 1 "$ROUNDS"); do
  n=${#VARIANTS[@]}
  order=()
  for i in $(seq 0 $((n - 1))); do order+=("${VARIANTS[$(((i + round - 1) % n))]}"); done
  line="round $round:"
  for v in "${order[@]}"; do
    settings "$v"
    tps=$(run_variant "$v")
    TPS[$v]+="$tps "
    if [ "$v" != N ]; then
      # only the backups that finished inside the window count
      nb=$(wc -l <"$DIR/dur.$v")
      NB[$v]+="$nb "
      DUR[$v]+="$(median <"$DIR/dur.$v") "
      line+=" $v=$tps tps ($nb backups)"
    else
      line+=" $v=$tps tps"
    fi
  done
  echo "$line   [$(cut -d' ' -f1-3 /proc/loadavg)]"
done
settings N

echo
printf '%-3s %10s %8s %9s %12s\n' var tps_median vs_N backups backup_s_med
base=$(tr ' ' '\n' <<<"${TPS[N]}" | grep . | median)
for v in "${VARIANTS[@]}"; do
  med=$(tr ' ' '\n' <<<"${TPS[$v]}" | grep . | median)
  if [ "$v" = N ]; then
    printf '%-3s %10.1f %8s %9s %12s\n' "$v" "$med" 1.00 - -
  else
    printf '%-3s %10.1f %8s %9s %12.2f\n' "$v" "$med" "$(ratio "$med" "$base")" \
      "$(tr ' ' '\n' <<<"${NB[$v]}" | grep . | median)" "$(tr ' ' '\n' <<<"${DUR[$v]}" | grep . | median)"
  fi
done
echo "N = pgbench alone; R = extension backups back to back; B = pg_dump -Fc | aws s3 cp - back to back"
echo "RN = R with ripple_backup.backup_nice = 19"
echo "pgbench -n -c 4 -T $T, scale $SCALE, $ROUNDS rounds, variants interleaved; medians over rounds"
echo "load: $(uptime)"
