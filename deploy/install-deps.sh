#!/usr/bin/env bash
# Installs, from Debian 12 packages, whatever the build, the local broker and the tests need and is
# not there yet, then librdkafka 2.14.2 (deploy/install-librdkafka.sh). Safe to run again: it asks
# apt only for missing packages, and librdkafka is built once and cached.
set -euo pipefail

packages=(
  g++ make cmake ninja-build pkg-config git curl ca-certificates procps patch
  libboost1.81-dev libboost-json1.81-dev libboost-test1.81-dev
  libboost-program-options1.81-dev libboost-url1.81-dev
  libfmt-dev kcat
  # librdkafka 2.14.2 is built from Debian's source package by install-librdkafka.sh (below); these
  # are the libraries it is built with (TLS, SASL/SCRAM, compression, OIDC).
  libssl-dev libsasl2-dev zlib1g-dev libzstd-dev liblz4-dev libcurl4-openssl-dev
  openjdk-17-jdk-headless maven
  python3 python3-confluent-kafka python3-yaml
  # tests/live/browser_test.py: the Tracker's live page in headless Chromium, driven through the
  # DevTools protocol (a WebSocket) from Python.
  chromium python3-websocket
  clang-format clang-tidy
  # tests/fuzz/run.sh: libFuzzer needs clang; Debian 12 keeps clang 14's libFuzzer, ASan and UBSan
  # runtimes in libclang-rt-14-dev, only recommended by clang, which --no-install-recommends skips.
  clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "install-deps: everything is installed"
fi

"$(dirname "$0")/install-librdkafka.sh"
