#!/usr/bin/env bash
# Gets a brownout command for a CI job: the one on PATH if there is one; else the Debian package
# named by BROWNOUT_DEB (apt-get install ./brownout_*.deb, as root or through sudo); else a
# build of this checkout (scripts/setup.sh: Debian packages, npm packages, cmake), whose binary
# ci/brownout-ci.sh then finds by itself.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if command -v brownout >/dev/null 2>&1; then
  echo "brownout: $(command -v brownout) ($(brownout --version))"
  exit 0
fi
if [ -n "${BROWNOUT_DEB:-}" ]; then
  if [ "$(id -u)" -eq 0 ]; then apt-get install -y "$BROWNOUT_DEB"; else sudo apt-get install -y "$BROWNOUT_DEB"; fi
  exit 0
fi
source "$here/../scripts/setup.sh"
install_debian_packages "${DEBIAN_PACKAGES[@]}"
install_npm_packages
build
