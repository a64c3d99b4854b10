"""The benchmark suite: write, read, scaling, latency and memory, side by side in one run, on one emulator.

Run from the repository root::

    python benchmarks/run.py --quick     # under 3 minutes on 2 cores, for development
    python benchmarks/run.py --full      # the numbers in benchmarks/results/ (README)
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
from typing import Any, Dict, List, Optional, Sequence, Tuple

import beam_read
import beam_write
import flink
import harness
import latency
import memory
import vs_async_kinesis

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
    streams = harness.Streams(client, "scaling")
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


def _size(size: int) -> str:
    return f"{size // 1_000_000} MB" if size >= 1_000_000 else f"{size // 1000} KB" if size >= 1000 else f"{size} B"


def scaling_table(rows: Sequence[Dict[str, Any]]) -> str:
    return harness.markdown_table(
        ["varied", "shards", "record size", "records", "write records/s", "write MB/s", "read records/s",
         "read MB/s"],
        [[r["dimension"], r["shards"], _size(r["size"]), r["records"], f"{r['write_rps']:.0f}",
          f"{r['write_mbps']:.2f}", f"{r['read_rps']:.0f}", f"{r['read_mbps']:.2f}"] for r in rows])


def chart(plt: Any, data: Dict[str, Any], path: Path) -> None:
    fig, axes = plt.subplots(2, 3, figsize=(17, 9.5))
    fig.suptitle(f"pyflink-kinesis benchmarks ({data['mode']}, emulator {data['emulator']}): {data['machine_short']}",
                 fontsize=11)

    def bars(ax: Any, rows: Sequence[Dict[str, Any]], ratio_key: str, title: str) -> None:
        labels = [r["method"].replace(" (Beam DirectRunner)", "\n(Beam)").replace(" (no Beam)", "\n(no Beam)").replace(
            "raw boto3 ", "").replace(
            " loop", "\nloop").replace(", ", "\n") for r in rows]
        values = [r["rps"] for r in rows]
        drawn = ax.bar(range(len(rows)), values, color=["tab:blue"] + ["tab:gray"] * (len(rows) - 1))
        for rect, r in zip(drawn, rows):
            ax.annotate(f"{r['rps']:.0f}/s\n{r[ratio_key]:.2f}x", (rect.get_x() + rect.get_width() / 2,
                        rect.get_height()), ha="center", va="bottom", fontsize=8)
        ax.set_xticks(range(len(rows)), labels, fontsize=7)
        ax.set_ylabel("records/s")
        ax.set_ylim(0, max(values) * 1.25)
        ax.set_title(title, fontsize=10)

    bars(axes[0][0], data["write"]["rows"], beam_write.VS_RAW, "write (ratio vs put_records(500))")
    bars(axes[0][1], data["read"]["rows"], beam_read.VS_RAW, "read (ratio vs raw get_records at 5/s/shard)")

    ax = axes[0][2]
    by_shards = [r for r in data["scaling"] if r["dimension"] == "shards"]
    xs = [r["shards"] for r in by_shards]
    ax.plot(xs, [r["write_rps"] for r in by_shards], "o-", label="WriteToKinesis")
    ax.plot(xs, [r["read_rps"] for r in by_shards], "s-", label="ReadFromKinesis")
    ax.set_xscale("log", base=2)
    ax.set_xticks(xs, [str(x) for x in xs])
    ax.set_xlabel("shards (100-byte records)")
    ax.set_ylabel("records/s (whole pipeline)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    ax.set_title("scaling with shards", fontsize=10)

    def pairs(ax: Any, labels: List[str], series: Dict[str, List[float]], ylabel: str, title: str) -> None:
        for offset, (name, values) in zip((-0.2, 0.2), series.items()):
            ax.bar([p + offset for p in range(len(labels))], values, 0.4, label=name)
        ax.set_xticks(list(range(len(labels))), labels, fontsize=8)
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=8)
        ax.set_title(title, fontsize=10)

    by_size = [r for r in data["scaling"] if r["dimension"] == "record size"]
    pairs(axes[1][0], [f"{_size(r['size'])}\n({r['records']} records)" for r in by_size],
          {"WriteToKinesis": [r["write_mbps"] for r in by_size], "ReadFromKinesis": [r["read_mbps"] for r in by_size]},
          "MB/s (whole pipeline)", f"scaling with record size ({by_size[0]['shards'] if by_size else '?'} shards)")
    lat = data["latency"]
    pairs(axes[1][1], [f"{r['rate']:.0f}/s\npoll {r['poll_interval']:g} s" for r in lat],
          {"p50": [r["p50_ms"] for r in lat], "p99": [r["p99_ms"] for r in lat]},
          "ms, put to pipeline output", "end-to-end latency (1 shard)")

    ax = axes[1][2]
    for name in memory.MODES:
        rows = [r for r in data["memory"] if r["mode"] == name]
        ax.plot([r["input_mb"] for r in rows], [r["rss_growth_mb"] for r in rows], "o-", label=f"{name}: peak RSS")
        ax.plot([r["input_mb"] for r in rows], [r["traced_peak_mb"] for r in rows], "s--",
                label=f"{name}: tracemalloc peak")
    if data["memory"]:
        top = max(r["input_mb"] for r in data["memory"])
        ax.plot([0, top], [0, top], ":", color="gray", label="input size (if it were all held)")
    ax.set_xlabel("input MB written through a slow endpoint")
    ax.set_ylabel("MB")
    ax.legend(fontsize=7)
    ax.set_title("writer peak memory vs input size", fontsize=10)

    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def run_flink(emulator: Any, mode: Mode, out: Path) -> Dict[str, Any]:
    """The PyFlink section: both pipelines' throughput, then the sink's memory, in one Flink child process."""
    harness.log("[flink] throughput and memory on a local MiniCluster ...")
    with flink.FlinkChild(flink.JOBS, out / "flink-child.log", lifetime=3600) as child:
        speed = flink.throughput(emulator, child, mode.flink_records, mode.flink_shards, mode.flink_repeat)
        mem = flink.memory(emulator, child, mode.flink_memory_sizes, mode.memory_record_size,
                           mode.memory_max_outstanding, 0.05)
    return {"throughput": speed, "memory": mem}


def flink_section(data: Optional[Dict[str, Any]], mode: Mode) -> List[str]:
    if not data:
        return []
    speed, mem = data["throughput"], data["memory"]
    return [
        "## PyFlink: the connector on a local MiniCluster",
        "",
        f"{mode.flink_records} records of 100 bytes on {mode.flink_shards} shards, copied by each job from "
        f"TRIM_HORIZON to a fresh stream, parallelism 2, best of {mode.flink_repeat} (alternating). Rate: records "
        "over the time from the last poll of the sink's numRecordsSend metric (REST) that saw none sent to the "
        "first that saw all (start-up excluded); "
        "each output stream then holds exactly the input's records. The Python workers run in PyFlink's default "
        "process mode.",
        "",
        flink.throughput_table(speed),
        "",
        f"Sink memory: a bounded job (NumberSequenceSource -> Python serializer -> sink) writes N records of "
        f"{mode.memory_record_size} bytes through the loopback proxy delaying each PutRecords 50 ms, "
        f"max_outstanding_records={mode.memory_max_outstanding}, Python bundles of 100 elements. Every 0.3 s the "
        "MiniCluster JVM runs System.gc() and reports its heap in use (live data); the peak per run is shown, "
        "with the JVM's RSS (which the JVM does not give back, so it shows heap sizing more than live data).",
        "",
        flink.memory_table(mem),
        "",
        *flink.verdicts(speed, mem),
        "",
    ]


def summary(data: Dict[str, Any], write: beam_write.WriteResult, read: beam_read.ReadResult, mode: Mode) -> str:
    mem_rows = data["memory"]
    lines = [
        f"# Benchmark summary ({data['mode']})",
        "",
        f"Machine: {data['machine']}",
        "",
        f"`python benchmarks/run.py --{data['mode']}`, {data['seconds']:.0f} s. Every Beam number is a whole "
        "DirectRunner pipeline run, start-up included. MB/s counts data plus partition key.",
        "",
        "## Write",
        "",
        write.settings,
        "",
        beam_write.table(write),
        "",
        beam_write.targets(write),
        "",
        beam_write.note(write, mode.write_records),
        "",
        "## Read",
        "",
        read.settings,
        "",
        beam_read.table(read),
        "",
        beam_read.targets(read),
        "",
        beam_read.note(read),
        "",
        "## Scaling (WriteToKinesis, then ReadFromKinesis of the same stream; one run each)",
        "",
        scaling_table(data["scaling"]),
        "",
        "## End-to-end latency, put to pipeline output",
        "",
        f"A producer thread calls PutRecord at a fixed rate for {mode.latency_seconds:g} s, each record "
        "carrying its put time; ReadFromKinesis (1 shard, from TRIM_HORIZON, on the DirectRunner) feeds a Map "
        "that takes now - put time. Included: the PutRecord round trip, the wait for the reader's next "
        "GetRecords on the shard (at most 5 per second per shard: up to 200 ms; after an empty answer, up to "
        "poll_interval), that call, and the hand-over to the Map. Records put before the first one came out "
        "(start-up) are left out.",
        "",
        latency.table(data["latency"]),
        "",
        "## Writer memory with a slow downstream",
        "",
        f"Each row is a fresh process writing N records of {mode.memory_record_size} bytes (made one at a "
        "time) through a loopback proxy (`pyflink_kinesis/testing/faultproxy.py`) that waits "
        f"{mem_rows[0]['delay'] * 1000:.0f} ms before forwarding each PutRecords, with "
        f"max_outstanding_records={mode.memory_max_outstanding}. Peak RSS growth is VmHWM (reset before the "
        "run) minus RSS before it; tracemalloc peak is what Python objects held at most. Both include a "
        "constant (botocore's first-request caches, thread stacks, tracemalloc's own traces) and a term bounded "
        "by max_outstanding_records x record size times the copies a PutRecords request holds (entries, base64 "
        "JSON body)." if mem_rows else "(no memory rows)",
        "",
        memory.table(mem_rows),
        "",
    ]
    for name in memory.MODES:
        rows = sorted((r for r in mem_rows if r["mode"] == name), key=lambda r: r["records"])
        if len(rows) >= 2:
            more_rss = rows[-1]["rss_growth_mb"] - rows[0]["rss_growth_mb"]
            more_traced = rows[-1]["traced_peak_mb"] - rows[0]["traced_peak_mb"]
            flat = more_rss <= max(5.0, 0.1 * rows[0]["rss_growth_mb"]) and more_traced <= 1.0
            lines += [f"{name}: {rows[-1]['input_mb'] - rows[0]['input_mb']:.1f} MB more input "
                      f"({rows[0]['input_mb']:.1f} -> {rows[-1]['input_mb']:.1f} MB) took {more_rss:+.1f} MB of "
                      f"peak RSS growth and {more_traced:+.1f} MB of tracemalloc peak: "
                      + ("flat (within 5 MB of RSS noise)." if flat else "NOT flat."), ""]
    versus = data.get("vs_async_kinesis")
    if versus:
        lines += [
            "## vs async-kinesis",
            "",
            f"The same {versus['rows'][0]['records']} records of {versus['size']} bytes on {versus['shards']} shards, "
            "one run each after a warm-up. async-kinesis 3.0.1 (its own virtual environment, its defaults, payload "
            "bytes as they are) times itself inside its process, start-up excluded; the Beam numbers are whole "
            "DirectRunner pipelines, start-up included, and without the start-up of the same pipeline on one "
            "record (write) or an empty stream (read). Its producer limits itself to 1,000 records/s per shard "
            "(the service limit) and its consumer to 1 GetRecords per second per shard (ReadFromKinesis: 5).",
            "",
            vs_async_kinesis.table(versus),
            "",
            "## Read scaling with workers (ReadFromKinesis, stop_when_caught_up, one 8-shard stream)",
            "",
            "DirectRunner with `direct_num_workers` worker processes (`multi_processing`; 1 = in process): the "
            "initial split deals the 8 shard lineages over that many restrictions. The whole run includes "
            "starting the worker processes; the same pipeline on an empty 8-shard stream measures that start-up, "
            "and the rate after start-up is records / (whole run - start-up).",
            "",
            vs_async_kinesis.scaling_table(versus),
            "",
        ]
    lines += flink_section(data.get("flink"), mode)
    lines += ["## Targets", "", beam_write.targets(write), beam_read.targets(read)]
    if versus:
        lines += [vs_async_kinesis.targets(versus)]
    if data.get("flink"):
        lines += [*flink.verdicts(data["flink"]["throughput"], data["flink"]["memory"])]
    lines += [""]
    if data.get("chart"):
        lines += [f"![benchmark chart]({data['chart']})", ""]
    return "\n".join(lines)


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
