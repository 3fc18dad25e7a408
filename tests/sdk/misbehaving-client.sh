#!/usr/bin/env bash
# A stdio client stack that misbehaves on purpose (tests/sdk/external.test.mjs):
#   garbage   answers with noise, partial lines and unknown ids, then exits after 5 requests
#   silent    reads requests and never answers
#   late      answers each request 150 seconds after it came (scenario seconds: under faketime),
#             after brownout counted it hung (at twice a 60-second deadline)
mode=$1
n=0
while IFS= read -r line; do
  n=$((n + 1))
  id=$(printf '%s' "$line" | sed -E 's/^\{"id":([0-9]+).*/\1/')
  case "$mode" in
    garbage)
      echo "this is not json"
      printf '{"id": 999999, "text": "an answer to nobody"}\n'
      printf '{"id": %s, "error": "I give up"}\n' "$id"
      [ "$n" -ge 5 ] && exit 3
      ;;
    silent) : ;;
    late) (sleep 150 && printf '{"id": %s, "text": "too late"}\n' "$id") & ;;
  esac
done
wait
