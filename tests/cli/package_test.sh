#!/usr/bin/env bash
# The Debian package: cpack builds it from this build tree, it unpacks into a fresh root, and
# brownout there finds its scenario library from any directory and runs a scenario by name.
set -euo pipefail
build=${1:?usage: package_test.sh BUILD_DIR}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
(cd "$build" && cpack -G DEB -B "$dir/pkg" > "$dir/cpack.log" 2>&1) || { cat "$dir/cpack.log"; exit 1; }
deb=$(ls "$dir"/pkg/brownout_*.deb)
dpkg-deb --info "$deb" > "$dir/info.txt"
grep -q "Package: brownout" "$dir/info.txt" || { cat "$dir/info.txt"; exit 1; }
grep -q "Depends:.*libboost-json" "$dir/info.txt" || { cat "$dir/info.txt"; echo "no shared-library dependencies"; exit 1; }
dpkg-deb -x "$deb" "$dir/root"
bin="$dir/root/usr/bin/brownout"
[ -x "$bin" ] && [ -f "$dir/root/usr/share/brownout/scenarios/deepseek-2025-05-08.toml" ] \
  && [ -f "$dir/root/usr/share/brownout/clients/openai-node/client.mjs" ] \
  && [ -x "$dir/root/usr/share/brownout/ci/brownout-ci.sh" ] || { find "$dir/root" | head -30; exit 1; }
mkdir "$dir/elsewhere" && cd "$dir/elsewhere"
"$bin" scenarios | grep -q "^deepseek-2025-05-08 " || { "$bin" scenarios; echo "library not found"; exit 1; }
"$bin" validate "$dir/root/usr/share/brownout/scenarios/healthy.toml" > /dev/null
"$bin" run healthy --time-scale 3600 --client failover --report-dir report > run.txt 2>&1 \
  || { cat run.txt; exit 1; }
[ -s report/report.json ] || { echo "no report"; exit 1; }
"$bin" sim flapping-provider --seeds 2 | grep -q "2 seeds" || { echo "sim by name failed"; exit 1; }
echo "package: ok ($(basename "$deb"), $(du -k "$deb" | cut -f1) KiB)"
