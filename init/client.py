#!/usr/bin/env python3
"""A brownout stdio client, written by `brownout init --stack python`: the place where your own
code meets the mock providers. brownout starts it once and writes one JSON request a line on
stdin; it answers each on stdout, one JSON line, in any order (README "Client stacks"):

  <- {"id": 17, "kind": "chat|stream|vision|tools", "deadline_ms": 500, "request": {...}}
  -> {"id": 17, "text": "<the answer, or the tool call's arguments>", "provider": "primary"}
  -> {"id": 17, "error": "what went wrong"}

"request" is an OpenAI chat completions body with "model" left empty; "anthropic_request" holds
the same as an Anthropic Messages body. Replace answer() with a call into your stack (your SDK
client, your retry and fallback code, your cache) and keep the rest.

Environment: BROWNOUT_PROVIDERS = [{"id", "url", "dialect", "model"}, ...] (this client's
providers, in the order of its `providers`), BROWNOUT_<ID>_KEY when a provider needs a key.
Standard library only.
"""
import json
import os
import re
import sys
import threading
import urllib.error
import urllib.request

PROVIDERS = json.loads(os.environ.get("BROWNOUT_PROVIDERS", "[]"))
WRITE = threading.Lock()


def key_of(provider):
    return os.environ.get("BROWNOUT_%s_KEY" % re.sub(r"[^A-Z0-9]", "_", provider["id"].upper()))


def complete(provider, request):
    """One attempt at one OpenAI-compatible provider; streamed answers are read to their end."""
    body = dict(request, model=provider["model"])
    req = urllib.request.Request(
        provider["url"] + "/v1/chat/completions", data=json.dumps(body).encode(),
        headers={"content-type": "application/json",
                 "authorization": "Bearer " + (key_of(provider) or "sk-starter")})
    try:
        res = urllib.request.urlopen(req, timeout=30)
    except urllib.error.HTTPError as e:
        raise RuntimeError("%s: HTTP %d: %s" % (provider["id"], e.code, e.read()[:200].decode(errors="replace")))
    with res:
        if not body.get("stream"):
            message = json.load(res)["choices"][0]["message"]
            calls = message.get("tool_calls") or []
            return calls[0]["function"]["arguments"] if calls else (message.get("content") or "")
        text, done = "", False
        for raw in res:
            line = raw.decode().strip()
            if not line.startswith("data:"):
                continue  # ": keep-alive" comments, blank lines
            data = line[5:].strip()
            if data == "[DONE]":
                done = True
                continue
            event = json.loads(data)
            if event.get("error"):
                raise RuntimeError("%s: error in the stream: %s" % (provider["id"], event["error"].get("message")))
            delta = (event.get("choices") or [{}])[0].get("delta") or {}
            text += delta.get("content") or ""
            for call in delta.get("tool_calls") or []:
                text += call.get("function", {}).get("arguments") or ""
        if not done:
            raise RuntimeError("%s: the stream ended without [DONE]" % provider["id"])
        return text


def answer(job):
    """Your stack goes here. This starter tries each provider once, in order: the simplest fallback."""
    last = RuntimeError("no providers")
    for provider in PROVIDERS:
        try:
            return {"text": complete(provider, job["request"]), "provider": provider["id"]}
        except Exception as e:  # noqa: BLE001 - any failure moves on to the next provider
            last = e
    raise last


def write(obj):
    with WRITE:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def handle(job):
    try:
        write(dict(id=job["id"], **answer(job)))
    except Exception as e:  # noqa: BLE001
        write({"id": job["id"], "error": str(e)})


if __name__ == "__main__":
    write({"ready": True})  # started: the scenario clock starts now (`ready_line = true`)
    for line in sys.stdin:
        threading.Thread(target=handle, args=(json.loads(line),), daemon=True).start()
