#!/usr/bin/env python3
"""The figures of Benchmarks/RELIABILITY.md, measured against a real release lethed:

    python3 Benchmarks/reliability.py [--frames 100000] [--clients 64] [--requests 1000] [--kills 50] [--out results.json]

1. fuzz: --frames mutated frames in both framings (malformed Content-Length headers, truncated and mutated bodies,
   invalid JSON, batches, oversize frames), 100 per connection; every reply must be well-formed JSON-RPC 2.0, the
   daemon must survive, and its resident memory after the run is compared with after the first tenth.
2. load: --clients clients × --requests requests each (server/status, model/info, fleet/list, run/list, unknown
   methods) while a model trains on another connection: no errors; latency percentiles of server/status.
3. kills: --kills times, a daemon trains, saves to its library and records runs on three connections and is
   SIGKILLed at a random moment; the next start must open the store, hold every run whose request was answered and
   no run still marked running, and load every saved model with the fingerprint of weights the daemon published
   (a create, a train or a save reported it) — never a torn file. A train whose reply the kill swallowed can publish
   weights no reply reported; a save of those would be listed as a problem (it did not happen in the recorded run).
Standard library only. Build first: swift build -c release.
"""
import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Protocol"))
from check_replies import write_synthetic_dataset  # noqa: E402  (uncompressed IDX files of a learnable toy set)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start(work, state, *extra):
    binary = os.path.join(subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, capture_output=True,
                                         text=True).stdout.strip(), "lethed")
    sock = os.path.join(work, f"l{random.randrange(1 << 30)}.sock")
    p = subprocess.Popen([binary, "--socket", sock, "--state-dir", state, "--log-level", "error", *extra],
                         stderr=open(os.path.join(work, "lethed.log"), "a"))
    for _ in range(200):
        if os.path.exists(sock):
            return p, sock
        if p.poll() is not None:
            raise RuntimeError(f"lethed exited with {p.returncode}")
        time.sleep(0.02)
    raise RuntimeError("lethed did not start")


class Line:
    """One line-framed connection."""
    def __init__(self, sock):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(sock)
        self.f = self.s.makefile("rwb")
        self.next = 1

    def send(self, method, params=None):
        rid = self.next
        self.next += 1
        msg = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        self.f.write((json.dumps(msg) + "\n").encode())
        self.f.flush()
        return rid

    def reply(self):
        while True:
            line = self.f.readline()
            if not line:
                raise ConnectionError("closed")
            m = json.loads(line)
            if "id" in m:
                return m

    def call(self, method, params=None):
        self.send(method, params)
        return self.reply()


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def well_formed(m):
    if isinstance(m, list):
        return len(m) > 0 and all(well_formed(x) for x in m)
    if not isinstance(m, dict) or m.get("jsonrpc") != "2.0" or "id" not in m:
        return False
    if "error" in m:
        e = m["error"]
        return "result" not in m and isinstance(e, dict) and isinstance(e.get("code"), int) and isinstance(e.get("message"), str)
    return "result" in m


BASES = [
    {"jsonrpc": "2.0", "id": 1, "method": "server/status"},
    {"jsonrpc": "2.0", "id": "a", "method": "initialize", "params": {"clientInfo": {"name": "fuzz"}}},
    {"jsonrpc": "2.0", "id": 2, "method": "model/info", "params": {"model": "nope"}},
    {"jsonrpc": "2.0", "id": 3, "method": "split/info", "params": {"name": "nope"}},
    {"jsonrpc": "2.0", "id": 4, "method": "fleet/list"},
    {"jsonrpc": "2.0", "id": 5, "method": "run/list", "params": {"limit": 2}},
    {"jsonrpc": "2.0", "id": 6, "method": "no/such", "params": [1, 2]},
    {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 9}},
]


def fuzz_body(rng):
    kind = rng.randrange(6)
    base = json.dumps(rng.choice(BASES)).encode()
    if kind == 0:  # byte mutations
        b = bytearray(base)
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b)
    if kind == 1:  # truncated
        return base[:rng.randrange(1, len(base))]
    if kind == 2:  # batch
        return json.dumps([rng.choice(BASES) for _ in range(rng.randint(1, 4))] + ([rng.choice([1, "x", None])] if rng.random() < 0.3 else [])).encode()
    if kind == 3:  # not JSON at all
        return bytes(rng.randrange(32, 127) for _ in range(rng.randint(1, 40)))
    if kind == 4:  # wrong shapes
        return json.dumps(rng.choice([[], {}, {"jsonrpc": "1.0", "id": 1, "method": "x"}, {"id": {}, "method": 3}, "str", 7])).encode()
    return base


def fuzz_round(sock, rng, frames):
    """One connection: `frames` frames in one framing, then half-close and read every reply until EOF."""
    content_length = rng.random() < 0.5
    out = bytearray()
    for _ in range(frames):
        body = fuzz_body(rng)
        if content_length:
            r = rng.random()
            if r < 0.03:
                out += b"Content-Length: abc\r\n\r\n" + body  # malformed header: the connection ends after it
            elif r < 0.05:
                out += b"Content-Length: 99999999999\r\n\r\n"   # over the frame limit
            else:
                out += b"Content-Length: %d\r\n\r\n" % len(body) + body
        else:
            out += body.replace(b"\n", b" ") + b"\n"
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    s.settimeout(30)
    try:
        s.sendall(bytes(out))
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    data = bytearray()
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    s.close()
    replies, bad = 0, 0
    # The daemon picks the framing from the connection's first byte, so read its replies in the framing it chose.
    if data.startswith(b"Content-Length"):
        rest = bytes(data)
        while rest:
            head, _, rest = rest.partition(b"\r\n\r\n")
            n = int(head.split(b":")[1])
            body, rest = rest[:n], rest[n:]
            replies += 1
            bad += not well_formed(json.loads(body))
    else:
        for line in bytes(data).split(b"\n"):
            if line.strip():
                replies += 1
                try:
                    bad += not well_formed(json.loads(line))
                except ValueError:
                    bad += 1
    return replies, bad


def fuzz(args, work):
    p, sock = start(work, os.path.join(work, "fuzz-state"))
    rng = random.Random(1)
    rounds = args.frames // 100
    replies = bad = 0
    rss_early = None
    start_time = time.time()
    for i in range(rounds):
        r, b = fuzz_round(sock, rng, 100)
        replies += r
        bad += b
        if i == rounds // 10:
            rss_early = rss(p.pid)
        if p.poll() is not None:
            break
    alive = p.poll() is None and Line(sock).call("server/status").get("result") is not None
    result = {"frames": rounds * 100, "replies": replies, "malformedReplies": bad, "survived": alive,
              "rssAfterTenthMiB": rss_early / 2**20, "rssAtEndMiB": rss(p.pid) / 2**20, "seconds": time.time() - start_time}
    p.terminate()
    p.wait()
    return result


def load(args, work, data):
    p, sock = start(work, os.path.join(work, "load-state"))
    c = Line(sock)
    c.call("dataset/load", {"name": "d", "path": data, "classes": 3})
    c.call("model/create", {"name": "m", "architecture": {"kind": "mlp", "hidden": [64]}, "dataset": "d"})
    trainer = Line(sock)
    trainer.send("model/train", {"model": "m", "dataset": "d", "epochs": 100000, "batchSize": 4})
    errors, latencies, lock = [], [], threading.Lock()

    def client(k):
        conn = Line(sock)
        rng = random.Random(k)
        mine = []
        for i in range(args.requests):
            method, params, expect = rng.choice([("server/status", None, "result"), ("server/status", None, "result"),
                                                 ("model/info", {"model": "m"}, "result"), ("fleet/list", None, "result"),
                                                 ("run/list", {"limit": 5}, "result"), ("no/such", None, "error")])
            t = time.perf_counter()
            r = conn.call(method, params)
            dt = time.perf_counter() - t
            if method == "server/status":
                mine.append(dt)
            if expect not in r or (expect == "error" and r["error"]["code"] != -32601):
                with lock:
                    errors.append((method, r))
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - t0
    training = any(j["method"] == "model/train" for j in Line(sock).call("server/status")["result"]["jobs"])
    latencies.sort()
    pct = lambda q: 1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    p.terminate()
    p.wait()
    return {"clients": args.clients, "requests": args.clients * args.requests, "errors": len(errors), "firstErrors": errors[:3],
            "statusP50ms": pct(0.5), "statusP99ms": pct(0.99), "statusMaxMs": 1000 * latencies[-1], "seconds": wall,
            "trainingThroughout": training}


def kills(args, work, data):
    state = os.path.join(work, "kill-state")
    rng = random.Random(7)
    answered = {}       # run kind → answered count, from replies received before each kill
    fingerprints = {}   # saved model name → fingerprints any save reported or could have written
    problems = []
    acknowledged_runs = 0
    for k in range(args.kills):
        p, sock = start(work, state)
        c = Line(sock)
        listed = c.call("run/list", {"limit": 1000})["result"]
        if listed["total"] < acknowledged_runs:
            problems.append(f"restart {k}: {listed['total']} runs recorded, {acknowledged_runs} were answered")
        if any(r["status"] == "running" for r in listed["runs"]):
            problems.append(f"restart {k}: a run is still marked running after a restart")
        for m in c.call("model/list")["result"]["models"]:
            if m["saved"]:
                r = c.call("model/load", {"name": m["name"], "replace": True})
                if "error" in r:
                    problems.append(f"restart {k}: saved model {m['name']} does not load: {r['error']['message']}")
                elif r["result"]["fingerprint"] not in fingerprints.get(m["name"], set()):
                    problems.append(f"restart {k}: saved model {m['name']} has fingerprint {r['result']['fingerprint']}, never saved")
        c.call("dataset/load", {"name": "d", "path": data, "classes": 3})
        c.call("split/create", {"name": "s", "dataset": "d", "forget": {"count": 20}})
        name = f"m{k % 3}"
        c.call("model/create", {"name": name, "architecture": {"kind": "mlp", "hidden": [32]}, "dataset": "d", "seed": k})
        fingerprints.setdefault(name, set()).add(c.call("model/info", {"model": name})["result"]["fingerprint"])
        got = []

        def work_loop(kind):
            conn = Line(sock)
            try:
                while True:
                    if kind == "train":
                        r = conn.call("model/train", {"model": name, "dataset": "d", "epochs": 1, "batchSize": 8})
                        fingerprints[name].add(r["result"]["fingerprint"])  # the weights it published
                    elif kind == "save":
                        fp = conn.call("model/info", {"model": name})["result"]["fingerprint"]
                        fingerprints[name].add(fp)  # a save in flight may write these weights
                        r = conn.call("model/save", {"model": name})
                        fingerprints[name].add(r["result"]["fingerprint"])
                    else:
                        r = conn.call("evaluate", {"model": name, "split": "s"})
                    got.append(kind)
            except (ConnectionError, OSError, ValueError):
                pass

        workers = [threading.Thread(target=work_loop, args=(kind,), daemon=True) for kind in ("train", "save", "evaluate")]
        for w in workers:
            w.start()
        time.sleep(rng.uniform(0.05, 0.6))
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        for w in workers:
            w.join(5)
        # model/create's fingerprint changes with every train; every acknowledged train or evaluate is a run.
        acknowledged_runs += listed["total"] - acknowledged_runs + sum(1 for g in got if g in ("train", "evaluate"))
    p, sock = start(work, state)
    final = Line(sock).call("run/list", {"limit": 1})["result"]["total"]
    p.terminate()
    p.wait()
    return {"kills": args.kills, "runsRecorded": final, "runsAnswered": acknowledged_runs, "problems": problems}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=100000)
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--phases", default="fuzz,load,kills")
    ap.add_argument("--out")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="lethe-reliability-")
    data = os.path.join(work, "data")
    os.makedirs(data)
    write_synthetic_dataset(data)
    out = {}
    for phase in args.phases.split(","):
        out[phase] = {"fuzz": fuzz, "load": lambda a, w: load(a, w, data), "kills": lambda a, w: kills(a, w, data)}[phase](args, work)
        print(phase, json.dumps(out[phase]), file=sys.stderr, flush=True)
        if args.out:
            json.dump(out, open(args.out, "w"), indent=1)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
