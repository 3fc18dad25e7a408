#!/usr/bin/env python3
"""A brownout stdio client stack in plain Python 3 (standard library only) with the retry loop of
the official OpenAI SDKs, built for the validity suite (tests/validity/): two instances of it
differ in exactly one behaviour, whether they honour Retry-After.

    python3 clients/python-retry/client.py [--retry-after honour|ignore] [--max-retries N]

Protocol (one JSON object per line; several requests in flight, matched by id):
  stdin  {"id": 17, "kind": "chat|stream|vision|tools", "deadline_ms": 166, "request": {<OpenAI chat body, model "">}, ...}
  stdout {"id": 17, "text": "<answer or tool-call arguments>", "provider": "deepseek"}
      or {"id": 17, "error": "HTTP 429: ..."}
Environment: BROWNOUT_PROVIDERS = [{"id","url","dialect","model"}...] (the first OpenAI-dialect one
is used), BROWNOUT_<ID>_KEY when the provider requires an API key, BROWNOUT_TIME_SCALE (scenario
seconds per wall second).

Retries: up to --max-retries (default 2) on 408, 409, 429, >= 500, connection errors and
timeouts (x-should-retry, when the provider sends it, decides first, as in the SDK); never once a
stream has started. Between attempts: with --retry-after honour, the wait announced by
retry-after-ms or else retry-after (seconds or an HTTP-date; wall time on the wire) when it is
> 0; otherwise, and always with --retry-after ignore, 0.5 s x 2^n capped at 8 s times a random
factor in (0.75, 1], in scenario time (divided by BROWNOUT_TIME_SCALE). Each attempt may take
deadline_ms of wall time; no attempt is started and no wait begun that would end after the
request's deadline (deadline_ms after its line was read): the request then fails with the last error.
"""

import argparse
import email.utils
import http.client
import json
import math
import os
import random
import sys
import threading
import time
import urllib.parse

DEFAULT_TIMEOUT = 600.0  # the SDK's ten minutes, for a request line without deadline_ms
RETRYABLE_STATUS = {408, 409, 429}


class Failure(Exception):
    """An attempt that did not produce an answer."""

    def __init__(self, message, retryable, headers=None):
        super().__init__(message)
        self.retryable = retryable
        self.headers = headers  # the response's headers when there was a response


class Settings:
    def __init__(self, args):
        self.honour_retry_after = args.retry_after == "honour"
        self.max_retries = max(0, args.max_retries)
        try:
            scale = float(os.environ.get("BROWNOUT_TIME_SCALE", "1"))
        except ValueError:
            scale = 1.0
        self.time_scale = scale if math.isfinite(scale) and scale > 0 else 1.0
        self.provider = None
        self.provider_error = None
        try:
            providers = json.loads(os.environ.get("BROWNOUT_PROVIDERS", "[]"))
            self.provider = next(p for p in providers if isinstance(p, dict) and p.get("dialect") == "openai")
        except StopIteration:
            self.provider_error = "no OpenAI-compatible provider in BROWNOUT_PROVIDERS"
        except (ValueError, TypeError) as e:
            self.provider_error = f"BROWNOUT_PROVIDERS is not a JSON list: {e}"
        if self.provider is None:
            return
        pid = str(self.provider.get("id", ""))
        self.provider_id = pid
        self.model = self.provider.get("model", "")
        env_name = "".join(c if c.isalnum() else "_" for c in pid.upper())
        url = os.environ.get(f"BROWNOUT_{env_name}_URL") or str(self.provider.get("url", ""))
        parts = urllib.parse.urlsplit(url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if self.https else 80)
        self.path = parts.path.rstrip("/") + "/v1/chat/completions"
        self.headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": "brownout-python-retry/1",
        }
        key = os.environ.get(f"BROWNOUT_{env_name}_KEY")
        if key:
            self.headers["Authorization"] = f"Bearer {key}"


# ── output ────────────────────────────────────────────────────────────────────────────────────
_out_lock = threading.Lock()


def emit(obj):
    line = json.dumps(obj, ensure_ascii=False) + "\n"
    with _out_lock:
        try:
            sys.stdout.write(line)
            sys.stdout.flush()
        except (OSError, ValueError):
            pass  # the harness went away; nothing left to tell it


def log(message):
    try:
        print(f"python-retry: {message}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


# ── one attempt ───────────────────────────────────────────────────────────────────────────────
class Attempt:
    """One HTTP exchange with a wall-clock budget of `timeout` seconds for all of it."""

    def __init__(self, settings, timeout):
        self.s = settings
        self.end = time.monotonic() + timeout
        self.sock = None
        self.conn = None

    def remaining(self):
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError("attempt timed out")
        return left

    def arm(self):
        if self.sock is not None:
            self.sock.settimeout(self.remaining())

    def close(self):
        try:
            if self.conn is not None:
                self.conn.close()
            if self.sock is not None:
                self.sock.close()
        except OSError:
            pass

    def open(self, body):
        """Sends the request; returns the response (headers read)."""
        s = self.s
        cls = http.client.HTTPSConnection if s.https else http.client.HTTPConnection
        try:
            self.conn = cls(s.host, s.port, timeout=self.remaining())
            self.conn.connect()
            self.sock = self.conn.sock
            self.arm()
            self.conn.request("POST", s.path, body=body, headers=s.headers)
            self.arm()
            return self.conn.getresponse()
        except TimeoutError:
            raise Failure("APITimeoutError: Request timed out.", True)
        except (OSError, http.client.HTTPException) as e:
            raise Failure(f"APIConnectionError: {type(e).__name__}: {e}", True)

    def read_all(self, response):
        chunks = []
        while True:
            self.arm()
            chunk = response.read(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)

    def readline(self, response):
        self.arm()
        return response.readline(1 << 20)


def should_retry(status, headers):
    flag = (headers.get("x-should-retry") or "").strip().lower()
    if flag == "true":
        return True
    if flag == "false":
        return False
    return status in RETRYABLE_STATUS or status >= 500


def non_stream_text(payload):
    message = payload["choices"][0]["message"]
    calls = message.get("tool_calls") or []
    if calls:
        return calls[0]["function"]["arguments"] or ""
    return message.get("content") or ""


def stream_text(attempt, response):
    text = []
    done = False
    try:
        while True:
            raw = attempt.readline(response)
            if not raw:
                break
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not line.startswith("data:"):
                continue  # blank separators, event:, id:, comments
            data = line[5:].strip()
            if data == "[DONE]":
                done = True
                break
            chunk = json.loads(data)
            if isinstance(chunk, dict) and chunk.get("error"):
                raise Failure(f"APIError: stream error: {json.dumps(chunk['error'])[:200]}", False)
            choices = chunk.get("choices") or []
            if not choices:
                continue
            delta = choices[0].get("delta") or {}
            text.append(delta.get("content") or "")
            for call in (delta.get("tool_calls") or [])[:1]:
                text.append((call.get("function") or {}).get("arguments") or "")
    except Failure:
        raise
    except TimeoutError:
        raise Failure("APITimeoutError: stream timed out", False)
    except (OSError, http.client.HTTPException) as e:
        raise Failure(f"StreamError: stream broken: {type(e).__name__}: {e}", False)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
        raise Failure(f"StreamError: bad event: {type(e).__name__}: {e}", False)
    if not done:
        raise Failure("StreamError: stream ended without [DONE]", False)
    return "".join(text)


def attempt_once(settings, body, stream, timeout):
    """Returns the answer text or raises Failure."""
    attempt = Attempt(settings, timeout)
    try:
        response = attempt.open(body)
        status = response.status
        headers = response.headers
        if not 200 <= status < 300:
            try:
                detail = attempt.read_all(response).decode("utf-8", "replace")
            except Exception:  # the status decides; a broken error body does not matter
                detail = ""
            raise Failure(f"HTTP {status}: {detail[:200]}", should_retry(status, headers), headers)
        if stream:
            return stream_text(attempt, response)
        try:
            raw = attempt.read_all(response)
        except TimeoutError:
            raise Failure("APITimeoutError: Request timed out.", True)
        except (OSError, http.client.HTTPException) as e:
            raise Failure(f"APIConnectionError: {type(e).__name__}: {e}", True)
        try:
            return non_stream_text(json.loads(raw))
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
            raise Failure(f"APIError: unexpected body ({type(e).__name__}: {e}): {raw[:200].decode('utf-8', 'replace')}", False)
    finally:
        attempt.close()


# ── the retry loop ────────────────────────────────────────────────────────────────────────────
def announced_wait(headers):
    """Seconds (wall) the response asked us to wait, or None: retry-after-ms, then retry-after."""
    if headers is None:
        return None
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            wait = float(value) / 1000.0
            if math.isfinite(wait):
                return wait
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        wait = float(value)
        return wait if math.isfinite(wait) else None
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return when.timestamp() - time.time()


def backoff(settings, retries_done):
    seconds = min(0.5 * 2.0 ** retries_done, 8.0) * (1.0 - 0.25 * random.random())
    return seconds / settings.time_scale


def handle(settings, job, read_at):
    rid = job.get("id")
    try:
        if settings.provider is None:
            return emit({"id": rid, "error": f"ConfigError: {settings.provider_error}"})
        request = job.get("request")
        if not isinstance(request, dict):
            return emit({"id": rid, "error": "BadRequest: the line has no request object"})
        request = dict(request)
        request["model"] = settings.model
        stream = bool(request.get("stream"))
        body = json.dumps(request).encode("utf-8")
        deadline_ms = job.get("deadline_ms")
        if isinstance(deadline_ms, (int, float)) and not isinstance(deadline_ms, bool) and math.isfinite(deadline_ms) and deadline_ms > 0:
            timeout = deadline_ms / 1000.0
            deadline = read_at + timeout
        else:
            timeout, deadline = DEFAULT_TIMEOUT, None

        retries_done = 0
        last = None
        while True:
            if deadline is not None and time.monotonic() >= deadline:
                return emit({"id": rid, "error": last or "APITimeoutError: deadline passed before the first attempt"})
            try:
                text = attempt_once(settings, body, stream, timeout)
                return emit({"id": rid, "text": text, "provider": settings.provider_id})
            except Failure as f:
                last = str(f)
                if not f.retryable or retries_done >= settings.max_retries:
                    return emit({"id": rid, "error": last})
                wait = announced_wait(f.headers) if settings.honour_retry_after else None
                if wait is None or wait <= 0:
                    wait = backoff(settings, retries_done)
            if deadline is not None and time.monotonic() + wait > deadline:
                return emit({"id": rid, "error": last})
            time.sleep(wait)
            retries_done += 1
    except Exception as e:  # never lose a request to a bug: answer it with the error
        emit({"id": rid, "error": f"ClientError: {type(e).__name__}: {e}"})


# ── main ──────────────────────────────────────────────────────────────────────────────────────
def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--retry-after", choices=["honour", "ignore"], default="honour",
                        help="honour retry-after-ms / retry-after, or always use the exponential backoff")
    parser.add_argument("--max-retries", type=int, default=2, help="retries after the first attempt (default 2)")
    settings = Settings(parser.parse_args())
    if settings.provider is None:
        log(settings.provider_error)

    threading.stack_size(512 * 1024)
    in_flight = 0
    idle = threading.Condition()

    def run(job, read_at):
        nonlocal in_flight
        try:
            handle(settings, job, read_at)
        finally:
            with idle:
                in_flight -= 1
                idle.notify_all()

    stdin = sys.stdin.buffer
    while True:
        try:
            raw = stdin.readline()
        except (OSError, ValueError):
            break
        if not raw:
            break
        read_at = time.monotonic()
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
            threading.Thread(target=run, args=(job, read_at), daemon=True).start()
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
