"""Peak memory of the Beam writer behind a slow endpoint: it stays flat as the input grows.

Each measurement runs in a fresh child process (``python benchmarks/memory.py --child ...``) so that nothing
the parent did (earlier benchmarks, the emulator client, the proxy) is counted. The child writes N records
of ``size`` bytes, generated one at a time (the input never exists as a whole), through a loopback
``pyflink_kinesis/testing/faultproxy.py`` proxy that waits ``delay`` seconds before forwarding each PutRecords (a slow, stalled
downstream), with either

- ``KinesisBatchWriter`` (the writer under WriteToKinesis, driven as its DoFn drives it), or
- ``WriteToKinesis`` (a DirectRunner pipeline ``Impulse | FlatMap(range(N)) | WriteToKinesis``),

and reports, measured from after its imports and setup:

- peak RSS growth: ``VmHWM`` (reset through ``/proc/self/clear_refs`` before the run) minus ``VmRSS`` before;
- the tracemalloc peak: the most memory Python objects held at once during the run.

``max_outstanding_records`` bounds records buffered plus in flight, so both should stay near
``max_outstanding_records x record size`` (times the copies a PutRecords request makes: the entries, the
base64 JSON body) plus a constant, whatever N is. The proxy runs in the parent process, on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List, Optional, Sequence

import harness

from pyflink_kinesis.testing import Streams

MODES = ("KinesisBatchWriter", "WriteToKinesis")


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def child(endpoint: str, stream: str, mode: str, n: int, size: int, max_outstanding: int) -> Dict[str, Any]:
    """Runs in the child process: write, measure, return the numbers."""
    import apache_beam as beam  # imported before measuring, like boto3 (through beam_write)
    import beam_write

    assert beam.Pipeline is not None
    from pyflink_kinesis import AwsCredentials, AwsRegion

    target = SimpleNamespace(region=AwsRegion.of_custom_endpoint(endpoint, "us-east-1"),
                             credentials=AwsCredentials.basic("local", "local"))
    recs = harness.Records(size)
    rss_before = _status_kib("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        hwm_reset = True
    except OSError:
        hwm_reset = False
    tracemalloc.start()
    start = time.perf_counter()
    if mode == "KinesisBatchWriter":
        stats = beam_write.run_writer(target, stream, n, recs, 4, max_outstanding)
        high_water = stats.high_water
    else:
        beam_write.run_beam(target, stream, n, recs, 4, max_outstanding)
        high_water = None
    seconds = time.perf_counter() - start
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"mode": mode, "records": n, "size": size, "seconds": seconds, "high_water": high_water,
            "rss_before_mb": rss_before / 1024, "hwm_reset": hwm_reset,
            "rss_growth_mb": (_status_kib("VmHWM") - rss_before) / 1024, "traced_peak_mb": traced_peak / 1e6}


def measure(emulator: Any, sizes: Sequence[int], size: int = 2000, max_outstanding: int = 200, delay: float = 0.02,
            modes: Sequence[str] = MODES, timeout: float = 300.0) -> List[Dict[str, Any]]:
    """One child process per (mode, input size), all through one slow proxy in front of ``emulator``."""
    from pyflink_kinesis.testing.faultproxy import FaultProxy

    client = emulator.client()
    streams = Streams(client, "memory")
    rows = []
    with FaultProxy(emulator.port, delay=delay, max_lifetime=timeout * len(sizes) * len(modes)) as proxy:
        for mode in modes:
            for n in sizes:
                stream = streams.new(2)
                harness.log(f"  memory: {mode}, {n} records of {size} bytes through a proxy delaying each "
                            f"PutRecords {delay * 1000:.0f} ms ...")
                out = subprocess.run(
                    [sys.executable, str(Path(__file__).resolve()), "--child", "--endpoint", proxy.endpoint,
                     "--stream", stream, "--mode", mode, "--records", str(n), "--size", str(size),
                     "--max-outstanding", str(max_outstanding)],
                    capture_output=True, text=True, timeout=timeout, cwd=harness.ROOT)
                if out.returncode != 0:
                    raise RuntimeError(f"memory child failed ({mode}, {n}):\n{out.stdout}{out.stderr}")
                row = json.loads(out.stdout.strip().splitlines()[-1])
                stored = harness.count_records(client, stream)
                if stored < n:
                    raise RuntimeError(f"memory child ({mode}, {n}): only {stored} of {n} records arrived")
                row["input_mb"] = n * size / 1e6
                row["bound_mb"] = max_outstanding * size / 1e6
                row["delay"] = delay
                row["max_outstanding"] = max_outstanding
                rows.append(row)
    return rows


def table(rows: Sequence[Dict[str, Any]]) -> str:
    return harness.markdown_table(
        ["writer", "input records", "input MB", "seconds", "peak RSS growth MB", "tracemalloc peak MB",
         "max_outstanding x size MB"],
        [[r["mode"], r["records"], f"{r['input_mb']:.1f}", f"{r['seconds']:.2f}", f"{r['rss_growth_mb']:.1f}",
          f"{r['traced_peak_mb']:.1f}", f"{r['bound_mb']:.2f}"] for r in rows])


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--stream", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=MODES, default=MODES[0], help=argparse.SUPPRESS)
    parser.add_argument("--records", type=int, default=1000, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default="2000,8000,32000", help="input sizes in records (default 2000,8000,32000)")
    parser.add_argument("--size", type=int, default=2000, help="bytes per record (default 2000)")
    parser.add_argument("--max-outstanding", type=int, default=200, help="max_outstanding_records (default 200)")
    parser.add_argument("--delay", type=float, default=0.02, help="seconds the proxy waits per PutRecords")
    parser.add_argument("--emulator", choices=harness.EMULATORS, default="kinesalite")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.endpoint, args.stream, args.mode, args.records, args.size,
                               args.max_outstanding)))
        return 0
    with harness.open_emulator(args.emulator) as emulator:
        rows = measure(emulator, [int(s) for s in args.sizes.split(",")], args.size, args.max_outstanding,
                       args.delay)
        print(harness.machine(emulator) + "\n\n" + table(rows))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
