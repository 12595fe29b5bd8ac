"""Adapter SDK: serve a target object over adapter protocol v1 (docs/adapter-protocol.md).

    from gumbel_audit.adapter import serve

    class MySampler:
        dtype = "float32"
        def categorical(self, logits, n, seed): ...

    if __name__ == "__main__":
        serve(MySampler())

    $ gumbel-audit audit -- python my_adapter.py

`serve` answers requests on stdin with one JSON line each on stdout until `bye` or end of input,
and calls the object exactly as the in-process audit (`gumbel_audit.audit`) does: the same
methods with the same arguments (logits a float64 array, y a float64 array read from the
request's .npy file, objective a dict of arrays, `hard=True` and `m=` by keyword only when
set; for token_sample, temperature always and top_k, top_p, min_p, order by keyword only when not
null), so the two routes give the same arrays and the same p-values for the same seed.

What it does for you: "inf"/"-inf"/"nan" strings become floats; the result is written to the
request's `out` file with numpy.save in the dtype the object returned (never upcast; a float16
array is written as '<f2', and a bfloat16 array (ml_dtypes.bfloat16, as JAX returns it) as the
float32 array of the same values, which is exact: .npy has no bfloat16, and the protocol carries
bfloat16 that way when `dtype = "bfloat16"`, docs/adapter-protocol.md); a missing
method, NotImplementedError or gumbel_audit.Unsupported is answered `unsupported`; any other
exception is the implementation's refusal (`ok: false` with "Type: message"; its traceback goes
to stderr); stdout is reserved for the protocol while serving (print() goes to stderr). A
result that is not a numpy.ndarray is not written (stderr says why), which the auditor reports as
a fault, as the in-process audit does. Pure Python plus numpy: usable from a source checkout
without the Rust extension (sys.path.insert(0, "<repo>/python")).

Timing: with the environment variable GUMBEL_AUDIT_ADAPTER_TIMES set to a file path, `serve`
appends one JSON line to that file when it ends: {"pid", "requests", "call_seconds" (time spent
in the object's methods: the implementation's own work), "write_seconds" (writing result files),
"serve_seconds" (from the first request to the end)}. Several adapter processes (`--jobs N`)
append one line each. This is how the auditor's own cost is measured against the
implementation's (docs/audit.md, "The auditor's own cost").
"""
import json
import os
import sys
import time
import traceback

from ._target import Unsupported, describe

PROTOCOL = 1


def _float(x):
    """A request number as a float; the strings "inf", "-inf", "nan" included."""
    if isinstance(x, str):
        if x in ("inf", "-inf", "nan"):
            return float(x)
        raise ValueError("%r is not a number" % (x,))
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise ValueError("%r is not a number" % (x,))
    return float(x)


def _floats(raw):
    import numpy as np

    if not isinstance(raw, list):
        raise ValueError("expected a list of numbers, got %r" % (raw,))
    return np.array([_float(v) for v in raw], dtype=np.float64)


def _int(x, what):
    if isinstance(x, bool) or not isinstance(x, int) or x < 0:
        raise ValueError("%s must be a non-negative integer, got %r" % (what, x))
    return x


def _load_y(path, ndim):
    import numpy as np

    y = np.load(path, allow_pickle=False)
    if y.ndim != ndim:
        raise ValueError("y must have %d dimension(s), found shape %s" % (ndim, y.shape))
    return np.ascontiguousarray(y, dtype=np.float64)


def call_args(req):
    """(args, kwargs) of the target's method for a protocol request, as the in-process audit
    passes them."""
    op = req["op"]
    if op == "gumbel":
        return (_int(req["n"], "n"), _int(req["seed"], "seed")), {}
    if op == "categorical":
        return (_floats(req["logits"]), _int(req["n"], "n"), _int(req["seed"], "seed")), {}
    if op == "relaxed_sample":
        args = (_floats(req["logits"]), _float(req["tau"]), _int(req["n"], "n"), _int(req["seed"], "seed"))
        return args, ({"hard": True} if req.get("hard") is True else {})
    if op == "relaxed_log_prob":
        return (_floats(req["logits"]), _float(req["tau"]), _load_y(req["y"], 2)), {}
    if op == "binary_sample":
        return (_float(req["logit"]), _float(req["tau"]), _int(req["n"], "n"), _int(req["seed"], "seed")), {}
    if op == "binary_log_prob":
        return (_float(req["logit"]), _float(req["tau"]), _load_y(req["y"], 1)), {}
    if op == "grad":
        raw = req["objective"]
        kind = raw.get("kind") if isinstance(raw, dict) else None
        if kind == "linear":
            objective = {"kind": "linear", "c": _floats(raw["c"])}
        elif kind == "quadratic":
            objective = {"kind": "quadratic", "target": _floats(raw["target"])}
        else:
            raise ValueError("objective must be linear or quadratic, got %r" % (raw,))
        args = (str(req["estimator"]), objective, _floats(req["logits"]), _float(req["tau"]),
                _int(req["n"], "n"), _int(req["seed"], "seed"))
        return args, ({"m": _int(req["m"], "m")} if req.get("m") is not None else {})
    if op == "token_sample":
        kwargs = {"temperature": _float(req["temperature"])}
        if req.get("top_k") is not None:
            kwargs["top_k"] = _int(req["top_k"], "top_k")
        for key in ("top_p", "min_p"):
            if req.get(key) is not None:
                kwargs[key] = _float(req[key])
        if req.get("order") is not None:
            kwargs["order"] = str(req["order"])
        return (_floats(req["logits"]), _int(req["n"], "n"), _int(req["seed"], "seed")), kwargs
    raise KeyError(op)


def _write(path, result):
    import numpy as np

    if result.dtype.name == "bfloat16":
        # .npy has no bfloat16: float32 holds every bfloat16 value exactly (the protocol's rule).
        result = result.astype(np.float32)
    with open(path, "wb") as fh:
        np.lib.format.write_array(fh, result, allow_pickle=False)


class _Clock:
    """Seconds spent in the target's methods and in writing results (GUMBEL_AUDIT_ADAPTER_TIMES)."""

    def __init__(self):
        self.call = 0.0
        self.write = 0.0
        self.requests = 0
        self.start = None


_CLOCK = _Clock()


def answer(target, description, req, log):
    """The response to one request (a dict), writing the result file on success."""
    rid, op = req.get("id"), req.get("op")
    if op == "hello":
        if req.get("protocol") != PROTOCOL:
            return {"id": rid, "ok": False, "error": "this adapter speaks protocol %d" % PROTOCOL}
        return dict(description.hello(), id=rid, ok=True, protocol=PROTOCOL)
    if op == "bye":
        return {"id": rid, "ok": True}
    if op not in description.ops:
        return {"id": rid, "ok": False, "unsupported": True}
    if op == "grad" and req.get("estimator") not in description.estimators:
        return {"id": rid, "ok": False, "unsupported": True}
    try:
        args, kwargs = call_args(req)
    except (KeyError, ValueError, TypeError) as e:
        return {"id": rid, "ok": False, "error": "malformed request: %s: %s" % (type(e).__name__, e)}
    try:
        t0 = time.perf_counter()
        try:
            result = getattr(target, op)(*args, **kwargs)
        finally:
            _CLOCK.call += time.perf_counter() - t0
            _CLOCK.requests += 1
    except (Unsupported, NotImplementedError):
        return {"id": rid, "ok": False, "unsupported": True}
    except Exception as e:  # noqa: BLE001 - the implementation's refusal, reported as such
        log.write("%s (request %s):\n%s" % (op, rid, traceback.format_exc()))
        msg = str(e).strip().splitlines()
        return {"id": rid, "ok": False, "error": "%s: %s" % (type(e).__name__, msg[0] if msg else "")}
    import numpy as np

    if not isinstance(result, np.ndarray):
        log.write("%s (request %s): the target returned a %s, expected a numpy.ndarray; no result "
                  "file written\n" % (op, rid, type(result).__name__))
        return {"id": rid, "ok": True}
    try:
        t0 = time.perf_counter()
        try:
            _write(req["out"], result)
        finally:
            _CLOCK.write += time.perf_counter() - t0
    except OSError as e:
        # A result that cannot be written (a full disk, a file that is not ours) is answered, not
        # a crash: the auditor decides whether it is its own fault (it checks the disk).
        log.write("%s (request %s): cannot write the result file: %s\n" % (op, rid, e))
        return {"id": rid, "ok": False, "error": "OSError: writing the result file: %s" % (e,)}
    return {"id": rid, "ok": True}


def serve(target, stdin=None, stdout=None):
    """Speaks protocol v1 for `target` on stdin/stdout until bye or end of input; returns 0.

    Raises TypeError/ValueError at once (before reading a request) if the target's description
    is malformed (see gumbel_audit.describe)."""
    description = describe(target)
    stdin = sys.stdin if stdin is None else stdin
    out = sys.stdout if stdout is None else stdout
    log = sys.stderr
    saved = sys.stdout
    sys.stdout = sys.stderr  # a stray print() must not corrupt the protocol stream
    try:
        for line in stdin:
            if not line.strip():
                continue
            try:
                req = json.loads(line)
            except ValueError as e:
                log.write("gumbel_audit.adapter: request is not JSON (%s): %r\n" % (e, line[:200]))
                continue
            if not isinstance(req, dict):
                log.write("gumbel_audit.adapter: request is not a JSON object: %r\n" % line[:200])
                continue
            if _CLOCK.start is None:
                _CLOCK.start = time.perf_counter()
            reply = answer(target, description, req, log)
            out.write(json.dumps(reply, allow_nan=False) + "\n")
            out.flush()
            if req.get("op") == "bye":
                break
    finally:
        sys.stdout = saved
        _report_times(log)
    return 0


def _report_times(log):
    """Appends this process's times to $GUMBEL_AUDIT_ADAPTER_TIMES, if set."""
    path = os.environ.get("GUMBEL_AUDIT_ADAPTER_TIMES")
    if not path:
        return
    served = 0.0 if _CLOCK.start is None else time.perf_counter() - _CLOCK.start
    line = json.dumps({"pid": os.getpid(), "requests": _CLOCK.requests,
                       "call_seconds": round(_CLOCK.call, 6), "write_seconds": round(_CLOCK.write, 6),
                       "serve_seconds": round(served, 6)})
    try:
        with open(path, "a") as f:
            f.write(line + "\n")
    except OSError as e:
        log.write("gumbel_audit.adapter: cannot append the times to %s: %s\n" % (path, e))
