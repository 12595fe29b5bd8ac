"""The `gumbel-audit` command installed with the package.

It runs the crate's own command line (the same source as the `gumbel-audit` binary: flags,
messages, exit codes), compiled into the extension module, in this process: `pip install` alone
gives the whole tool. Ctrl-C ends the command as it ends the binary (Python's own SIGINT handler
is set back to the default first, so an interrupt is not held until the command returns).
"""
import signal
import sys


def main():
    from . import _native

    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.stdout.flush()
    sys.stderr.flush()
    return _native.cli_main(["gumbel-audit"] + sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
