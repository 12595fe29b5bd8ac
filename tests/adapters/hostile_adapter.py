#!/usr/bin/env python3
"""A protocol v1 adapter that attacks the auditor, for tests/adapter_faults.rs (standard library only).

Usage: hostile_adapter.py MODE [--pids FILE] [--outside DIR]

`--pids FILE` appends one line `ROLE PID PGID` for this process (role `adapter`) and for every
process it starts (role `grandchild`), so that the test can check that none outlives the audit.
`--outside DIR` is a directory outside the work directory that the attacks aim at.

Offered ops: gumbel, categorical, relaxed_sample, relaxed_log_prob, grad (estimator reinforce).
Results are written in try/except: an OSError (a full disk) is answered as `ok: false`, the way
an adapter reports its implementation's exception. MODE `good` behaves; the others misbehave:

  hang_group     on the first request after hello: start a grandchild `sleep` and hang
  fork_and_die   on gumbel: start a grandchild `sleep` that keeps stdout open, write to stderr,
                 exit with status 5
  fifo           on gumbel: make a FIFO at `out` and answer ok
  symlink_out    on gumbel: make `out` a symbolic link to OUTSIDE/secret.npy and answer ok
  plant_y        on gumbel: answer normally, then plant a symbolic link at the next request's
                 `y` path (`<id+1>-y.npy`) pointing to OUTSIDE/victim.txt
  swap_dir       on gumbel: move the work directory away, put a symbolic link to OUTSIDE in its
                 place, plant OUTSIDE/<id>.npy ("victim"), write the result in the moved
                 directory and answer ok
  crash_gumbel   on every gumbel: write 30 numbered lines to stderr and exit with status 3
  silent_bye     never answers bye
  ignore_bye     answers bye but does not exit
  slow_hello     sleeps 3 s before answering hello
  ansi_name      answers hello with ANSI escapes, a newline and 10 000 characters in its name
"""
import json
import math
import os
import random
import struct
import subprocess
import sys
import time

MODE = sys.argv[1] if len(sys.argv) > 1 else "good"


def option(name):
    if name in sys.argv:
        i = sys.argv.index(name)
        if i + 1 < len(sys.argv):
            return sys.argv[i + 1]
    return None


PIDS = option("--pids")
OUTSIDE = option("--outside")


def record(role, pid):
    if PIDS:
        with open(PIDS, "a") as f:
            f.write("%s %d %d\n" % (role, pid, os.getpgid(pid)))


def grandchild(keep_stdout):
    p = subprocess.Popen(
        ["sleep", "3600"],
        stdin=subprocess.DEVNULL,
        stdout=None if keep_stdout else subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    record("grandchild", p.pid)
    return p


def npy_bytes(shape, values, descr="<f8"):
    fmt = {"<f8": "d", "<i8": "q"}[descr]
    if len(shape) == 1:
        shape_txt = "(%d,)" % shape[0]
    else:
        shape_txt = "(%s)" % ", ".join(str(d) for d in shape)
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape_txt)
    pad = (64 - (10 + len(header) + 1) % 64) % 64
    header = header + " " * pad + "\n"
    head = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("ascii")
    return head + struct.pack("<%d%s" % (len(values), fmt), *values)


def read_npy(path):
    with open(path, "rb") as f:
        data = f.read()
    (hlen,) = struct.unpack("<H", data[8:10])
    import ast

    header = ast.literal_eval(data[10 : 10 + hlen].decode("ascii"))
    n = 1
    for d in header["shape"]:
        n *= d
    return header["shape"], list(struct.unpack("<%dd" % n, data[10 + hlen :]))


def num(x):
    if isinstance(x, str):
        return {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}[x]
    return float(x)


def gumbel(rng):
    u = rng.random()
    while u == 0.0:
        u = rng.random()
    return -math.log(-math.log(u))


def send(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def result(req):
    """The (shape, values, descr) of a well-behaved answer."""
    op, n = req["op"], req.get("n", 0)
    rng = random.Random(req.get("seed", 0))
    if op == "gumbel":
        return [n], [gumbel(rng) for _ in range(n)], "<f8"
    logits = [num(x) for x in req.get("logits", [])]
    k = len(logits)
    if op == "categorical":
        vals = []
        for _ in range(n):
            z = [l + gumbel(rng) for l in logits]
            vals.append(max(range(k), key=z.__getitem__))
        return [n], vals, "<i8"
    if op == "relaxed_sample":
        tau = num(req["tau"])
        if not tau > 0:
            raise ValueError("tau must be positive, got %r" % tau)
        rows = []
        for _ in range(n):
            x = [(l + gumbel(rng)) / tau for l in logits]
            m = max(x)
            e = [math.exp(v - m) for v in x]
            s = sum(e)
            rows.extend(v / s for v in e)
        return [n, k], rows, "<f8"
    if op == "relaxed_log_prob":
        shape, y = read_npy(req["y"])
        return [shape[0]], [sum(y[r * k : (r + 1) * k]) for r in range(shape[0])], "<f8"
    if op == "grad":
        return [n, k], [0.0] * (n * k), "<f8"
    raise KeyError(op)


def answer(req):
    rid = req["id"]
    try:
        shape, values, descr = result(req)
        with open(req["out"], "wb") as f:
            f.write(npy_bytes(shape, values, descr))
        return {"id": rid, "ok": True}
    except Exception as e:  # the implementation's refusal, or the disk's
        return {"id": rid, "ok": False, "error": "%s: %s" % (type(e).__name__, e)}


def misbehave(req, first):
    """Returns True when the mode answered (or will never answer) the request itself."""
    op, rid = req["op"], req["id"]
    out = req.get("out")
    if MODE == "hang_group" and first:
        grandchild(False)
        sys.stderr.write("hostile adapter: hanging on request %d\n" % rid)
        sys.stderr.flush()
        while True:
            time.sleep(3600)
    if op != "gumbel":
        return False
    if MODE == "fork_and_die":
        grandchild(True)
        sys.stderr.write("hostile adapter: fatal error in gumbel (simulated)\n")
        sys.stderr.flush()
        os._exit(5)
    if MODE == "fifo":
        os.mkfifo(out)
        send({"id": rid, "ok": True})
        return True
    if MODE == "symlink_out":
        os.symlink(os.path.join(OUTSIDE, "secret.npy"), out)
        send({"id": rid, "ok": True})
        return True
    if MODE == "plant_y":
        work = os.path.dirname(out)
        os.symlink(os.path.join(OUTSIDE, "victim.txt"), os.path.join(work, "%d-y.npy" % (rid + 1)))
        send(answer(req))
        return True
    if MODE == "swap_dir":
        work = os.path.dirname(out)
        moved = work + ".moved"
        os.rename(work, moved)
        os.symlink(OUTSIDE, work)
        with open(os.path.join(OUTSIDE, os.path.basename(out)), "w") as f:
            f.write("victim\n")
        req = dict(req, out=os.path.join(moved, os.path.basename(out)))
        send(answer(req))
        return True
    if MODE == "crash_gumbel":
        for i in range(30):
            sys.stderr.write("hostile adapter: crash line %d\n" % i)
        sys.stderr.flush()
        os._exit(3)
    return False


def hello(req):
    if MODE == "slow_hello":
        time.sleep(3)
    name = "hostile adapter (%s)" % MODE
    if MODE == "ansi_name":
        name = "\x1b[31mred\x1b[0m\nsecond line\x07" + "x" * 10000
    send(
        {
            "id": req["id"],
            "ok": True,
            "protocol": 1,
            "name": name,
            "dtype": "float64",
            "ops": ["gumbel", "categorical", "relaxed_sample", "relaxed_log_prob", "grad"],
            "estimators": ["reinforce"],
        }
    )


def main():
    record("adapter", os.getpid())
    first = True
    for line in sys.stdin:
        req = json.loads(line)
        op = req["op"]
        if op == "hello":
            hello(req)
            continue
        if op == "bye":
            if MODE == "silent_bye":
                time.sleep(3600)
            send({"id": req["id"], "ok": True})
            if MODE == "ignore_bye":
                time.sleep(3600)
            return
        if not misbehave(req, first):
            send(answer(req))
        first = False


if __name__ == "__main__":
    main()
