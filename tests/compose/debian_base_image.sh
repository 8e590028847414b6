#!/usr/bin/env bash
# Makes the base image deploy/Dockerfile and deploy/kafka-image/Dockerfile start FROM,
# debian:bookworm-slim, from Debian's own archive, for an engine that cannot pull from a registry.
# An image of that name that is already there (pulled, or made by an earlier run) is kept as it is.
#
# debootstrap --variant=minbase (essential packages and apt, like the official slim image) with
# the official image's apt sources (bookworm, bookworm-updates, bookworm-security). The root file
# system is cached as a tarball, so that an engine whose images were deleted gets it back in
# seconds; debootstrap itself takes a minute or two.
set -euo pipefail

image="${1:-debian:bookworm-slim}"
docker="${DOCKER:-/usr/bin/docker}"
cache="${ORDER_TRACKER_CACHE:-/var/cache/order-tracker}/docker"
tarball="$cache/bookworm-minbase.tar"
mirror="${ORDER_TRACKER_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if "$docker" image inspect "$image" >/dev/null 2>&1; then
  echo "base-image: $image is there"
  exit 0
fi

mkdir -p "$cache"
if [ ! -f "$tarball" ]; then
  root=$(mktemp -d "$cache/rootfs.XXXXXX")
  trap 'rm -rf "$root" "$tarball.tmp"' EXIT
  echo "base-image: debootstrap --variant=minbase bookworm (once; cached in $tarball)"
  debootstrap --variant=minbase bookworm "$root" "$mirror" >"$cache/debootstrap.log" 2>&1 || {
    tail -30 "$cache/debootstrap.log" >&2
    exit 1
  }
  rm -f "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  # What the official image leaves out too: package caches and lists, and no recommends.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*
  printf 'APT::Install-Recommends "false";\n' >"$root/etc/apt/apt.conf.d/99no-recommends"
  # As in the official image: no fsync per unpacked file (a failed build layer is thrown away).
  printf 'force-unsafe-io\n' >"$root/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
  # A machine whose mirror is a frozen snapshot of the archive (as CI's) has apt told to accept
  # Release files past their Valid-Until; the image sees the same mirror, so it needs the same.
  if apt-config dump | grep -q '^Acquire::Check-Valid-Until "false";'; then
    printf 'Acquire::Check-Valid-Until "false";\n' >"$root/etc/apt/apt.conf.d/99snapshot-mirror"
  fi
  tar --numeric-owner -C "$root" -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
fi

"$docker" import --change 'CMD ["bash"]' \
  --message "debootstrap --variant=minbase bookworm ($mirror)" "$tarball" "$image" >/dev/null
echo "base-image: imported $image from $tarball"
