#!/usr/bin/env bash
# Starts the Portkey AI gateway (npm @portkey-ai/gateway, installed into the repository's
# node_modules by ./scripts/test) on the port brownout gives it: clients/portkey/start.sh PORT
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec node "$here/../../node_modules/@portkey-ai/gateway/build/start-server.js" --port="$1" --headless
