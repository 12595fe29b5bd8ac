"""What a Python target offers: the one description both routes of the audit use.

A target is any object with some of the protocol's ops as methods (signatures in the package
docstring, `gumbel_audit.__doc__`) and these attributes:

    dtype       "float32" or "float64" (required): the precision the implementation computes
                in; it sets the tolerances of the density checks (adapter protocol `hello.dtype`).
                "float16" and "bfloat16" are accepted too; they are audited through the adapter
                route (gumbel_audit.adapter.serve) only: the in-process audit refuses them.
    name        free text shown at the top of the report (default: the class name).
    estimators  the gradient estimators its `grad` accepts, a subset of "reinforce",
                "gumbel_softmax", "straight_through", "gumbel_rao" (default: none).

`describe` reads them once, for the in-process audit (`gumbel_audit.audit`) and for the adapter
SDK's `hello` answer (`gumbel_audit.adapter.serve`), so both routes see the same capabilities.
This module is pure Python (no extension, no numpy) so that adapters can use the SDK from a
source checkout.
"""

OPS = (
    "gumbel",
    "categorical",
    "relaxed_sample",
    "relaxed_log_prob",
    "binary_sample",
    "binary_log_prob",
    "grad",
    "token_sample",
)
ESTIMATORS = ("reinforce", "gumbel_softmax", "straight_through", "gumbel_rao")
DTYPES = ("float32", "float64", "float16", "bfloat16")


class Unsupported(Exception):
    """Raise from an op to say the op, estimator or mode is not offered (its checks are skipped).

    `NotImplementedError` means the same."""


class Description:
    """name, dtype, ops and estimators of a target (the protocol's hello fields)."""

    __slots__ = ("name", "dtype", "ops", "estimators")

    def __init__(self, name, dtype, ops, estimators):
        self.name, self.dtype, self.ops, self.estimators = name, dtype, ops, estimators

    def hello(self):
        """The fields of a protocol v1 `hello` answer."""
        return {"name": self.name, "dtype": self.dtype, "ops": list(self.ops), "estimators": list(self.estimators)}


def describe(target):
    """The target's Description; TypeError/ValueError naming the rule for a malformed one."""
    if not hasattr(target, "dtype"):
        raise TypeError(
            "the target must declare its precision: an attribute dtype = 'float32' or 'float64' "
            "(it sets the tolerances of the density checks)"
        )
    dtype = str(getattr(target, "dtype"))
    if dtype not in DTYPES:
        raise ValueError(
            "target.dtype must be 'float32' or 'float64' (or 'float16', 'bfloat16' through the "
            "adapter route), got %r" % (dtype,)
        )
    name = getattr(target, "name", None)
    if name is None:
        name = type(target).__qualname__
    if not isinstance(name, str):
        raise TypeError("target.name must be a str, got %s" % type(name).__name__)
    ops = [op for op in OPS if callable(getattr(target, op, None))]
    estimators = getattr(target, "estimators", ())
    if isinstance(estimators, str) or not all(isinstance(e, str) for e in estimators):
        raise TypeError("target.estimators must be a list of str, got %r" % (estimators,))
    estimators = list(estimators)
    unknown = [e for e in estimators if e not in ESTIMATORS]
    if unknown:
        raise ValueError("target.estimators: unknown %s; known: %s" % (unknown, ", ".join(ESTIMATORS)))
    return Description(name, dtype, ops, estimators)
