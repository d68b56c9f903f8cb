#!/bin/bash
# The test command (`make test`): installs what is missing, builds, installs the
# extension and the CLI, then runs every test through one TAP harness
# (test/run_tap.pl): the unit tests of src/core under valgrind and under
# AddressSanitizer, pg_regress inside a TAP test, and the TAP tests in test/t.
# PostgreSQL refuses to run as root, so as root the tests run as the postgres user
# in a copy of the tree under /tmp.  Ends with the line "N passed, N failed".
#
# As root it also mounts an 8 MB tmpfs for the disk-full test (RIPPLE_SMALL_FS).
#
#   test/run_tests.sh [TEST ...]   e.g. test/run_tests.sh test/t/010_s3_client.pl
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

test/setup.sh
make -s -j"$(nproc)" all test-programs
if [ "$(id -u)" = 0 ]; then make -s install; else sudo make -s install; fi

if [ "$(id -u)" = 0 ]; then
  WORK=$(mktemp -d /tmp/ripple_backup_test.XXXXXX)
  chmod 755 "$WORK"
  # Kept for a look after a failure (logs in $WORK/test/tmp_check); removed on success.
  # Copy the built tree (not .git) so the postgres user can read and write it.
  tar -C "$ROOT" --exclude=.git -cf - . | tar -C "$WORK" -xf -
  chown -R postgres:postgres "$WORK"
  # A small file system for the disk-full test (test/t/078_disk_full.pl): only root
  # can mount it, so it is mounted here and unmounted when the run ends.
  SMALL_FS="$WORK/small_fs"
  mkdir -p "$SMALL_FS"
  if mount -t tmpfs -o "size=8m,mode=0700,uid=$(id -u postgres),gid=$(id -g postgres)" tmpfs "$SMALL_FS" 2>/dev/null; then
    export RIPPLE_SMALL_FS="$SMALL_FS"
    trap 'umount "$SMALL_FS" 2>/dev/null || true' EXIT
  fi
  rc=0
  runuser -u postgres -- env HOME="$WORK" ${RIPPLE_SMALL_FS:+RIPPLE_SMALL_FS="$RIPPLE_SMALL_FS"} "$WORK/test/run_tests_user.sh" "$@" || rc=$?
  if [ -n "${RIPPLE_SMALL_FS:-}" ]; then umount "$SMALL_FS" || rc=1; fi
  if [ $rc = 0 ] && [ -z "${RIPPLE_TEST_KEEP:-}" ]; then rm -rf "$WORK"; else echo "test tree kept in $WORK" >&2; fi
  exit $rc
else
  exec "$ROOT/test/run_tests_user.sh" "$@"
fi
