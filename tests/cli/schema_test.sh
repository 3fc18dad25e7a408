#!/usr/bin/env bash
# The scenario format's JSON Schema (scenarios/brownout.schema.json) is what `brownout schema`
# makes from the validator's own key declarations; every library scenario and the every-kind
# file pass both the schema and `brownout validate`; each bad file fails both.
set -euo pipefail
bin=$(realpath "${1:?usage: schema_test.sh BROWNOUT REPO}")
repo=$(realpath "${2:?usage: schema_test.sh BROWNOUT REPO}")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$repo"

"$bin" schema > "$dir/schema.json"
diff -q "$dir/schema.json" scenarios/brownout.schema.json > /dev/null || {
  echo "scenarios/brownout.schema.json is not what brownout schema makes: run"
  echo "  ./build/release/cli/brownout schema > scenarios/brownout.schema.json"
  exit 1
}
mapfile -t good < <(ls scenarios/*.toml scenarios/papers/*.toml tests/cli/schema/good/*.toml \
  tests/validity/*.toml | grep -v 'tests/validity/pairs.toml')
mapfile -t bad < <(ls tests/cli/schema/bad/*.toml)
for f in "${good[@]}"; do
  "$bin" validate "$f" > /dev/null || { echo "brownout validate rejects $f"; exit 1; }
done
for f in "${bad[@]}"; do
  if "$bin" validate "$f" > /dev/null 2>&1; then echo "brownout validate accepts $f"; exit 1; fi
done
/usr/bin/python3 - scenarios/brownout.schema.json "${#good[@]}" "${good[@]}" "${bad[@]}" <<'PY'
import json, sys, tomllib
import jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
validator = jsonschema.Draft7Validator(schema)
n = int(sys.argv[2])
good, bad = sys.argv[3:3 + n], sys.argv[3 + n:]
for f in good:
    errors = list(validator.iter_errors(tomllib.load(open(f, "rb"))))
    assert not errors, f"the schema rejects {f}: {errors[0].message} at {list(errors[0].path)}"
for f in bad:
    assert list(validator.iter_errors(tomllib.load(open(f, "rb")))), f"the schema accepts {f}"
print(f"schema and validator agree on {len(good)} good and {len(bad)} bad files")
PY
