"""What the framework adapters share, on top of the adapter SDK (python/gumbel_audit/adapter.py).

The framework adapters (torch_functional.py, torch_distributions.py, jax_random.py, tfp_jax.py,
numpyro_adapter.py, pyro_adapter.py) are each a target class (dtype, name, estimators and the
ops as methods) served with `gumbel_audit.adapter.serve(target)`, like numpy_adapter.py. The
SDK does the protocol: requests, "inf"/"nan" strings, .npy files, `unsupported`, exceptions as
ok:false. This module holds the three things the adapters share beyond it:

    serve          the SDK's serve, imported from the installed package or, in a source
                   checkout, from <repo>/python (the SDK is pure Python plus numpy)
    seed_words     the 64-bit seed as the two 32-bit words (hi, lo) of a raw threefry key
    objective      f(z) of the protocol's objectives in the framework's array module:
                   linear f(z) = sum_i c_i z_i, quadratic f(z) = sum_i (z_i - t_i)^2 (last axis)

Parameters are handed to the library unchanged: no adapter validates or repairs a value on the
library's behalf, so whatever the library returns or raises is what the audit judges.
"""
import os
import sys

try:
    from gumbel_audit.adapter import Unsupported, serve
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
    from gumbel_audit.adapter import Unsupported, serve

__all__ = ["Unsupported", "serve", "seed_words", "objective", "option"]


def seed_words(seed):
    """The 64-bit seed as two 32-bit words (hi, lo): every seed maps to a distinct key."""
    return (seed >> 32) & 0xFFFFFFFF, seed & 0xFFFFFFFF


def objective(obj, xp):
    """f(z), row-wise over the last axis, for the SDK's objective dict, in array module `xp`."""
    if obj["kind"] == "linear":
        c = obj["c"]
        return lambda z: (z * xp.asarray(c, dtype=z.dtype)).sum(-1)
    t = obj["target"]
    return lambda z: ((z - xp.asarray(t, dtype=z.dtype)) ** 2).sum(-1)


def option(argv, flag, choices, default):
    """The value after `flag` in argv (one of `choices`), or `default`; SystemExit(2) otherwise."""
    if flag not in argv:
        return default
    i = argv.index(flag)
    if i + 1 >= len(argv) or argv[i + 1] not in choices:
        sys.stderr.write("%s needs one of: %s\n" % (flag, ", ".join(choices)))
        sys.exit(2)
    return argv[i + 1]
