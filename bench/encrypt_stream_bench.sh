#!/bin/bash
# Throughput of src/core's streaming encryptor (build/tools/encrypt_tool, 64 KiB
# chunks of crypto_secretstream_xchacha20poly1305) against zstd -3 on the same data,
# side by side: SIZE_MB (default 1024) of random data, each run 3 times, median wall
# time and MB/s, with user+system CPU seconds (on a loaded machine the CPU time is the
# steadier figure).  Random data is zstd's fast path (incompressible); a real dump
# compresses more slowly, so the ratio here understates how little encryption adds.
# Not a test: no assertion, just figures.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${1:-1024}
DIR=$(mktemp -d /tmp/ripple_encrypt_bench.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
make -s build/tools/encrypt_tool
printf '%064x\n' 0 | tr 0 7 > "$DIR/key" && chmod 600 "$DIR/key"
head -c $((SIZE_MB * 1024 * 1024)) /dev/urandom > "$DIR/data"
cat "$DIR/data" > /dev/null

run3() {
  local name=$1; shift
  local walls=() cpus=()
  for _ in 1 2 3; do
    /usr/bin/time -f '%e %U %S' -o "$DIR/t" "$@" < "$DIR/data" > /dev/null
    read -r w u s < "$DIR/t"
    walls+=("$w"); cpus+=("$(echo "$u + $s" | bc)")
  done
  local w c
  w=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n 2p)
  c=$(printf '%s\n' "${cpus[@]}" | sort -n | sed -n 2p)
  printf '%-10s wall %s s (%s)  %6.0f MB/s   cpu %s s  %6.0f MB/s\n' "$name" "$w" "${walls[*]}" \
    "$(echo "$SIZE_MB * 1.048576 / $w" | bc -l)" "$c" "$(echo "$SIZE_MB * 1.048576 / $c" | bc -l)"
}
echo "$SIZE_MB MiB of random data, $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
run3 encrypt build/tools/encrypt_tool encrypt "$DIR/key"
run3 'zstd -3' zstd -q -3 -c
