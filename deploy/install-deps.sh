#!/usr/bin/env bash
# Installs, from Debian 12 packages, whatever the build, the local broker and the tests need and is
# not there yet. Safe to run again: it asks apt only for missing packages.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config git curl ca-certificates procps
  libboost1.81-dev libboost-json1.81-dev libboost-test1.81-dev
  libboost-program-options1.81-dev libboost-url1.81-dev
  libfmt-dev librdkafka-dev kcat
  openjdk-17-jdk-headless maven
  python3 python3-confluent-kafka python3-yaml
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
