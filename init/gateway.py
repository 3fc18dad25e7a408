#!/usr/bin/env python3
"""A stand-in gateway, written by `brownout init --stack gateway`: replace it with yours
(LiteLLM, Portkey, your own proxy) in the scenario's [[clients]] table. brownout starts
`command` with a free port for {port}, waits until `url` accepts connections, then sends every
request to it as an OpenAI chat completions call, with the model the table names.

This one forwards each request to the providers in BROWNOUT_PROVIDERS in order and answers with
the first that does not fail: the simplest fallback. Standard library only.
    python3 brownout_gateway.py PORT
"""
import http.server
import json
import os
import re
import sys
import urllib.error
import urllib.request

PROVIDERS = json.loads(os.environ.get("BROWNOUT_PROVIDERS", "[]"))


def key_of(provider):
    return os.environ.get("BROWNOUT_%s_KEY" % re.sub(r"[^A-Z0-9]", "_", provider["id"].upper()))


class Gateway(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet: brownout keeps the journal
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
        status, headers, payload = 502, {"content-type": "application/json"}, b'{"error":{"message":"no provider answered"}}'
        for provider in PROVIDERS:
            req = urllib.request.Request(
                provider["url"] + "/v1/chat/completions",
                data=json.dumps(dict(body, model=provider["model"])).encode(),
                headers={"content-type": "application/json",
                         "authorization": "Bearer " + (key_of(provider) or "sk-starter")})
            try:
                with urllib.request.urlopen(req, timeout=30) as res:
                    status, payload = res.status, res.read()
                    headers = {"content-type": res.headers.get("content-type", "application/json")}
                break
            except urllib.error.HTTPError as e:
                status, payload = e.code, e.read()
            except Exception:  # noqa: BLE001 - refused, reset, cut mid-body: the next provider
                continue
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


if __name__ == "__main__":
    http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Gateway).serve_forever()
