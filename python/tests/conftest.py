"""Shared fixtures of the gumbel_audit pytest suite.

The suite runs against the installed package (scripts/python-package.sh builds and installs the
wheel); the NumPy target is scripts/adapters/numpy_adapter.py, imported in process and also run
as an adapter by the `gumbel-audit` command installed with the package.
"""
import os
import shutil
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ADAPTERS = os.path.join(REPO, "scripts", "adapters")
NUMPY_ADAPTER = os.path.join(ADAPTERS, "numpy_adapter.py")
sys.path.insert(0, ADAPTERS)


@pytest.fixture(scope="session")
def cli():
    """The `gumbel-audit` command installed with the package (next to this python)."""
    path = os.path.join(os.path.dirname(sys.executable), "gumbel-audit")
    if not os.access(path, os.X_OK):
        path = shutil.which("gumbel-audit")
    assert path, "the gumbel-audit command is not installed with the package"
    return path
