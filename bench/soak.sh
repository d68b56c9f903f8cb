#!/bin/bash
# The full soak: N consecutive backups (default 120) of a small database to the S3
# test server through the extension, by the test that `make test` runs in a short
# form (test/t/079_soak.pl, 20 backups).  Prints the launcher's open fds and RSS
# after each backup, the median time of a backup, and the test's verdict (fds flat
# after a warm-up, RSS growth under 8 MB).  Run as root, like test/run_tests.sh.
#
#   bench/soak.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-120}
[ "$N" -ge 100 ] || echo "note: $N backups is fewer than the 100 of the full soak" >&2
export RIPPLE_SOAK_BACKUPS=$N
test/run_tests.sh test/t/079_soak.pl 2>&1 | grep -E '^# soak:|^(not )?ok|passed|failed|Result'
