"""The benchmark suite: write, read, scaling, latency and memory, side by side in one run, on one emulator.

Run from the repository root::

    python benchmarks/run.py --quick     # under 3 minutes on 2 cores, for development
    python benchmarks/run.py --full      # the numbers in benchmarks/results/ (docs/performance.md)
    python benchmarks/run.py --smoke --output-dir DIR   # seconds, kinesis-local; what the smoke test runs

Writes ``summary.md`` (markdown tables), ``summary.json`` (the same numbers) and ``summary.png`` (a chart,
matplotlib; ``--quick``/``--full`` install the pinned ``benchmarks/requirements.txt`` into this Python's
environment with pip when it is missing, ``--smoke`` skips the chart then) to ``--output-dir``
(default ``benchmarks/results``).

Sections (each a module beside this one):

- write (``beam_write.py``): WriteToKinesis vs KinesisBatchWriter vs raw put_records(500) vs a put_record loop;
- read (``beam_read.py``): ReadFromKinesis vs a raw get_records(10000) loop at 5/s/shard and unthrottled;
- scaling: WriteToKinesis then ReadFromKinesis on the same fresh stream, for 1, 2, 4, 8 shards (100-byte
  records) and for 100 B, 10 KB and 1 MB records (few of the big ones);
- latency (``latency.py``): put-to-output p50/p90/p99 at a fixed input rate;
- memory (``memory.py``): peak memory of the writer behind a slow endpoint, for growing inputs;
- vs async-kinesis (``vs_async_kinesis.py``, ``--quick``/``--full``): WriteToKinesis and ReadFromKinesis vs
  async-kinesis's Producer and Consumer, and ReadFromKinesis on an 8-shard stream with 1, 2, 4 DirectRunner
  worker processes.
- PyFlink (``flink.py``): the connector on a local MiniCluster, source -> Python deserializer -> Python
  serializer -> sink and the same copy in SQL ('pyflink-kinesis' tables, raw format) against source -> ToStream
  -> sink (the DataStream API, no Python step), and the sink's live heap behind a
  slow endpoint for growing inputs (``--quick``/``--full``; ``--smoke`` leaves it out, the Flink tests run it).

Every loop is bounded in count and time; all traffic stays on 127.0.0.1; the emulator and the child
processes are stopped on exit. kinesalite is the default emulator for ``--quick``/``--full`` (about 35x
faster on writes than kinesis-local, so the clients are what is measured); ``--smoke`` uses kinesis-local,
which the tests install anyway.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import beam_read
import beam_write
import flink
import harness
import latency
from report import chart, summary
import memory
import vs_async_kinesis

from pyflink_kinesis.testing import Streams

REQUIREMENTS = Path(__file__).resolve().parent / "requirements.txt"


@dataclass(frozen=True)
class Mode:
    emulator: str
    write_records: int
    per_record: int
    write_shards: int
    read_records: int
    read_shards: int
    repeat: int
    shard_counts: Tuple[int, ...]
    shard_records: int
    sizes: Tuple[Tuple[int, int], ...]  # (bytes per record, records)
    size_shards: int
    latency: Tuple[Tuple[float, float], ...]  # (rate per second, poll_interval)
    latency_seconds: float
    memory_sizes: Tuple[int, ...]
    memory_record_size: int
    memory_max_outstanding: int
    vs_records: int  # 0: no async-kinesis comparison (smoke)
    vs_shards: int
    workers_records: int
    flink_records: int = 0  # 0: no PyFlink section
    flink_shards: int = 4
    flink_repeat: int = 1
    flink_memory_sizes: Tuple[int, ...] = ()


MODES = {
    "smoke": Mode("kinesis-local", 60, 20, 2, 120, 2, 1, (1, 2, 4, 8), 24, ((100, 24), (10_000, 6), (1_000_000, 2)),
                  2, ((50, 1.0), (50, 0.2)), 1.5, (40, 120), 2000, 20, 0, 0, 0),
    "quick": Mode("kinesalite", 5000, 300, 8, 20_000, 4, 1, (1, 2, 4, 8), 5000,
                  ((100, 5000), (10_000, 500), (1_000_000, 5)), 4, ((200, 1.0), (200, 0.2), (10, 1.0)), 4.0,
                  (1000, 8000), 2000, 200, 30_000, 8, 100_000, 20_000, 4, 1, (2000, 8000)),
    "full": Mode("kinesalite", 100_000, 2000, 8, 300_000, 4, 3, (1, 2, 4, 8), 20_000,
                 ((100, 20_000), (10_000, 2000), (1_000_000, 20)), 4, ((200, 1.0), (200, 0.2), (10, 1.0), (10, 0.2)),
                 10.0, (2000, 8000, 32000), 2000, 200, 50_000, 8, 200_000, 50_000, 4, 2, (2000, 8000, 32000)),
}


def ensure_matplotlib(install: bool) -> Any:
    """matplotlib.pyplot (Agg), installing the pinned requirement with pip when allowed; ``None`` if absent."""
    try:
        import matplotlib
    except ImportError:
        if not install:
            return None
        harness.log(f"installing {REQUIREMENTS.name} into {sys.prefix} ...")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)], check=True,
                       timeout=600)
        import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def scaling(emulator: Any, mode: Mode) -> List[Dict[str, Any]]:
    """WriteToKinesis then ReadFromKinesis on one fresh stream per configuration (one run each)."""
    configs = [("shards", shards, 100, mode.shard_records) for shards in mode.shard_counts]
    configs += [("record size", mode.size_shards, size, n) for size, n in mode.sizes]
    client = emulator.client()
    streams = Streams(client, "scaling")
    rows = []
    for dimension, shards, size, n in configs:
        recs = harness.Records(size)
        stream = streams.new(shards)
        harness.log(f"  scaling: {n} records of {size} bytes on {shards} shard(s) ...")
        # Records buffered or in flight stay within about 64 MB, whatever the record size.
        outstanding = max(10, min(2000, 64_000_000 // recs.bytes_per_record()))
        write_s = harness.timed(lambda: beam_write.run_beam(emulator, stream, n, recs, 4, outstanding))
        stored = harness.count_records(client, stream)
        if stored != n:
            raise RuntimeError(f"scaling: {stored} of {n} records in {stream}")
        got: List[int] = []
        read_s = harness.timed(lambda: got.append(beam_read.run_beam_read(emulator, stream, n)))
        if got != [n]:
            raise RuntimeError(f"scaling: ReadFromKinesis read {got} of {n} records")
        mb = n * recs.bytes_per_record() / 1e6
        rows.append({"dimension": dimension, "shards": shards, "size": size, "records": n,
                     "write_s": write_s, "write_rps": n / write_s, "write_mbps": mb / write_s,
                     "read_s": read_s, "read_rps": n / read_s, "read_mbps": mb / read_s})
    return rows


def run_flink(emulator: Any, mode: Mode, out: Path) -> Dict[str, Any]:
    """The PyFlink section: both pipelines' throughput, then the sink's memory, in one Flink child process."""
    harness.log("[flink] throughput and memory on a local MiniCluster ...")
    with flink.FlinkChild(flink.JOBS, out / "flink-child.log", lifetime=3600) as child:
        speed = flink.throughput(emulator, child, mode.flink_records, mode.flink_shards, mode.flink_repeat)
        mem = flink.memory(emulator, child, mode.flink_memory_sizes, mode.memory_record_size,
                           mode.memory_max_outstanding, 0.05)
    return {"throughput": speed, "memory": mem}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    for name in MODES:
        group.add_argument(f"--{name}", dest="mode", action="store_const", const=name)
    parser.add_argument("--emulator", choices=harness.EMULATORS, help="override the mode's emulator")
    parser.add_argument("--output-dir", default=str(harness.RESULTS), help="where summary.md/.json/.png go")
    parser.add_argument("--no-chart", action="store_true", help="skip summary.png")
    args = parser.parse_args(argv)
    name = args.mode or "quick"
    mode = MODES[name]
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    plt = None if args.no_chart else ensure_matplotlib(install=name != "smoke")
    started = time.perf_counter()
    with harness.open_emulator(args.emulator or mode.emulator) as emulator:
        harness.log(f"[{name}] write ...")
        write = beam_write.benchmark(emulator, mode.write_records, 100, mode.write_shards, mode.repeat,
                                     mode.per_record)
        harness.log(f"[{name}] read ...")
        read = beam_read.benchmark(emulator, mode.read_records, 100, mode.read_shards, mode.repeat)
        harness.log(f"[{name}] scaling ...")
        scaled = scaling(emulator, mode)
        harness.log(f"[{name}] latency ...")
        lat = [latency.measure(emulator, rate, mode.latency_seconds, 1, poll) for rate, poll in mode.latency]
        harness.log(f"[{name}] memory ...")
        mem = memory.measure(emulator, mode.memory_sizes, mode.memory_record_size, mode.memory_max_outstanding)
        versus = None
        if mode.vs_records:
            harness.log(f"[{name}] vs async-kinesis, read scaling with workers ...")
            versus = vs_async_kinesis.benchmark(emulator, mode.vs_records, mode.vs_shards, mode.workers_records)
        flink_data = run_flink(emulator, mode, out) if mode.flink_records else None
        about = harness.machine(emulator)
        data: Dict[str, Any] = {
            "mode": name, "emulator": f"{emulator.name} {emulator.version}", "machine": about,
            "machine_short": about.split(", Linux")[0] + f", {emulator.name} {emulator.version}",
            "write": {"settings": write.settings, "rows": write.rows, "baseline_s": write.baseline},
            "read": {"settings": read.settings, "rows": read.rows, "fixed_s": read.fixed,
                     "steady_rps": read.steady_rate()},
            "scaling": scaled, "latency": lat, "memory": mem, "vs_async_kinesis": versus, "flink": flink_data,
        }
    data["seconds"] = time.perf_counter() - started
    if plt is not None:
        chart(plt, data, out / "summary.png")
        data["chart"] = "summary.png"
    (out / "summary.json").write_text(json.dumps(data, indent=1, default=str) + "\n")
    text = summary(data, write, read, mode)
    (out / "summary.md").write_text(text)
    print("\n" + text)
    print(f"written to {out}/summary.md" + (", summary.png" if plt is not None else "") + ", summary.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
