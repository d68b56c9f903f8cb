#!/bin/bash
# Runs the test harness as a non-root user in a built tree (see run_tests.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
PGBIN=$(pg_config --bindir)
PGXS_DIR=$(dirname "$(pg_config --pgxs)")/..
export PATH="$PGBIN:$PATH"
export PERL5LIB="$PGXS_DIR/test/perl:$PWD/test/lib${PERL5LIB:+:$PERL5LIB}"
export PG_REGRESS="$PGXS_DIR/test/regress/pg_regress"
export TESTDIR="$PWD/test"
export RIPPLE_SRC="$PWD"
exec perl test/run_tap.pl "$@"
