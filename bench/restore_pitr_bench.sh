#!/bin/bash
# Benchmark of a point-in-time restore: `ripple-backup restore-pitr --latest --start`
# of a base backup at pgbench scale SCALE (default 50) plus WAL_SECONDS (default 600)
# seconds of `pgbench -c 4` WAL, against the obvious alternative on the same machine:
#   R  ripple-backup restore-pitr --latest --start: the base backup streamed from the S3
#      test server (SHA-256, zstd -d, tar -x), then every WAL file fetched by
#      restore_command = 'ripple-backup wal-fetch %f %p ...' (GET, SHA-256, zstd -d),
#      until the server is promoted
#   A  pg_basebackup -Ft -X none to a local directory, taken right after R's base
#      backup; tar -x, then the same WAL (the segments pg_wal kept, wal_keep_size)
#      replayed with restore_command = 'cp <local dir>/%f %p', until promoted
# Both are timed from the empty directory to the promoted server.  Prints the times,
# the WAL replayed and the sizes.  Not a test: no assertion, just figures.  Run as
# root (it builds a throwaway cluster as the postgres user and starts the S3 test
# server).
#   bench/restore_pitr_bench.sh [SCALE [WAL_SECONDS]]
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${1:-50}
WAL_SECONDS=${2:-600}
DIR=${BENCH_DIR:-/tmp/ripple_backup_pitr_bench}
PORT=${BENCH_PGPORT:-54341}
PORT2=$((PORT + 1))
S3PORT=${BENCH_S3PORT:-45691}
PGBIN=$(pg_config --bindir)
CLI="$PGBIN/ripple-backup"
as_pg() { runuser -u postgres -- "$@"; }

[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
test/setup.sh
make -s -j"$(nproc)" all && make -s install

stop_dir() { [ -d "$1" ] && as_pg "$PGBIN/pg_ctl" -D "$1" -m immediate stop >/dev/null 2>&1 || true; }
cleanup() {
  for d in "$DIR/data" "$DIR/r" "$DIR/a"; do stop_dir "$d"; done
  [ -n "${S3PID:-}" ] && kill "$S3PID" 2>/dev/null || true
}
trap cleanup EXIT
cleanup
rm -rf "$DIR"; mkdir -p "$DIR/walarchive" "$DIR/bb"; chown -R postgres:postgres "$DIR"

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
max_wal_size = '4GB'
wal_keep_size = '20GB'
archive_mode = on
archive_library = 'ripple_backup'
archive_timeout = '60s'
ripple_backup.verify_after_backup = off
ripple_backup.destination = 's3://bench/ripple'
ripple_backup.s3_endpoint = 'http://127.0.0.1:$S3PORT'
ripple_backup.s3_uri_style = 'path'
ripple_backup.s3_credentials_file = '$DIR/cred'
CONF
as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/postgresql.log" -w start >/dev/null
PSQL=("$PGBIN/psql" -X -q -At -h "$DIR" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1)
as_pg "${PSQL[@]}" -c "CREATE EXTENSION ripple_backup"

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l | xargs printf '%.1f'; }
ratio() { echo "$1 / $2" | bc -l | xargs printf '%.2f'; }

echo "bench: pgbench -i -s $SCALE"
as_pg "$PGBIN/pgbench" -q -i -s "$SCALE" -h "$DIR" -p "$PORT" -U postgres postgres >/dev/null 2>&1
as_pg "${PSQL[@]}" -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
id=$(as_pg "${PSQL[@]}" -c "SELECT ripple_backup_base_backup('pitr bench')")
st=$(as_pg "${PSQL[@]}" -c "SELECT ripple_backup_wait($id, '30 minutes')")
[ "$st" = succeeded ] || { echo "base backup $id failed"; exit 1; }
as_pg "$PGBIN/pg_basebackup" -h "$DIR" -p "$PORT" -U postgres -Ft -D "$DIR/bb" -X none --checkpoint=fast
start_seg=$(as_pg "${PSQL[@]}" -c "SELECT pg_walfile_name(pg_current_wal_lsn())")

echo "bench: pgbench -c 4 -T $WAL_SECONDS"
as_pg "$PGBIN/pgbench" -n -c 4 -T "$WAL_SECONDS" -h "$DIR" -p "$PORT" -U postgres postgres >"$DIR/pgbench.log" 2>&1 &
PGBENCH=$!
# the RPO under load: the wal archive row of ripple_backup_health() every 5 s
: >"$DIR/rpo.txt"
while kill -0 "$PGBENCH" 2>/dev/null; do
  as_pg "${PSQL[@]}" -c "SELECT extract(epoch FROM rpo) || ' ' || status || ' ' || (SELECT pending_count FROM ripple_backup.wal_archive) FROM ripple_backup_health() WHERE component = 'wal archive'" >>"$DIR/rpo.txt" 2>/dev/null || true
  sleep 5
done
wait "$PGBENCH"
last_seg=$(as_pg "${PSQL[@]}" -c "SELECT pg_walfile_name(pg_current_wal_lsn())")
as_pg "${PSQL[@]}" -c "SELECT pg_switch_wal()" >/dev/null
for _ in $(seq 1 1800); do
  done_seg=$(as_pg "${PSQL[@]}" -c "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
  [[ "$done_seg" > "$last_seg" || "$done_seg" == "$last_seg" ]] && break
  sleep 1
done
sysid=$(as_pg "${PSQL[@]}" -c "SELECT system_identifier FROM pg_control_system()")
bsize=$(as_pg "${PSQL[@]}" -c "SELECT size_bytes FROM ripple_backup.backups WHERE id = $id")
# the alternative's archive: the same segments, from pg_wal (wal_keep_size kept them)
cp "$DIR/data/pg_wal/"[0-9A-F]* "$DIR/walarchive/" 2>/dev/null || true
chown -R postgres "$DIR/walarchive"
nseg=$(ls "$DIR/walarchive" | awk -v a="$start_seg" -v b="$last_seg" '$0 >= a && $0 <= b' | wc -l)
as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null

wait_promoted() {
  for _ in $(seq 1 36000); do
    r=$(as_pg "$PGBIN/psql" -X -At -h "$DIR" -p "$PORT2" -U postgres -d postgres -c "SELECT pg_is_in_recovery()" 2>/dev/null || true)
    [ "$r" = f ] && return 0
    sleep 0.2
  done
  return 1
}

# R: restore-pitr from the S3 test server
export RIPPLE_BACKUP_DESTINATION='s3://bench/ripple' RIPPLE_BACKUP_S3_ENDPOINT="http://127.0.0.1:$S3PORT" \
  RIPPLE_BACKUP_S3_URI_STYLE=path RIPPLE_BACKUP_S3_CREDENTIALS_FILE="$DIR/cred"
t0=$(now)
as_pg env RIPPLE_BACKUP_DESTINATION="$RIPPLE_BACKUP_DESTINATION" RIPPLE_BACKUP_S3_ENDPOINT="$RIPPLE_BACKUP_S3_ENDPOINT" \
  RIPPLE_BACKUP_S3_URI_STYLE=path RIPPLE_BACKUP_S3_CREDENTIALS_FILE="$DIR/cred" \
  "$CLI" restore-pitr --pgdata "$DIR/r" --latest --start --port "$PORT2" --system-identifier "$sysid" -q
wait_promoted
t1=$(now)
R=$(secs "$t0" "$t1")
rcount=$(as_pg "$PGBIN/psql" -X -At -h "$DIR" -p "$PORT2" -U postgres -d postgres -c "SELECT sum(tbalance) FROM pgbench_tellers")
stop_dir "$DIR/r"

# A: local tar + restore_command = cp
t0=$(now)
as_pg mkdir -m 700 "$DIR/a"
as_pg tar -xf "$DIR/bb/base.tar" -C "$DIR/a"
cat >>"$DIR/a/postgresql.auto.conf" <<CONF
restore_command = 'cp $DIR/walarchive/%f %p'
recovery_target_timeline = 'latest'
CONF
touch "$DIR/a/recovery.signal"; chown postgres "$DIR/a/postgresql.auto.conf" "$DIR/a/recovery.signal"
as_pg "$PGBIN/pg_ctl" -D "$DIR/a" -l "$DIR/a.log" -o "-c port=$PORT2" -w -t 3600 start >/dev/null
wait_promoted
t1=$(now)
A=$(secs "$t0" "$t1")
acount=$(as_pg "$PGBIN/psql" -X -At -h "$DIR" -p "$PORT2" -U postgres -d postgres -c "SELECT sum(tbalance) FROM pgbench_tellers")
stop_dir "$DIR/a"

tps=$(grep -o 'tps = [0-9.]*' "$DIR/pgbench.log" | head -1)
rpo=$(awk '{print $1}' "$DIR/rpo.txt" | sort -g | awk '{a[NR]=$1} END {if (NR) printf "RPO under load (%d samples, every 5 s): median %.1f s, max %.1f s", NR, a[int((NR+1)/2)], a[NR]; else printf "RPO under load: no sample"}')
pend=$(awk '{print $3}' "$DIR/rpo.txt" | sort -g | tail -1)
statuses=$(awk '{print $2}' "$DIR/rpo.txt" | sort | uniq -c | tr -s ' ' | tr '\n' ',')
printf '%-6s %8s %8s %10s %10s %7s  %s\n' scale wal_s segments R_s A_s R/A "pgbench; same data (R, A)"
printf '%-6s %8s %8s %10s %10s %7s  %s; %s %s\n' "$SCALE" "$WAL_SECONDS" "$nseg" "$R" "$A" "$(ratio "$R" "$A")" \
  "$tps" "$rcount" "$acount"
echo "R = ripple-backup restore-pitr --latest --start from the S3 test server (base backup $bsize bytes stored) until promoted"
echo "A = tar -x of a local pg_basebackup -Ft + restore_command = 'cp' from a local directory until promoted"
echo "$rpo; most WAL files pending at a sample: ${pend:-?}; health statuses: ${statuses%,}"
