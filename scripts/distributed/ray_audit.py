#!/usr/bin/env python3
"""Runs one gumbel-audit audit as N shards on Ray, then merges them into the report.

Usage:
  ray_audit.py --shards N [--address ADDR] [--num-cpus C] [--level L] [--samples S]...
               [--seed S] [--fwer F] [--only IDS] [--skip IDS] [--cpus-per-shard C]
               [--max-retries R] [--out DIR] [--binary PATH] [--json PATH] [--report DIR]
               (--reference | -- ADAPTER COMMAND...)

Each shard I of N is one Ray task that runs, on whichever worker Ray places it,

  gumbel-audit audit [audit options] --jobs C --shard I/N --partial <tmp file> -- ADAPTER...

reads the partial file it wrote and returns it as bytes, so no shared filesystem is needed:
the driver writes it to --out/shard-I-of-N.json. A shard is a pure function of its inputs
(docs/distributed.md), so a failed task is retried (--max-retries) and gives the same partial.
Shards whose valid partial is already in --out are skipped (resume: the binary itself checks
that the file is this shard's partial of this run). When every shard is in, the driver runs
`gumbel-audit merge` on them: its output, files and exit code are those of the same audit run
on one machine.

The gumbel-audit binary (--binary, else $GUMBEL_AUDIT_BIN, else `gumbel-audit` on PATH, else
<repo>/target/release/gumbel-audit) and the adapter command must exist at the same paths on
every Ray node. `ray.init()` starts a local instance (--num-cpus CPUs, default all);
--address ADDR connects to a running cluster (`ray.init(address=ADDR)`, e.g. `auto`).

Exit status: merge's (0 pass, 1 a check failed, 2 an error); 2 also when a shard fails after
its retries or the arguments are wrong.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def find_binary(given):
    """The gumbel-audit binary: --binary, $GUMBEL_AUDIT_BIN, PATH, or the repository's build."""
    candidates = [given, os.environ.get("GUMBEL_AUDIT_BIN"), shutil.which("gumbel-audit"),
                  os.path.join(REPO, "target", "release", "gumbel-audit")]
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return os.path.abspath(c)
    sys.exit("ray_audit.py: no gumbel-audit binary found: pass --binary PATH, set "
             "GUMBEL_AUDIT_BIN, or build it (cargo build --release)")


def parse_args(argv):
    if "--" in argv:
        cut = argv.index("--")
        argv, command = argv[:cut], argv[cut + 1:]
    else:
        command = []
    p = argparse.ArgumentParser(
        prog="ray_audit.py",
        description="Run a gumbel-audit audit as N shards on Ray and merge them.")
    p.add_argument("--shards", type=int, required=True, help="number of shards N (>= 1)")
    p.add_argument("--address", help="address of a running Ray cluster (default: a local instance)")
    p.add_argument("--num-cpus", type=int, help="CPUs of the local Ray instance (default: all)")
    p.add_argument("--cpus-per-shard", type=int, default=1,
                   help="CPUs per shard task; also the shard's --jobs (default 1)")
    p.add_argument("--max-retries", type=int, default=2, help="retries of a failed shard (default 2)")
    p.add_argument("--out", default="ray-audit-partials",
                   help="directory of the partial files (default ./ray-audit-partials)")
    p.add_argument("--binary", help="path of the gumbel-audit binary on every node")
    p.add_argument("--reference", action="store_true", help="audit the built-in reference")
    p.add_argument("--level", help="quick, standard, thorough or deep")
    p.add_argument("--samples", action="append", default=[], help="as audit --samples ([ID=]N)")
    p.add_argument("--seed", help="master seed")
    p.add_argument("--fwer", help="family-wise false-alarm rate")
    p.add_argument("--only", help="as audit --only")
    p.add_argument("--skip", help="as audit --skip")
    p.add_argument("--timeout", help="as audit --timeout (per adapter request, seconds)")
    p.add_argument("--json", help="merge: write the report as JSON here")
    p.add_argument("--report", help="merge: write report.md and plots here")
    args = p.parse_args(argv)
    if args.shards < 1:
        p.error("--shards must be at least 1")
    if args.cpus_per_shard < 1:
        p.error("--cpus-per-shard must be at least 1")
    if args.max_retries < 0:
        p.error("--max-retries must be at least 0")
    if args.reference == bool(command):
        p.error("give either --reference or an adapter command after --")
    return args, command


def audit_options(args):
    """The options every shard of this run gets (the same for all: one run)."""
    opts = ["--reference"] if args.reference else []
    for flag in ("level", "seed", "fwer", "only", "skip", "timeout"):
        value = getattr(args, flag)
        if value is not None:
            opts += ["--" + flag, value]
    for s in args.samples:
        opts += ["--samples", s]
    return opts


def shard_command(binary, options, command, index, count, jobs, partial):
    cmd = [binary, "audit", *options, "--quiet", "--jobs", str(jobs),
           "--shard", f"{index}/{count}", "--partial", partial]
    return cmd + (["--", *command] if command else [])


def run_shard_task(binary, options, command, index, count, jobs):
    """One shard on this worker: run the binary, return the partial's bytes and the time."""
    work = tempfile.mkdtemp(prefix=f"gumbel-audit-shard-{index}-")
    try:
        partial = os.path.join(work, f"shard-{index}-of-{count}.json")
        start = time.monotonic()
        proc = subprocess.run(shard_command(binary, options, command, index, count, jobs, partial),
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)
        seconds = time.monotonic() - start
        if proc.returncode != 0:
            raise RuntimeError(f"shard {index}/{count} on {socket.gethostname()}: gumbel-audit "
                               f"exited {proc.returncode}: {proc.stderr.strip()}")
        with open(partial, "rb") as f:
            data = f.read()
        return {"index": index, "partial": data, "seconds": seconds,
                "node": socket.gethostname()}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def write_atomic(path, data):
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "xb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def already_done(binary, options, command, index, count, path):
    """Whether `path` holds this shard's valid partial of this run (the binary checks it:
    with an existing file it either skips, exit 0, or refuses, exit 2, and runs nothing)."""
    if not os.path.lexists(path):
        return False
    proc = subprocess.run(shard_command(binary, options, command, index, count, 1, path),
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if proc.returncode == 0 and "not run again" in proc.stderr:
        return True
    print(f"shard {index}/{count}: {path} is not a valid partial of this run; the shard runs "
          f"and replaces it ({proc.stderr.strip()})", file=sys.stderr)
    return False


def main(argv):
    args, command = parse_args(argv)
    binary = find_binary(args.binary)
    options = audit_options(args)
    n = args.shards
    os.makedirs(args.out, exist_ok=True)
    paths = [os.path.join(args.out, f"shard-{i}-of-{n}.json") for i in range(n)]
    t0 = time.monotonic()
    todo = [i for i in range(n) if not already_done(binary, options, command, i, n, paths[i])]
    for i in sorted(set(range(n)) - set(todo)):
        print(f"shard {i}/{n}: valid partial already in {paths[i]}: skipped", file=sys.stderr)

    times = {}
    if todo:
        import ray  # noqa: PLC0415 (only the driver's run needs Ray, not --help)

        if args.address:
            ray.init(address=args.address, logging_level="ERROR", log_to_driver=False)
        else:
            ray.init(num_cpus=args.num_cpus, include_dashboard=False, logging_level="ERROR",
                     log_to_driver=False)
        t_ready = time.monotonic()
        task = ray.remote(run_shard_task).options(
            num_cpus=args.cpus_per_shard, max_retries=args.max_retries, retry_exceptions=True)
        pending = [task.remote(binary, options, command, i, n, args.cpus_per_shard) for i in todo]
        done = n - len(todo)
        failed = []
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            try:
                r = ray.get(ready[0])
            except Exception as e:  # noqa: BLE001 (a task's failure after its retries)
                failed.append(str(e).strip().splitlines()[-1])
                continue
            write_atomic(paths[r["index"]], r["partial"])
            times[r["index"]] = r["seconds"]
            done += 1
            print(f"[{done}/{n}] shard {r['index']}/{n} done in {r['seconds']:.2f} s on "
                  f"{r['node']}", file=sys.stderr, flush=True)
        ray.shutdown()
        if failed:
            for f in failed:
                print(f"ray_audit.py: {f}", file=sys.stderr)
            print(f"ray_audit.py: {len(failed)} of {n} shards failed after "
                  f"{args.max_retries} retries; their partials are missing from {args.out}",
                  file=sys.stderr)
            return 2
        startup = t_ready - t0
    else:
        startup = 0.0
    t_shards = time.monotonic()
    merge = [binary, "merge", *paths, "--quiet"]
    if args.json:
        merge += ["--json", args.json]
    if args.report:
        merge += ["--report", args.report]
    rc = subprocess.run(merge, stdin=subprocess.DEVNULL).returncode
    t_end = time.monotonic()
    if times:
        per = ", ".join(f"{i}: {times[i]:.2f}" for i in sorted(times))
        print(f"ray_audit.py: {n} shards; Ray start {startup:.2f} s; shards {t_shards - t0 - startup:.2f} s "
              f"wall (per shard, s: {per}); merge {t_end - t_shards:.2f} s; total "
              f"{t_end - t0:.2f} s", file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
