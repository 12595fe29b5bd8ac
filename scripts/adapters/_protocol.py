"""Shared plumbing of the framework adapters (protocol v1, docs/adapter-protocol.md).

The framework adapters (torch_functional.py, torch_distributions.py, jax_random.py, tfp_jax.py,
numpyro_adapter.py, pyro_adapter.py) import this module. numpy_adapter.py does not: it is
written on the adapter SDK of the Python package (python/gumbel_audit/adapter.py, a target
object plus `serve(obj)`), which new adapters should use. The framework adapters were left on
this module because their multi-GB frameworks cannot be re-run here to verify a rewrite. It holds only what is the same in every adapter: reading requests, writing one JSON
line per answer, turning the library's exceptions into ok:false, and writing .npy files.

Parameters are converted to Python floats ("inf", "-inf", "nan" strings included) and handed
to the library unchanged: no adapter validates or repairs a value on the library's behalf. A
request the adapter does not offer raises Unsupported; whatever the library raises becomes
{"ok": false, "error": "<type>: <message>"}. Arrays are written in the dtype the library
produced (never upcast).
"""
import json
import sys

import numpy as np

PROTOCOL = 1


class Unsupported(Exception):
    """An op, estimator or mode the adapter does not offer."""


def as_float(x):
    """A request number as a Python float; the strings "inf", "-inf", "nan" included."""
    if isinstance(x, str):
        return float(x)
    return float(x)


def floats(raw):
    """A request list of numbers as a list of Python floats (no validation)."""
    return [as_float(v) for v in raw]


def seed_words(seed):
    """The 64-bit seed as two 32-bit words (hi, lo): every seed maps to a distinct key."""
    seed = int(seed)
    return (seed >> 32) & 0xFFFFFFFF, seed & 0xFFFFFFFF


def objective(raw, xp):
    """f(z) for the protocol's objectives, written with the array module `xp` (torch, jax.numpy).

    linear: f(z) = sum_i c_i z_i; quadratic: f(z) = sum_i (z_i - t_i)^2 (row-wise, last axis).
    Returns (f, vector) where vector is c or t as a list of floats."""
    kind = raw.get("kind") if isinstance(raw, dict) else None
    if kind == "linear":
        c = floats(raw["c"])
        return (lambda z: (z * xp.asarray(c, dtype=z.dtype)).sum(-1)), c
    if kind == "quadratic":
        t = floats(raw["target"])
        return (lambda z: ((z - xp.asarray(t, dtype=z.dtype)) ** 2).sum(-1)), t
    raise ValueError("objective must be linear or quadratic, got %r" % (raw,))


def write_npy(path, array):
    array = np.ascontiguousarray(np.asarray(array))
    if array.dtype == np.float16 or array.dtype == np.bool_:
        raise TypeError("the library returned %s; the protocol carries float32/64, int32/64" % array.dtype)
    with open(path, "wb") as fh:
        np.lib.format.write_array(fh, array, allow_pickle=False)


def serve(hello, handlers, tag):
    """Answer requests on stdin until bye or EOF.

    hello: the fields of the hello answer (name, dtype, ops, estimators).
    handlers: op name -> function(request) returning the array to write to request["out"].
    tag: the adapter's name for stderr messages."""
    out = sys.stdout
    # Libraries sometimes print to stdout (banners, warnings): keep stdout for responses only.
    sys.stdout = sys.stderr
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
        except ValueError as e:
            sys.stderr.write("%s: request is not JSON (%s)\n" % (tag, e))
            continue
        if not isinstance(req, dict):
            continue
        rid, op = req.get("id"), req.get("op")
        if op == "hello":
            if req.get("protocol") != PROTOCOL:
                reply = {"id": rid, "ok": False, "error": "this adapter speaks protocol 1"}
            else:
                reply = dict(hello, id=rid, ok=True, protocol=PROTOCOL)
        elif op == "bye":
            reply = {"id": rid, "ok": True}
        elif op not in handlers or op not in hello["ops"]:
            reply = {"id": rid, "ok": False, "unsupported": True}
        else:
            try:
                write_npy(req["out"], handlers[op](req))
                reply = {"id": rid, "ok": True}
            except Unsupported:
                reply = {"id": rid, "ok": False, "unsupported": True}
            except Exception as e:  # noqa: BLE001 - the library's refusal, reported as such
                msg = str(e).strip().splitlines()
                reply = {"id": rid, "ok": False, "error": "%s: %s" % (type(e).__name__, msg[0] if msg else "")}
        out.write(json.dumps(reply, allow_nan=False) + "\n")
        out.flush()
        if op == "bye":
            return 0
    return 0
