#!/usr/bin/env bash
# Installs the Debian 12 packages that building and testing lambdaflow needs.
# Idempotent: packages already installed are detected with dpkg-query, and
# `apt-get update` runs only when something is missing, so a second run is fast.
#
#   scripts/install-deps.sh           build + test toolchain (with Chromium, Node.js,
#                                     tests/browser's npm deps for the dashboard's browser test,
#                                     tests/aws's emulators, s3rver and kinesalite, and
#                                     tests/kafka/kafkajs's for the kafkajs producer test)
#   scripts/install-deps.sh --bench   also the bench/ npm deps
set -euo pipefail

usage() {
  sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'
}

want_bench=0
for arg in "$@"; do
  case "$arg" in
    --bench) want_bench=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install-deps: unknown argument: $arg" >&2; usage >&2; exit 2 ;;
  esac
done

packages=(
  build-essential cmake ninja-build pkg-config
  libsimdjson-dev libzstd-dev zstd libxxhash-dev libcli11-dev
  libcpp-httplib-dev libtomlplusplus-dev   # HTTP client (produce --to, query --server); run's TOML settings
  libboost-dev                              # Boost.Beast and Asio: the HTTP server
  prometheus                                # promtool, for the /metrics test
  librdkafka-dev                            # Kafka: produce --to kafka://, the Kafka source, the tests' mock cluster
  libssl-dev libcurl4-openssl-dev libexpat1-dev   # AWS (src/aws): SigV4, HTTP, S3's XML
  libgtest-dev libgmock-dev libbenchmark-dev
  libsqlite3-dev sqlite3
  clang-14 libclang-rt-14-dev   # libFuzzer and the sanitizer runtimes for clang
  python3
  curl   # the package test's HTTP checks
  chromium nodejs   # the dashboard's browser test (tests/browser)
)
# Node.js packages that bundle npm (e.g. NodeSource's) conflict with
# Debian's npm package: ask for npm only where no npm is on the PATH.
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [[ $status != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -eq 0 ]]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "install-deps: missing packages (${missing[*]}) and not root; sudo is not available" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm_install DIR: the npm deps of DIR. npm records what it installed in
# node_modules/.package-lock.json; when that is newer than the manifests, the
# install is current and npm is not run.
npm_install() (
  cd "$1"
  if [[ ! -f node_modules/.package-lock.json || package.json -nt node_modules/.package-lock.json ||
        (-f package-lock.json && package-lock.json -nt node_modules/.package-lock.json) ]]; then
    if [[ -f package-lock.json ]]; then
      npm ci --no-audit --no-fund
    else
      npm install --no-audit --no-fund
    fi
  fi
)

root=$(cd "$(dirname "$0")/.." && pwd)
# playwright-core drives the system's Chromium; it never downloads a browser.
[[ -f $root/tests/browser/package.json ]] && npm_install "$root/tests/browser"
# s3rver and kinesalite: the AWS emulators tests/aws starts.
[[ -f $root/tests/aws/package.json ]] && npm_install "$root/tests/aws"
# kafkajs: a Kafka client lambdaflow did not write, producing in tests/kafka.
[[ -f $root/tests/kafka/kafkajs/package.json ]] && npm_install "$root/tests/kafka/kafkajs"
if [[ $want_bench == 1 && -f $root/bench/package.json ]]; then
  npm_install "$root/bench"
fi
