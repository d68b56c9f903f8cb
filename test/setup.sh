#!/bin/bash
# Installs what ripple_backup's build, tests and demo need on Debian 12, and the npm
# test services (the S3 server that checks SigV4 signatures, the SMTP server) from
# test/services/package-lock.json.  Idempotent: it installs only what is missing.
# Run as root, or as a user with sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

PACKAGES=(
  build-essential pkg-config
  postgresql-15 postgresql-server-dev-15 postgresql-client-15
  libcurl4-openssl-dev libssl-dev libsodium-dev libzstd-dev zlib1g-dev libexpat1-dev
  libcmocka-dev valgrind clang libclang-rt-14-dev
  libipc-run-perl libtest-simple-perl
  awscli python3 python3-aiosmtpd python3-nacl curl ca-certificates openssl zstd time procps bc
  prometheus prometheus-postgres-exporter
  chromium fonts-dejavu-core
)
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Debian packages start a 'main' cluster; the tests make their own clusters and
# do not need it.
if [ ! -d test/services/node_modules/@20minutes/s3rver ] || [ ! -d test/services/node_modules/maildev ] ||
   [ test/services/package-lock.json -nt test/services/node_modules/.package-lock.json ]; then
  echo "setup: npm ci in test/services"
  (cd test/services && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "setup: done"
