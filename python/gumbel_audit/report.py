"""The result of an audit: `AuditReport` and its `Check`s.

Built from the crate's JSON report (schema `gumbel-audit-report/2`, docs/audit-report-schema.md,
the same as `gumbel-audit audit --json`); `str(report)` is the CLI's table and
`report._repr_markdown_()` the Markdown of `gumbel-audit audit --report` (plots left out: they
are SVG files; `report.markdown()` returns them too).
"""
import json as _json


class Check:
    """One check: id, title, verdict ("pass", "fail", "warn", "skipped", "error"), p_value
    (None for exact criteria), p_adjusted (Holm), n, detail, criterion, false_alarm, detectable,
    seeds (every seed the check sent, as dicts {stream, chunk, seed}, in order) and seed (the
    first of them, None for a check that sent nothing, e.g. a skipped one)."""

    __slots__ = ("id", "title", "verdict", "p_value", "p_adjusted", "n", "detail", "criterion",
                 "false_alarm", "detectable", "seeds", "seed")

    def __init__(self, raw):
        for field in self.__slots__[:-1]:
            setattr(self, field, raw.get(field))
        if self.seeds is None:
            self.seeds = []
        self.seed = self.seeds[0]["seed"] if self.seeds else None

    @property
    def passed(self):
        """True unless the verdict is fail or error (warn and skipped do not fail a run)."""
        return self.verdict not in ("fail", "error")

    def __repr__(self):
        p = "-" if self.p_value is None else "%.3g" % self.p_value
        return "Check(%s: %s, p=%s, n=%s)" % (self.id, self.verdict, p, self.n)


class AuditReport:
    """An audit's outcome. `passed` is True when the verdict is "pass"; `verdict` is "pass",
    "fail" (a check failed or had an error) or "error" (nothing was tested: `problem` says why);
    `checks` lists the Checks in battery order."""

    def __init__(self, native, reproduce=None):
        self._native = native
        self._data = _json.loads(native.json())
        self.checks = [Check(c) for c in self._data["checks"]]
        #: How to re-run this audit (a Python call or a shell command), shown by
        #: gumbel_audit.testing; None when unknown.
        self.reproduce = reproduce

    implementation = property(lambda self: self._data["implementation"])
    dtype = property(lambda self: self._data["dtype"])
    level = property(lambda self: self._data["level"])
    seed = property(lambda self: self._data["seed"])
    fwer = property(lambda self: self._data["fwer"])
    verdict = property(lambda self: self._data["verdict"])
    exit_code = property(lambda self: self._data["exit_code"])
    problem = property(lambda self: self._data.get("problem"))

    @property
    def passed(self):
        return self.verdict == "pass"

    def check(self, check_id):
        """The Check with this id; KeyError if the report has none."""
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError("no check %r in this report" % (check_id,))

    def to_json(self):
        """The report as JSON text, as `gumbel-audit audit --json` writes it."""
        return self._native.json()

    def to_dict(self):
        return _json.loads(self._native.json())

    def markdown(self):
        """(markdown text, [(file name, svg text), ...]) as `gumbel-audit audit --report` writes."""
        return self._native.markdown()

    def _repr_markdown_(self):
        return self._native.markdown()[0]

    def __str__(self):
        return self._native.table()

    def __repr__(self):
        counts = {}
        for c in self.checks:
            counts[c.verdict] = counts.get(c.verdict, 0) + 1
        summary = ", ".join("%d %s" % (v, k) for k, v in sorted(counts.items()))
        return "<AuditReport %s: %s (%s)>" % (self.implementation, self.verdict, summary)
