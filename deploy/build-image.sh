#!/usr/bin/env bash
# Builds the brownout image with podman, from Debian 12 packages and this repository only:
#   deploy/build-image.sh [TAG]                  (default localhost/brownout:0.1.0)
# Without a debian:12 image in local storage (and no registry to pull one from), the base is
# made with debootstrap from the Debian mirror apt already uses, and imported as
# localhost/debian:12, which the Containerfile's `FROM debian:12` then finds.
# PODMAN_RUNTIME_FLAGS: flags podman needs on this host to start a container at all. The
# project's machine needs "--runtime runc --ulimit nofile=4096:4096 --ulimit nproc=4096:4096":
# its sandbox lacks CAP_SYS_RESOURCE (podman's default rlimits cannot be set: EPERM) and has
# hybrid cgroups, which crun refuses. Set it to "" on an ordinary host.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TAG=${1:-localhost/brownout:0.1.0}
FLAGS=${PODMAN_RUNTIME_FLAGS---runtime runc --ulimit nofile=4096:4096 --ulimit nproc=4096:4096}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
read -r -a flags <<< "$FLAGS"

if ! podman image exists debian:12 && ! podman image exists localhost/debian:12; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  echo "==> debootstrap bookworm (minbase) from $MIRROR" >&2
  debootstrap --variant=minbase bookworm "$work/rootfs" "$MIRROR" > "$work/debootstrap.log" \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  tar -C "$work/rootfs" -c --numeric-owner -f "$work/rootfs.tar" .
  podman import "$work/rootfs.tar" localhost/debian:12 > /dev/null
fi
echo "==> podman build $TAG" >&2
# --format docker: keeps the HEALTHCHECK (OCI images have none).
podman build "${flags[@]}" --format docker -f "$ROOT/deploy/Containerfile" -t "$TAG" "$ROOT"
