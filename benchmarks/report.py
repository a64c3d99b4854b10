"""The benchmark report: the chart (summary.png) and the markdown summary (summary.md) of run.py's results."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence

import beam_read
import beam_write
import flink
import harness
import latency
import memory
import vs_async_kinesis

if TYPE_CHECKING:
    from run import Mode


def _size(size: int) -> str:
    return f"{size // 1_000_000} MB" if size >= 1_000_000 else f"{size // 1000} KB" if size >= 1000 else f"{size} B"


def scaling_table(rows: Sequence[Dict[str, Any]]) -> str:
    return harness.markdown_table(
        ["varied", "shards", "record size", "records", "write records/s", "write MB/s", "read records/s",
         "read MB/s"],
        [[r["dimension"], r["shards"], _size(r["size"]), r["records"], f"{r['write_rps']:.0f}",
          f"{r['write_mbps']:.2f}", f"{r['read_rps']:.0f}", f"{r['read_mbps']:.2f}"] for r in rows])


def _bars(ax: Any, rows: Sequence[Dict[str, Any]], ratio_key: str, title: str) -> None:
    """A bar a method, annotated with its rate and its ratio to the baseline."""
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


def _shard_scaling(ax: Any, data: Dict[str, Any]) -> None:
    """Write and read rates against the number of shards."""
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


def _pairs(ax: Any, labels: List[str], series: Dict[str, List[float]], ylabel: str, title: str) -> None:
    """Two bars a label, one of each series."""
    for offset, (name, values) in zip((-0.2, 0.2), series.items()):
        ax.bar([p + offset for p in range(len(labels))], values, 0.4, label=name)
    ax.set_xticks(list(range(len(labels))), labels, fontsize=8)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)


def _memory_panel(ax: Any, data: Dict[str, Any]) -> None:
    """The writer's peak memory against its input size, per memory mode."""
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


def chart(plt: Any, data: Dict[str, Any], path: Path) -> None:
    fig, axes = plt.subplots(2, 3, figsize=(17, 9.5))
    fig.suptitle(f"pyflink-kinesis benchmarks ({data['mode']}, emulator {data['emulator']}): {data['machine_short']}",
                 fontsize=11)
    _bars(axes[0][0], data["write"]["rows"], beam_write.VS_RAW, "write (ratio vs put_records(500))")
    _bars(axes[0][1], data["read"]["rows"], beam_read.VS_RAW, "read (ratio vs raw get_records at 5/s/shard)")
    _shard_scaling(axes[0][2], data)
    by_size = [r for r in data["scaling"] if r["dimension"] == "record size"]
    _pairs(axes[1][0], [f"{_size(r['size'])}\n({r['records']} records)" for r in by_size],
          {"WriteToKinesis": [r["write_mbps"] for r in by_size], "ReadFromKinesis": [r["read_mbps"] for r in by_size]},
          "MB/s (whole pipeline)", f"scaling with record size ({by_size[0]['shards'] if by_size else '?'} shards)")
    lat = data["latency"]
    _pairs(axes[1][1], [f"{r['rate']:.0f}/s\npoll {r['poll_interval']:g} s" for r in lat],
          {"p50": [r["p50_ms"] for r in lat], "p99": [r["p99_ms"] for r in lat]},
          "ms, put to pipeline output", "end-to-end latency (1 shard)")

    _memory_panel(axes[1][2], data)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def flink_section(data: Optional[Dict[str, Any]], mode: Mode) -> List[str]:
    if not data:
        return []
    speed, mem = data["throughput"], data["memory"]
    return [
        "## PyFlink: the connector on a local MiniCluster",
        "",
        f"{mode.flink_records} records of 100 bytes on {mode.flink_shards} shards, copied by each job from "
        f"TRIM_HORIZON to a fresh stream, parallelism 2, medians of {mode.flink_repeat} rounds (order rotated). "
        "First output: from submit until the sink's numRecordsSend metric (REST) is above 0; rates: records over "
        "the time from submit (and from the first output: steady) to the first poll that saw all sent; "
        "each output stream then holds exactly the input's records. The Python step runs in PyFlink's process "
        "and thread modes.",
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


def _beam_sections(data: Dict[str, Any], write: beam_write.WriteResult, read: beam_read.ReadResult,
                   mode: Mode) -> List[str]:
    """The title, the write, read and scaling sections."""
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
    ]
    return lines


def _latency_and_memory(data: Dict[str, Any], mode: Mode) -> List[str]:
    """The latency and writer memory sections, with each memory mode's verdict (flat or not)."""
    mem_rows = data["memory"]
    lines = [
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
    return lines


def _versus_section(versus: Dict[str, Any]) -> List[str]:
    """The async-kinesis comparison and the read scaling with workers."""
    return [
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


def summary(data: Dict[str, Any], write: beam_write.WriteResult, read: beam_read.ReadResult, mode: Mode) -> str:
    lines = _beam_sections(data, write, read, mode) + _latency_and_memory(data, mode)
    versus = data.get("vs_async_kinesis")
    if versus:
        lines += _versus_section(versus)
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


