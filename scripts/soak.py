#!/usr/bin/env python3
"""Soak client for a running `chorus serve` (driven by scripts/soak; stdlib only).

Keeps CONCURRENCY requests in flight for DURATION seconds, drawn from a mix of streamed,
non-streamed, abandoned-mid-stream, abandoned-before-answer, n=2, stop-string, seeded and
max_tokens=1 requests, then checks that nothing was lost: every stream ended with a finish,
no request hung, no 5xx, and once idle the server reports nothing running or waiting and an
empty KV cache. Samples the server's resident memory and fails on growth over 30% between the
first and the last minute. Prints a report per outcome; exit status 1 on any failure.
"""
import argparse
import http.client
import json
import random
import statistics
import threading
import time
from collections import Counter, defaultdict

KINDS = ["stream", "nonstream", "abandon_mid_stream", "abandon_before_answer", "n2", "stop", "seeded", "max1"]
WORDS = "the a of river stone light quiet number seven garden market winter road bright letter".split()


def prompt(rng):
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 40)))


class Soak:
    def __init__(self, a):
        self.a = a
        self.host, self.port = a.host, a.port
        self.deadline = time.time() + a.duration
        self.lock = threading.Lock()
        self.outcomes = defaultdict(Counter)  # kind -> outcome -> count
        self.latency = defaultdict(list)
        self.failures = []
        self.seeded_texts = {}  # (prompt, max_tokens) -> text: a seeded request must repeat itself
        self.headers = {"Content-Type": "application/json"}
        if a.api_key:
            self.headers["Authorization"] = "Bearer " + a.api_key

    def record(self, kind, outcome, seconds=None, failure=None):
        with self.lock:
            self.outcomes[kind][outcome] += 1
            if seconds is not None:
                self.latency[kind].append(seconds)
            if failure:
                self.failures.append(f"{kind}: {failure}")

    def conn(self):
        return http.client.HTTPConnection(self.host, self.port, timeout=self.a.hang_seconds)

    def post(self, path, body):
        c = self.conn()
        c.request("POST", path, json.dumps(body), self.headers)
        return c, c.getresponse()

    def worker(self, seed):
        rng = random.Random(seed)
        while time.time() < self.deadline:
            kind = rng.choice(KINDS)
            t0 = time.time()
            try:
                getattr(self, kind)(rng, kind, t0)
            except TimeoutError:
                self.record(kind, "hung", failure=f"no answer within {self.a.hang_seconds} s")
            except (ConnectionError, http.client.HTTPException, OSError) as e:
                self.record(kind, "connection_error", failure=repr(e))
            except Exception as e:  # a malformed answer: counted, and the client goes on
                self.record(kind, "client_error", failure=repr(e))

    def status_outcome(self, kind, r, t0):
        """Non-200 answers: 429 is allowed back-pressure; other 4xx and any 5xx fail the soak."""
        body = r.read().decode(errors="replace")
        if r.status == 429:
            ok = r.getheader("Retry-After") is not None
            self.record(kind, "rejected_429", failure=None if ok else "429 without Retry-After")
        elif r.status >= 500:
            self.record(kind, f"http_{r.status}", failure=body[:200])
        else:
            self.record(kind, f"http_{r.status}", failure=body[:200])

    def read_stream(self, r, n, stop_after=None):
        """Reads SSE until [DONE]; returns (finished choice indexes, done seen, chunks read)."""
        finished, chunks = set(), 0
        while True:
            line = r.readline()
            if not line:
                return finished, False, chunks
            line = line.strip()
            if not line.startswith(b"data: "):
                continue
            data = line[6:]
            if data == b"[DONE]":
                return finished, True, chunks
            chunks += 1
            obj = json.loads(data)
            if "error" in obj:
                raise RuntimeError("error event: " + data.decode()[:200])
            for ch in obj.get("choices", []):
                if ch.get("finish_reason"):
                    finished.add(ch["index"])
            if stop_after is not None and chunks >= stop_after:
                return finished, None, chunks

    def stream(self, rng, kind, t0):
        c, r = self.post("/v1/completions", {"prompt": prompt(rng), "max_tokens": rng.randint(8, 160), "stream": True,
                                            "temperature": 0.8})
        if r.status != 200:
            return self.status_outcome(kind, r, t0)
        try:
            finished, done, _ = self.read_stream(r, 1)
        except RuntimeError as e:
            return self.record(kind, "stream_error", failure=str(e))
        finally:
            c.close()
        if finished == {0} and done:
            self.record(kind, "ok", time.time() - t0)
        else:
            self.record(kind, "lost_stream", failure=f"finished={finished} done={done}")

    def abandon_mid_stream(self, rng, kind, t0):
        c, r = self.post("/v1/chat/completions", {"messages": [{"role": "user", "content": prompt(rng)}],
                                                 "max_tokens": 200, "ignore_eos": True, "stream": True})
        if r.status != 200:
            return self.status_outcome(kind, r, t0)
        self.read_stream(r, 1, stop_after=rng.randint(1, 6))
        c.close()
        self.record(kind, "abandoned", time.time() - t0)

    def abandon_before_answer(self, rng, kind, t0):
        c = self.conn()
        c.request("POST", "/v1/completions", json.dumps({"prompt": prompt(rng), "max_tokens": 300, "ignore_eos": True}),
                  self.headers)
        time.sleep(rng.uniform(0.05, 1.0))
        c.close()
        self.record(kind, "abandoned", time.time() - t0)

    def complete(self, kind, t0, path, body, check):
        c, r = self.post(path, body)
        if r.status != 200:
            c.close()
            return self.status_outcome(kind, r, t0)
        obj = json.loads(r.read())
        c.close()
        problem = check(obj)
        if problem:
            self.record(kind, "bad_answer", failure=problem)
        else:
            self.record(kind, "ok", time.time() - t0)

    def nonstream(self, rng, kind, t0):
        self.complete(kind, t0, "/v1/chat/completions",
                      {"messages": [{"role": "user", "content": prompt(rng)}], "max_tokens": rng.randint(8, 120)},
                      lambda o: None if o["choices"][0]["finish_reason"] in ("stop", "length") else "no finish")

    def n2(self, rng, kind, t0):
        self.complete(kind, t0, "/v1/completions", {"prompt": prompt(rng), "n": 2, "max_tokens": rng.randint(8, 80),
                                                   "temperature": 1.0},
                      lambda o: None if sorted(ch["index"] for ch in o["choices"]) == [0, 1]
                      and all(ch["finish_reason"] for ch in o["choices"]) else "n=2 answer incomplete")

    def stop(self, rng, kind, t0):
        self.complete(kind, t0, "/v1/completions", {"prompt": prompt(rng), "max_tokens": 120, "stop": ["e", "a "]},
                      lambda o: None if o["choices"][0]["finish_reason"] in ("stop", "length")
                      and "e" not in o["choices"][0]["text"] else "stop string leaked or no finish")

    def seeded(self, rng, kind, t0):
        p = " ".join(WORDS[: rng.randint(3, 6)])
        key = (p, 24)

        def check(o):
            text = o["choices"][0]["text"]
            with self.lock:
                first = self.seeded_texts.setdefault(key, text)
            return None if first == text else f"seed 42 gave {text!r}, earlier {first!r}"
        self.complete(kind, t0, "/v1/completions", {"prompt": p, "max_tokens": 24, "seed": 42, "temperature": 0.9}, check)

    def max1(self, rng, kind, t0):
        self.complete(kind, t0, "/v1/completions", {"prompt": prompt(rng), "max_tokens": 1},
                      lambda o: None if o["usage"]["completion_tokens"] == 1 else "max_tokens=1 gave more")

    def metrics(self):
        c = self.conn()
        c.request("GET", "/metrics", headers=self.headers)
        text = c.getresponse().read().decode()
        c.close()
        out = {}
        for line in text.splitlines():
            if line.startswith("#") or " " not in line:
                continue
            name = line.split("{")[0].split(" ")[0]
            out.setdefault(name, float(line.rsplit(" ", 1)[1]))
        return out


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True, help="the server's process id (resident memory)")
    ap.add_argument("--duration", type=float, default=600)
    ap.add_argument("--concurrency", type=int, required=True)
    ap.add_argument("--hang-seconds", type=float, default=180)
    ap.add_argument("--api-key")
    a = ap.parse_args()
    s = Soak(a)
    rss = []
    start = time.time()
    threads = [threading.Thread(target=s.worker, args=(i,), daemon=True) for i in range(a.concurrency)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        rss.append((time.time() - start, rss_kb(a.pid)))
        time.sleep(5)
    elapsed = time.time() - start

    # Idle: everything must drain.
    m = {}
    for _ in range(60):
        m = s.metrics()
        if m.get("vllm:num_requests_running", 1) == 0 and m.get("vllm:num_requests_waiting", 1) == 0 \
                and m.get("vllm:kv_cache_usage_perc", 1) == 0:
            break
        time.sleep(0.5)
    for name in ("vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc"):
        if m.get(name) != 0:
            s.failures.append(f"after the run {name} = {m.get(name)} (a leaked request or block)")

    window = 60 if elapsed >= 180 else max(5, elapsed / 5)
    first = [kb for t, kb in rss if t <= window]
    last = [kb for t, kb in rss if t >= elapsed - window]
    growth = (statistics.mean(last) / statistics.mean(first) - 1) if first and last else 0.0
    if growth > 0.30:
        s.failures.append(f"resident memory grew {growth:.0%} between the first and the last {window:.0f} s")

    total = sum(sum(c.values()) for c in s.outcomes.values())
    print(f"soak: {elapsed:.0f} s, {a.concurrency} clients, {total} requests ({total / elapsed:.1f}/s)")
    print(f"{'kind':24s} {'requests':>8s}  outcomes                              p50 s   p99 s")
    for kind in KINDS:
        c = s.outcomes[kind]
        lat = sorted(s.latency[kind])
        p50 = lat[len(lat) // 2] if lat else float("nan")
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else float("nan")
        desc = ", ".join(f"{k} {v}" for k, v in sorted(c.items()))
        print(f"{kind:24s} {sum(c.values()):8d}  {desc:36s} {p50:6.2f}  {p99:6.2f}")
    print(f"engine: preemptions {m.get('vllm:num_preemptions_total', float('nan')):.0f}, "
          f"prompt tokens {m.get('vllm:prompt_tokens_total', 0):.0f}, generated tokens {m.get('vllm:generation_tokens_total', 0):.0f}")
    print(f"after the run: running {m.get('vllm:num_requests_running')}, waiting {m.get('vllm:num_requests_waiting')}, "
          f"KV cache usage {m.get('vllm:kv_cache_usage_perc')}")
    print(f"resident memory: first {window:.0f} s {statistics.mean(first) / 1024:.0f} MiB, last {window:.0f} s "
          f"{statistics.mean(last) / 1024:.0f} MiB ({growth:+.1%}); peak {max(kb for _, kb in rss) / 1024:.0f} MiB")
    if s.failures:
        print(f"FAIL: {len(s.failures)} problem(s)")
        for f in s.failures[:30]:
            print("  " + f)
        return 1
    print("PASS: no lost stream, hung request, 5xx, leaked block or request, or memory growth")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
