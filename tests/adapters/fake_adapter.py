#!/usr/bin/env python3
"""A tiny protocol v1 adapter for tests/audit/adapter.rs and tests/audit/cli.rs, standard library only (no numpy).

Usage: fake_adapter.py MODE

MODE `good` is a well-behaved adapter (ops: gumbel, categorical, relaxed_sample,
relaxed_log_prob, binary_log_prob, grad with estimator `reinforce`; relaxed_sample rejects
tau <= 0 with ok:false). Every other mode behaves like `good` except on the `gumbel` request,
where it misbehaves as named:

  crash          writes to stderr and exits with status 3
  hang           never answers
  malformed      answers with a line that is not JSON
  garbage        prints a log line on stdout before its answer
  wrong_id       answers with id + 1
  no_ok          answers without "ok"
  wrong_shape    writes shape [n, 1] instead of [n]
  wrong_dtype    writes int64 instead of float
  nan            writes NaN as every third value (a valid answer: values are not repaired)
  unsupported    answers {"ok": false, "unsupported": true}
  no_out         answers ok but writes no file
  truncated      writes a .npy whose data section is cut short
  close_stdout   closes stdout but keeps running

and four modes that fail at hello: `bad_protocol` (answers protocol 2), `bad_dtype` (float8_e4m3),
`crash_at_start` (exits before reading anything), `silent_hello` (never answers hello).
`ignore_bye` answers bye but does not exit. Two modes offer nothing testable at hello:
`no_ops` (ops: []) and `misspelled_ops` (ops: ["gumbel_noise", "categorial"], names protocol v1
does not know), both without estimators.
"""
import json
import math
import os
import random
import struct
import sys
import time

MODE = sys.argv[1] if len(sys.argv) > 1 else "good"

# Modes whose hello offers nothing the battery can test (the audit must not pass them).
HELLO_OPS = {"no_ops": [], "misspelled_ops": ["gumbel_noise", "categorial"]}


def write_npy(path, shape, values, descr="<f8"):
    fmt = {"<f8": "d", "<i8": "q"}[descr]
    shape_txt = "(%s)" % ("".join("%d," % d for d in shape) if len(shape) == 1 else ", ".join(str(d) for d in shape))
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape_txt)
    pad = (64 - (10 + len(header) + 1) % 64) % 64
    header = header + " " * pad + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("ascii"))
        f.write(struct.pack("<%d%s" % (len(values), fmt), *values))


def read_npy(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x93NUMPY\x01\x00", "unexpected preamble"
    (hlen,) = struct.unpack("<H", data[8:10])
    import ast

    header = ast.literal_eval(data[10 : 10 + hlen].decode("ascii"))
    assert header["descr"] == "<f8" and not header["fortran_order"]
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


def softmax(xs):
    m = max(xs)
    e = [math.exp(x - m) for x in xs]
    s = sum(e)
    return [v / s for v in e]


def send(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def hello(req):
    if MODE == "silent_hello":
        sys.stderr.write("fake adapter: downloading weights (simulated)\n")
        sys.stderr.flush()
        time.sleep(3600)
    reply = {
        "id": req["id"],
        "ok": True,
        "protocol": 2 if MODE == "bad_protocol" else 1,
        "name": "fake adapter (%s)" % MODE,
        "dtype": "float8_e4m3" if MODE == "bad_dtype" else "float64",
        "ops": HELLO_OPS.get(
            MODE,
            ["gumbel", "categorical", "relaxed_sample", "relaxed_log_prob", "binary_log_prob", "grad"],
        ),
        "estimators": [] if MODE in HELLO_OPS else ["reinforce"],
    }
    send(reply)


def misbehave_on_gumbel(req):
    """Returns True when the mode handled the gumbel request itself."""
    rid, n, out = req["id"], req["n"], req["out"]
    if MODE == "crash":
        sys.stderr.write("fake adapter: segmentation fault in the gumbel kernel (simulated)\n")
        sys.stderr.flush()
        os._exit(3)
    if MODE == "hang":
        time.sleep(3600)
    if MODE == "malformed":
        sys.stdout.write("{'id': %d, 'ok': True}\n" % rid)
        sys.stdout.flush()
        return True
    if MODE == "garbage":
        sys.stdout.write("Loading kernels... done\n")
        sys.stdout.flush()
        return False
    if MODE == "wrong_id":
        write_npy(out, [n], [0.0] * n)
        send({"id": rid + 1, "ok": True})
        return True
    if MODE == "no_ok":
        send({"id": rid})
        return True
    if MODE == "wrong_shape":
        write_npy(out, [n, 1], [0.0] * n)
        send({"id": rid, "ok": True})
        return True
    if MODE == "wrong_dtype":
        write_npy(out, [n], [0] * n, descr="<i8")
        send({"id": rid, "ok": True})
        return True
    if MODE == "nan":
        rng = random.Random(req["seed"])
        write_npy(out, [n], [math.nan if i % 3 == 0 else gumbel(rng) for i in range(n)])
        send({"id": rid, "ok": True})
        return True
    if MODE == "unsupported":
        send({"id": rid, "ok": False, "unsupported": True})
        return True
    if MODE == "no_out":
        send({"id": rid, "ok": True})
        return True
    if MODE == "truncated":
        write_npy(out, [n], [0.0] * n)
        with open(out, "r+b") as f:
            f.truncate(os.path.getsize(out) - 8)
        send({"id": rid, "ok": True})
        return True
    if MODE == "close_stdout":
        sys.stdout.close()
        os.close(1)
        time.sleep(3600)
    return False


def handle(req):
    op, rid = req["op"], req["id"]
    if op == "gumbel":
        if misbehave_on_gumbel(req):
            return
        rng = random.Random(req["seed"])
        write_npy(req["out"], [req["n"]], [gumbel(rng) for _ in range(req["n"])])
    elif op == "categorical":
        logits = [num(x) for x in req["logits"]]
        rng = random.Random(req["seed"])
        vals = []
        for _ in range(req["n"]):
            z = [l + gumbel(rng) for l in logits]
            vals.append(max(range(len(z)), key=z.__getitem__))
        write_npy(req["out"], [req["n"]], vals, descr="<i8")
    elif op == "relaxed_sample":
        tau = num(req["tau"])
        if not tau > 0:
            send({"id": rid, "ok": False, "error": "tau must be positive, got %r" % tau})
            return
        logits = [num(x) for x in req["logits"]]
        rng = random.Random(req["seed"])
        rows = []
        for _ in range(req["n"]):
            y = softmax([(l + gumbel(rng)) / tau for l in logits])
            if req["hard"]:
                j = max(range(len(y)), key=y.__getitem__)
                y = [1.0 if i == j else 0.0 for i in range(len(y))]
            rows.extend(y)
        write_npy(req["out"], [req["n"], len(logits)], rows)
    elif op == "relaxed_log_prob":
        # Not the Concrete density: the sum of each row, so that the test can check that y
        # arrived intact.
        shape, y = read_npy(req["y"])
        k = shape[1]
        write_npy(req["out"], [shape[0]], [sum(y[r * k : (r + 1) * k]) for r in range(shape[0])])
    elif op == "binary_log_prob":
        shape, y = read_npy(req["y"])
        write_npy(req["out"], [shape[0]], [2.0 * v for v in y])
    elif op == "grad":
        k, n = len(req["logits"]), req["n"]
        obj = req["objective"]
        # Echo the request: row i = [c_0 + i, c_1, ...] (or target), and m in the last entry.
        base = [num(x) for x in (obj["c"] if obj["kind"] == "linear" else obj["target"])]
        rows = []
        for i in range(n):
            row = list(base)
            row[0] += i
            row[-1] = float(req.get("m", -1))
            rows.extend(row)
        write_npy(req["out"], [n, k], rows)
    else:
        send({"id": rid, "ok": False, "error": "unknown op %r" % op})
        return
    send({"id": rid, "ok": True})


def main():
    if MODE == "crash_at_start":
        sys.stderr.write("fake adapter: ImportError: no module named 'torch' (simulated)\n")
        sys.exit(1)
    for line in sys.stdin:
        req = json.loads(line)
        if req["op"] == "hello":
            hello(req)
        elif req["op"] == "bye":
            send({"id": req["id"], "ok": True})
            if MODE == "ignore_bye":
                time.sleep(3600)
            return
        else:
            handle(req)


if __name__ == "__main__":
    main()
