#!/bin/sh
# The image's entry point (deploy/Containerfile).
#   podman run IMAGE run SCENARIO …     brownout with those arguments (a job step: run, sim, …)
#   podman run IMAGE                    a CI service: brownout serve, configured by environment,
#                                       because GitHub Actions starts a service without a command
# BROWNOUT_SCENARIO  the scenario to serve: a file (mount it) or a library name
#                    (default: deepseek-2025-05-08)
# BROWNOUT_PORT      the first provider's port (default 8080; the others take the next ones)
# BROWNOUT_READY_FILE  written once every provider listens (default /tmp/brownout-ready.json):
#                    the health check is `test -s` on it
# BROWNOUT_TIME_SCALE  overrides the scenario's time scale
# BROWNOUT_CONTROL_TOKEN  serves the control API to other hosts, with that bearer token
set -eu
if [ "$#" -gt 0 ]; then
  exec brownout "$@"
fi
set -- serve "${BROWNOUT_SCENARIO:-deepseek-2025-05-08}" \
  --listen "0.0.0.0:${BROWNOUT_PORT:-8080}" \
  --ready-file "${BROWNOUT_READY_FILE:-/tmp/brownout-ready.json}"
if [ -n "${BROWNOUT_TIME_SCALE:-}" ]; then
  set -- "$@" --time-scale "$BROWNOUT_TIME_SCALE"
fi
exec brownout "$@"
