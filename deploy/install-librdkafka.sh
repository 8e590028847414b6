#!/usr/bin/env bash
# Builds librdkafka 2.14.2 into its own prefix from Debian's own source package (sid's
# librdkafka 2.14.2-1), because Debian 12 ships 2.0.2: no fetch.queue.backoff.ms, no production
# KIP-848 consumer protocol, no SCRAM login to Kafka 4.x (README, "Dependencies").
#
# - Nothing comes from outside Debian's archive: apt fetches the source package through a private
#   apt configuration (sid's deb-src, its own lists directory), so the machine's sources stay as
#   they are. apt checks the files against the signed Sources index; this script checks the tarball
#   against the .dsc's SHA-256 again before unpacking it.
# - The upstream tarball, with the project's own fixes from deploy/librdkafka-patches/ applied in
#   name order (each patch says what it fixes and when it can go), is built with its own configure
#   into PREFIX, with RPATH-linked binaries in mind: the machine's librdkafka1 (kcat,
#   python3-confluent-kafka) is left untouched.
# - Idempotent: a finished prefix carries a stamp naming the version and the patches' checksum, and
#   a second run returns at once; a changed patch set builds again. The downloaded source is cached
#   under CACHE.
set -euo pipefail

version=2.14.2
debian_revision=1
prefix="${ORDER_TRACKER_RDKAFKA_PREFIX:-/opt/order-tracker/librdkafka-${version}}"
cache="${ORDER_TRACKER_CACHE:-/var/cache/order-tracker}"
stamp="$prefix/.order-tracker-librdkafka"
patches=("$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"/librdkafka-patches/*.patch)
[ -f "${patches[0]}" ] || patches=()
patch_sum=$( ((${#patches[@]})) && cat "${patches[@]}" | sha256sum | cut -c1-16 || echo none)
build_id="$version-$debian_revision patches:$patch_sum"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$build_id" ]; then
  echo "install-librdkafka: librdkafka $version ($((${#patches[@]})) patches) is installed in $prefix"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

apt_dir="$cache/apt-sid-src"
src_dir="$cache/librdkafka-$version-$debian_revision"
$sudo mkdir -p "$apt_dir/lists/partial" "$src_dir"
$sudo chown -R "$(id -u):$(id -g)" "$cache"

# A deb-src line of its own for sid; the machine's sources.list(.d) is never read nor written.
printf 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s sid main\n' \
  "${ORDER_TRACKER_DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$apt_dir/sources.list"
apt_opts=(
  -o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o "Dir::Etc::sourceparts=-"
  -o "Dir::State::Lists=$apt_dir/lists" -o "APT::Get::List-Cleanup=0"
  -o "APT::Sandbox::User=root"
)

orig="librdkafka_${version}.orig.tar.gz"
dsc="librdkafka_${version}-${debian_revision}.dsc"
if [ ! -f "$src_dir/$orig" ] || [ ! -f "$src_dir/$dsc" ]; then
  echo "install-librdkafka: fetching Debian's source package librdkafka $version-$debian_revision"
  apt-get "${apt_opts[@]}" -qq update
  (cd "$src_dir" && apt-get "${apt_opts[@]}" -qq source --download-only \
    "librdkafka=$version-$debian_revision")
fi

want=$(awk -v f="$orig" '/^Checksums-Sha256:/ {on=1; next} /^[^ ]/ {on=0} on && $3 == f {print $1}' \
  "$src_dir/$dsc")
have=$(sha256sum "$src_dir/$orig" | cut -d' ' -f1)
if [ -z "$want" ] || [ "$want" != "$have" ]; then
  echo "install-librdkafka: $orig does not match the SHA-256 in $dsc (want '$want', have '$have')" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The tarball's top directory is named after the upstream commit, not the version.
mkdir "$work/src"
tar -C "$work/src" --strip-components=1 -xzf "$src_dir/$orig"
cd "$work/src"
for p in "${patches[@]}"; do
  echo "install-librdkafka: applying $(basename "$p")"
  patch -p1 --forward --quiet <"$p"
done

echo "install-librdkafka: building librdkafka $version into $prefix"
# Each --enable- makes configure fail when the feature's library is missing, instead of quietly
# building a client that cannot do TLS, SASL/SCRAM or zstd/lz4 batches. The C++ binding, examples and
# tests are not built: the project uses the C API only. Debug symbols stay in (the default): perf
# and callgrind attribute time inside librdkafka with them.
./configure --prefix="$prefix" --enable-ssl --enable-sasl --enable-zstd --enable-lz4-ext \
  --enable-zlib --enable-curl >"$work/configure.log" 2>&1 ||
  {
    cat "$work/configure.log" >&2
    exit 1
  }
make -C src -j"$(nproc)" >"$work/make.log" 2>&1 || {
  tail -50 "$work/make.log" >&2
  exit 1
}
# Installed into a staging copy first, then moved: an interrupted run never leaves a half prefix
# that carries a stamp.
make -C src install DESTDIR="$work/stage" >/dev/null
$sudo rm -rf "$prefix"
$sudo mkdir -p "$(dirname "$prefix")"
$sudo mv "$work/stage$prefix" "$prefix"
echo "$build_id" | $sudo tee "$stamp" >/dev/null
echo "install-librdkafka: librdkafka $version installed in $prefix"
