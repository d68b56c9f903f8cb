#!/bin/bash
# Benchmark of a disaster-recovery restore with the CLI against pg_restore alone, on
# pgbench data at each scale given (default: 50):
#   C  ripple-backup restore latest --create --jobs 2   (download from the S3 test
#      server, SHA-256 check, decompress, CREATE DATABASE, pg_restore -j 2, row counts)
#   P  createdb && pg_restore -j 2 of a local copy of the same archive
#      (already downloaded and decompressed: the floor)
# and, with VARIANTS, diagnostic ones:
#   D  pg_restore -j 2 of a copy just written and not fsynced (as the CLI's temporary
#      file is when its pg_restore starts), into a database made by createdb
#   S  C with --work-dir /dev/shm (the temporary archive on tmpfs)
#   J  C with --jobs 1 (the whole restore reads the download from its stdin)
#   O  C with another build of ripple-backup, OLD_CLI (e.g. one built from main), for a
#      before/after comparison in the same run
# The variants are interleaved (their order rotates each round); the medians over
# ROUNDS rounds give the ratios against P (target for C: at most 1.10).  The backup
# is taken once per scale with src/core's pipeline (build/tools/backup_run).
# Not a test: no assertion, just figures.  Run as root (it builds a throwaway cluster
# as the postgres user and starts the S3 test server).
#   bench/restore_bench.sh [SCALE...]      environment: ROUNDS (3), VARIANTS ("C P"), OLD_CLI
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

ROUNDS=${ROUNDS:-3}
# shellcheck disable=SC2206
VARIANTS=(${VARIANTS:-C P})
median() { sort -g | awk '{a[NR] = $1} END {if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
dropdb_q() { as_pg "${PSQL[@]}" -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $1"; }

# One restore of variant $1 of database $2 into $3; prints its wall time.  The
# CLI's own account of its steps goes to $DIR/steps.
run_variant() {
  local v=$1 db=$2 target=$3 t0 t1 line work=$DIR/work
  as_pg "${PSQL[@]}" -d postgres -c "CHECKPOINT"
  case $v in
    C|S|O|J)
      local cli=ripple-backup jobs=2
      [ "$v" = S ] && work=/dev/shm
      [ "$v" = J ] && jobs=1
      [ "$v" = O ] && cli=${OLD_CLI:?O needs OLD_CLI}
      t0=$(now)
      line=$(as_pg env "${CLIENV[@]}" "$cli" restore latest --db "$db" --dbname "$target" --create \
        --jobs "$jobs" --work-dir "$work" --pg-bindir "$PGBIN" --no-progress 2>/dev/null)
      t1=$(now)
      [ -n "$line" ] || { echo "bench: the CLI restore failed" >&2; exit 1; }
      echo "$v: ${line##*(}" >>"$DIR/steps"
      ;;
    P)
      t0=$(now)
      as_pg "$PGBIN/createdb" -h "$DIR" -p "$PORT" -U postgres "$target"
      as_pg "$PGBIN/pg_restore" -j 2 -h "$DIR" -p "$PORT" -U postgres -d "$target" "$DIR/work/local.dump"
      t1=$(now)
      ;;
    D)
      as_pg cp "$DIR/work/local.dump" "$DIR/work/dirty.dump"
      t0=$(now)
      as_pg "$PGBIN/createdb" -h "$DIR" -p "$PORT" -U postgres "$target"
      as_pg "$PGBIN/pg_restore" -j 2 -h "$DIR" -p "$PORT" -U postgres -d "$target" "$DIR/work/dirty.dump"
      t1=$(now)
      rm -f "$DIR/work/dirty.dump"
      ;;
  esac
  secs "$t0" "$t1"
}
set -o errtrace
shopt -s inherit_errexit

echo "load: $(uptime)"
declare -A SUMMARY
id=0
for scale in "${SCALES[@]}"; do
  id=$((id + 1))
  db=bench_s$scale
  as_pg "${PSQL[@]}" -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  as_pg "$PGBIN/pgbench" -q -i -s "$scale" -h "$DIR" -p "$PORT" -U postgres "$db" >/dev/null 2>&1
  as_pg "${PSQL[@]}" -d "$db" -c "VACUUM ANALYZE"
  dbmb=$(as_pg "${PSQL[@]}" -d "$db" -c "SELECT pg_database_size('$db')/1048576")
  out=$(as_pg env "${S3ENV[@]}" "$ROOT/build/tools/backup_run" --dest s3://bench/restore --dbname "$db" \
    --host "$DIR" --port "$PORT" --id "$id" --sysid "$SYSID" \
    --s3-endpoint "http://127.0.0.1:$S3PORT" --s3-uri-style path)
  stored=$(sed -n 's/^size_bytes=//p' <<<"$out")
  archive=$(sed -n 's/^bytes_read=//p' <<<"$out")
  as_pg env "${CLIENV[@]}" ripple-backup fetch latest --db "$db" -o "$DIR/work/local.dump" -q
  echo "scale $scale: database $dbmb MB, stored $stored B, archive $archive B"
  : >"$DIR/steps"
  declare -A T
  for v in "${VARIANTS[@]}"; do T[$v]=""; done
  n=${#VARIANTS[@]}
  for round in $(seq 1 "$ROUNDS"); do
    line="round $round:"
    for i in $(seq 0 $((n - 1))); do
      v=${VARIANTS[$(((i + round - 1) % n))]}
      t=$(run_variant "$v" "$db" "r_${v,,}_$db")
      dropdb_q "r_${v,,}_$db"
      T[$v]+="$t "
      line+=" $v=${t}s"
    done
    echo "$line   [$(cut -d' ' -f1-3 /proc/loadavg)]"
  done
  rm -f "$DIR/work/local.dump"
  base=$(tr ' ' '\n' <<<"${T[P]}" | grep . | median)
  res="scale $scale:"
  for v in "${VARIANTS[@]}"; do
    med=$(tr ' ' '\n' <<<"${T[$v]}" | grep . | median)
    res+=" $v=$(printf '%.2f' "$med")s"
    [ "$v" != P ] && res+=" ($v/P $(ratio "$med" "$base"))"
  done
  SUMMARY[$scale]=$res
  sed 's/^/  steps /' "$DIR/steps"
  unset T
done
echo
for scale in "${SCALES[@]}"; do echo "${SUMMARY[$scale]}   (medians of $ROUNDS rounds)"; done
echo "C = ripple-backup restore --create --jobs 2 from S3 (download, check, decompress, restore, row counts)"
echo "P = createdb + pg_restore -j 2 of a local, already decompressed copy of the same archive"
echo "D = P from a copy written just before (dirty in the page cache); S = C with --work-dir /dev/shm"
echo "J = C with --jobs 1; O = C with ${OLD_CLI:-another build of the CLI}"
echo "load: $(uptime)"
