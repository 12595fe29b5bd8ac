"""The `gumbel-audit` command installed with the package: runs the crate's CLI binary.

scripts/python-package.sh builds the binary (`cargo build --release`) and bundles it into the
wheel as gumbel_audit/_bin/gumbel-audit; this entry point replaces the Python process with it
(same arguments, exit status, stdin/stdout/stderr). A wheel built without it (`pip install
./python`) has no binary: the command then says how to get one and exits with status 2.
"""
import os
import subprocess
import sys


def binary():
    """Path of the bundled binary, or None."""
    name = "gumbel-audit.exe" if os.name == "nt" else "gumbel-audit"
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_bin", name)
    return path if os.access(path, os.X_OK) else None


def main():
    path = binary()
    if path is None:
        sys.stderr.write(
            "gumbel-audit: this installation of the Python package has no bundled CLI binary; "
            "build the package with scripts/python-package.sh, or install the command with "
            "`cargo install --path .` from the gumbel-audit repository\n"
        )
        return 2
    args = [path] + sys.argv[1:]
    if os.name == "nt":
        return subprocess.call(args)
    sys.stdout.flush()
    os.execv(path, args)
    return 2  # not reached
