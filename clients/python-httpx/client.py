#!/usr/bin/env python3
"""A brownout stdio client stack the way a Python team hand-rolls it: httpx (Debian's
python3-httpx 0.23.3) posting to /v1/chat/completions, response.raise_for_status(), and a
tenacity (python3-tenacity 8.2.1) @retry decorator around the call.

    python3 clients/python-httpx/client.py --config default|recommended

  default      @retry(stop=stop_after_attempt(3)): what a team writes first. With only `stop`
               given, tenacity retries on any exception (400s and 401s included) and does not
               wait between attempts.
  recommended  @retry(wait=wait_random_exponential(min=1, max=60), stop=stop_after_attempt(6)):
               the decorator of the OpenAI Cookbook, "How to handle rate limits"
               (openai/openai-cookbook, examples/How_to_handle_rate_limits.ipynb, Example #1).
               Also retries on any exception.

Both use httpx's default timeout (5 s for connect, each read, each write and a pool slot) and
its default pool (100 connections). deadline_ms is not used: a hand-rolled stack has only its
HTTP timeout, and the harness judges the deadline. One change to Debian's httpx: TCP_NODELAY on
its sockets, as newer httpcore sets itself (see disable_nagle; --nagle turns it off).
README.md here has the details.

Protocol (one JSON object per line; several requests in flight, matched by id):
  stdin  {"id": 17, "kind": "chat|stream|vision|tools", "deadline_ms": 166, "request": {<OpenAI chat body, model "">}, ...}
  stdout {"id": 17, "text": "<answer or tool-call arguments>", "provider": "deepseek"}
      or {"id": 17, "error": "RetryError: 3 attempts, last: HTTPStatusError: ..."}
Environment: BROWNOUT_PROVIDERS = [{"id","url","dialect","model"}...]; BROWNOUT_PROVIDER picks one
by id (default: the first OpenAI-dialect one); BROWNOUT_<ID>_URL overrides its url and
BROWNOUT_<ID>_KEY, when set, is sent as Authorization: Bearer.
"""

import os
import sys

try:
    import httpx
    import tenacity
except ImportError:
    # Debian's python3-httpx and python3-tenacity live in /usr/lib/python3/dist-packages; a
    # `python3` on PATH from pyenv or a virtualenv does not see them. Run under Debian's own.
    system = "/usr/bin/python3"
    if os.path.realpath(sys.executable) != os.path.realpath(system) and os.access(system, os.X_OK):
        os.execv(system, [system, os.path.abspath(__file__)] + sys.argv[1:])
    print("python-httpx: needs python3-httpx and python3-tenacity (apt-get install python3-httpx python3-tenacity)",
          file=sys.stderr, flush=True)
    raise

import argparse
import json
import socket
import threading

from tenacity import retry, stop_after_attempt, wait_random_exponential


def disable_nagle():
    """Sets TCP_NODELAY on httpx's sockets, as httpcore does itself from 0.17 on
    (encode/httpcore#651, January 2023) but Debian 12's httpcore 0.16.3 does not. Without it a
    request on a reused connection sends its body in a second small segment that Nagle holds until
    the server's delayed ACK (40 ms on Linux): every fast-rejected retry costs 40 ms of wall time,
    which a run at time_scale S reads as 40 ms x S of scenario time (2.4 s at x60), since the
    kernel's timer is beyond libfaketime. --nagle keeps 0.16.3's behaviour."""
    try:
        from httpcore.backends.sync import SyncBackend  # httpcore 0.16
    except ImportError:
        return  # another httpcore: 0.17+ sets TCP_NODELAY itself
    connect_tcp = SyncBackend.connect_tcp

    def connect_tcp_nodelay(self, *args, **kwargs):
        stream = connect_tcp(self, *args, **kwargs)
        sock = stream.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return stream

    SyncBackend.connect_tcp = connect_tcp_nodelay


# ── the provider ──────────────────────────────────────────────────────────────────────────────
def env_name(provider_id):
    return "".join(c if c.isalnum() else "_" for c in provider_id.upper())


def choose_provider():
    """The provider named by BROWNOUT_PROVIDER, else the first OpenAI-dialect one."""
    try:
        providers = json.loads(os.environ.get("BROWNOUT_PROVIDERS", "[]"))
    except ValueError as e:
        return None, f"BROWNOUT_PROVIDERS is not JSON: {e}"
    if not isinstance(providers, list):
        return None, "BROWNOUT_PROVIDERS is not a JSON list"
    providers = [p for p in providers if isinstance(p, dict)]
    wanted = os.environ.get("BROWNOUT_PROVIDER")
    chosen = next((p for p in providers if wanted and p.get("id") == wanted), None)
    if chosen is None:
        chosen = next((p for p in providers if p.get("dialect") == "openai"), None)
    if chosen is None:
        return None, "no OpenAI-compatible provider in BROWNOUT_PROVIDERS"
    return chosen, None


# ── what the team's code looks like ───────────────────────────────────────────────────────────
class Completions:
    """One shared httpx.Client (thread-safe, pooled) and the team's `complete` function."""

    def __init__(self, provider, config):
        pid = str(provider.get("id", ""))
        self.provider_id = pid
        self.model = provider.get("model", "")
        base = os.environ.get(f"BROWNOUT_{env_name(pid)}_URL") or str(provider.get("url", ""))
        self.url = base.rstrip("/") + "/v1/chat/completions"
        headers = {}
        key = os.environ.get(f"BROWNOUT_{env_name(pid)}_KEY")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        # httpx's defaults: Timeout(5.0) and Limits(max_connections=100, max_keepalive_connections=20).
        self.http = httpx.Client(headers=headers)

        if config == "recommended":
            # OpenAI Cookbook, "How to handle rate limits", Example #1 (Tenacity), verbatim.
            decorate = retry(wait=wait_random_exponential(min=1, max=60), stop=stop_after_attempt(6))
        else:
            # What a team writes first: three tries, nothing else said.
            decorate = retry(stop=stop_after_attempt(3))
        self.complete = decorate(self._complete_once)

    def _complete_once(self, body):
        """One attempt: the whole exchange, a streamed body included (httpx's stream must be read
        inside its `with`, so the decorator retries a stream that breaks as well)."""
        if body.get("stream"):
            with self.http.stream("POST", self.url, json=body) as response:
                response.raise_for_status()
                return read_sse(response)
        response = self.http.post(self.url, json=body)
        response.raise_for_status()
        message = response.json()["choices"][0]["message"]
        calls = message.get("tool_calls") or []
        if calls:
            return calls[0]["function"]["arguments"] or ""
        return message.get("content") or ""


class StreamError(Exception):
    pass


def read_sse(response):
    """Collects delta content and the first tool call's arguments, as the openai-node stack does;
    an error event or a stream that ends without `data: [DONE]` is an error."""
    text = []
    event = None
    for line in response.iter_lines():
        if line.startswith("event:"):
            event = line[6:].strip()
            continue
        if not line.startswith("data:"):
            if line == "":
                event = None
            continue  # comments (": keep-alive"), id:, retry:
        data = line[5:].strip()
        if data == "[DONE]":
            return "".join(text)
        chunk = json.loads(data)
        if event == "error" or (isinstance(chunk, dict) and chunk.get("error")):
            detail = chunk.get("error", chunk) if isinstance(chunk, dict) else chunk
            raise StreamError(f"error event: {json.dumps(detail)[:200]}")
        choices = chunk.get("choices") or []
        if not choices:
            continue
        delta = choices[0].get("delta") or {}
        text.append(delta.get("content") or "")
        calls = delta.get("tool_calls") or []
        if calls:
            text.append((calls[0].get("function") or {}).get("arguments") or "")
    raise StreamError("stream ended without [DONE]")


def describe(error):
    """`Type: message` of what went wrong, unwrapping tenacity's RetryError to its last attempt."""
    if isinstance(error, tenacity.RetryError):
        attempt = error.last_attempt
        last = attempt.exception()
        return f"RetryError: {attempt.attempt_number} attempts, last: {describe(last)}"
    message = " ".join(str(error).split())  # httpx's status errors span two lines
    return f"{type(error).__name__}: {message}"[:400]


# ── the stdio protocol ────────────────────────────────────────────────────────────────────────
_out_lock = threading.Lock()


def emit(obj):
    line = json.dumps(obj, ensure_ascii=False) + "\n"
    with _out_lock:
        try:
            sys.stdout.write(line)
            sys.stdout.flush()
        except (OSError, ValueError):
            pass  # the harness went away


def log(message):
    try:
        print(f"python-httpx: {message}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def handle(completions, problem, job):
    rid = job.get("id")
    try:
        if completions is None:
            return emit({"id": rid, "error": f"ConfigError: {problem}"})
        request = job.get("request")
        if not isinstance(request, dict):
            return emit({"id": rid, "error": "BadRequest: the line has no request object"})
        body = dict(request, model=completions.model)
        text = completions.complete(body)
        emit({"id": rid, "text": text, "provider": completions.provider_id})
    except Exception as e:  # every failure becomes the request's error line
        emit({"id": rid, "error": describe(e)})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", choices=["default", "recommended"], default="default",
                        help="default: @retry(stop=stop_after_attempt(3)); recommended: the OpenAI Cookbook's decorator")
    parser.add_argument("--nagle", action="store_true",
                        help="leave Nagle's algorithm on, as Debian's httpcore 0.16.3 does (see disable_nagle)")
    args = parser.parse_args()
    if not args.nagle:
        disable_nagle()
    provider, problem = choose_provider()
    completions = Completions(provider, args.config) if provider is not None else None
    if problem:
        log(problem)

    threading.stack_size(512 * 1024)
    in_flight = 0
    idle = threading.Condition()

    def run(job):
        nonlocal in_flight
        try:
            handle(completions, problem, job)
        finally:
            with idle:
                in_flight -= 1
                idle.notify_all()

    # Started (modules imported, client built): the harness starts the scenario clock on this
    # line (`ready_line = true` in stack.toml), so a slow start is not scored as the incident's.
    emit({"ready": True})
    stdin = sys.stdin.buffer
    while True:
        try:
            raw = stdin.readline()
        except (OSError, ValueError):
            break
        if not raw:
            break
        if not raw.strip():
            continue
        try:
            job = json.loads(raw.decode("utf-8", "replace"))
        except ValueError:
            log(f"not JSON, ignored: {raw[:120]!r}")
            continue
        if not isinstance(job, dict) or "id" not in job:
            log(f"no id, ignored: {raw[:120]!r}")
            continue
        with idle:
            in_flight += 1
        try:
            threading.Thread(target=run, args=(job,), daemon=True).start()
        except RuntimeError as e:  # cannot start a thread: answer rather than hang
            with idle:
                in_flight -= 1
            emit({"id": job.get("id"), "error": f"ClientError: no thread: {e}"})

    with idle:
        while in_flight > 0:
            idle.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
