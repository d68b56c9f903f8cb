#!/bin/bash
# s3_upload_bench.sh — uploads the same 1 GiB stream from stdin to the S3 test server
# (s3rver, started here on a free port) through ripple_backup's S3 client
# (build/tools/s3tool upload, default 16 MiB parts, 2 in flight) and through
# `aws s3 cp - s3://...` (Debian's awscli), then prints the throughput of each, the
# ratio, and the peak RSS of each (/usr/bin/time -v).  Target: at least as fast as
# awscli, peak RSS under 64 MiB.  Not a timed test: run it by hand.
#
#   bench/s3_upload_bench.sh [SIZE_MIB]      default 1024
# Environment: S3TOOL (default build/tools/s3tool), BENCH_DATA (input file, made
# once: half random bytes, half a repeated pattern), KEEP=1 keeps the server's data.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SIZE_MIB=${1:-1024}
S3TOOL=${S3TOOL:-$ROOT/build/tools/s3tool}
AWS=/usr/bin/aws
DATA=${BENCH_DATA:-/tmp/ripple_bench_${SIZE_MIB}m.bin}
TIME=/usr/bin/time

# What the tests need (awscli, /usr/bin/time, node and the S3 test server's npm
# modules), as `make test` installs it; then the default s3tool.
test/setup.sh
if [ "$S3TOOL" = "$ROOT/build/tools/s3tool" ]; then make -s build/tools/s3tool; fi
for tool in "$S3TOOL" "$AWS" "$TIME" node; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found" >&2; exit 1; }
done

if [ ! -f "$DATA" ] || [ "$(stat -c %s "$DATA")" -ne $((SIZE_MIB * 1024 * 1024)) ]; then
  echo "bench: generating $DATA ($SIZE_MIB MiB: half random, half compressible)"
  half=$((SIZE_MIB / 2))
  { head -c $((half * 1024 * 1024)) /dev/urandom
    { yes 'ripple_backup benchmark row 0123456789 abcdefghijklmnopqrstuvwxyz' || true; } |
      head -c $(((SIZE_MIB - half) * 1024 * 1024))
  } > "$DATA.tmp"
  mv "$DATA.tmp" "$DATA"
fi

WORK=$(mktemp -d /tmp/ripple_s3bench.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ENDPOINT=http://127.0.0.1:$PORT
cleanup() {
  [ -n "${S3PID:-}" ] && kill "$S3PID" 2>/dev/null && wait "$S3PID" 2>/dev/null || true
  if [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; else echo "bench: kept $WORK"; fi
}
trap cleanup EXIT

NODE_OPTIONS=--openssl-legacy-provider node test/services/s3server.js --port "$PORT" \
  --directory "$WORK/data" --bucket bench > "$WORK/s3server.log" 2>&1 &
S3PID=$!
for _ in $(seq 100); do
  (echo > /dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break
  sleep 0.1
done
(echo > /dev/tcp/127.0.0.1/"$PORT") 2>/dev/null ||
  { echo "bench: the S3 test server did not start:" >&2; cat "$WORK/s3server.log" >&2; exit 1; }

export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

# Runs "$@" with the data file on stdin through a pipe (a stream of unknown length);
# sets SECS and RSS_KB.
run_one() {
  local name=$1; shift
  local t0 t1
  sync
  t0=$(date +%s.%N)
  cat "$DATA" | "$TIME" -v -o "$WORK/$name.time" "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" || {
    echo "bench: $name failed:" >&2; cat "$WORK/$name.err" >&2; exit 1; }
  t1=$(date +%s.%N)
  SECS=$(echo "$t1 - $t0" | bc -l)
  RSS_KB=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/$name.time")
  CPU=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.1f", s }' "$WORK/$name.time")
}

check_size() {
  local key=$1 size
  size=$("$S3TOOL" --endpoint "$ENDPOINT" --bucket bench head "$key" | sed -n 's/^size=\([0-9]*\).*/\1/p')
  [ "$size" = $((SIZE_MIB * 1024 * 1024)) ] || { echo "bench: $key has size $size" >&2; exit 1; }
}

LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
run_one ripple "$S3TOOL" --endpoint "$ENDPOINT" --bucket bench upload ripple.bin
R_SECS=$SECS R_RSS=$RSS_KB R_CPU=$CPU
check_size ripple.bin
run_one awscli "$AWS" --endpoint-url "$ENDPOINT" s3 cp - s3://bench/awscli.bin
A_SECS=$SECS A_RSS=$RSS_KB A_CPU=$CPU
check_size awscli.bin

echo "load average before the runs: $LOAD (the server, s3rver, is the bottleneck; compare on a quiet machine)"
printf 'stream: %d MiB from stdin to s3rver at %s (%s)\n' "$SIZE_MIB" "$ENDPOINT" "$(cat "$WORK/ripple.out")"
printf '%-22s %8.2f s %9.1f MiB/s   peak RSS %7.1f MiB   client CPU %6.1f s\n' \
  "ripple_backup s3tool" "$R_SECS" "$(echo "$SIZE_MIB / $R_SECS" | bc -l)" "$(echo "$R_RSS / 1024" | bc -l)" "$R_CPU"
printf '%-22s %8.2f s %9.1f MiB/s   peak RSS %7.1f MiB   client CPU %6.1f s\n' \
  "aws s3 cp -" "$A_SECS" "$(echo "$SIZE_MIB / $A_SECS" | bc -l)" "$(echo "$A_RSS / 1024" | bc -l)" "$A_CPU"
printf 'throughput ratio (ripple / awscli): %.2f\n' "$(echo "$A_SECS / $R_SECS" | bc -l)"
if [ "$R_RSS" -lt $((64 * 1024)) ]; then echo "peak RSS under 64 MiB: yes"; else echo "peak RSS under 64 MiB: NO"; fi
