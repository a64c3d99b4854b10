"""PyFlink benchmarks of the connector: the cost of the Python step, and the sink's memory behind a slow endpoint.

Both run the jobs of ``benchmarks/flink_jobs.py`` on a local MiniCluster in one child process (as the tests do,
:class:`pyflink_kinesis.testing.flink_child.FlinkChild`), against the run's emulator on 127.0.0.1. kinesalite (the default, 35x faster on
writes than kinesis-local) serves every call the connector makes here: it addresses streams by name (ListShards,
GetShardIterator, GetRecords, PutRecords with StreamName; StreamARN only when the spec names an ARN), and no
benchmark reshards, so kinesalite's missing ChildShards does not matter.

- Throughput: ``n`` records of 100 bytes are written to a stream first (a backlog); then each job reads it from
  the start and writes every record to a fresh stream: source -> Python deserializer -> Python serializer -> sink
  in PyFlink's process mode (``python_process``) and thread mode (``python_thread``), source -> ``ToStream``
  (Java) -> sink (``java_only``), and the same copy in SQL on 'pyflink-kinesis' tables in raw format
  (``sql_copy``). Each job runs ``--repeat`` rounds, the order rotated every round; the medians count. Per job:
  the time from submit to its first output (the sink's ``numRecordsSend`` metric above 0, polled over REST about
  every 0.1 s), n over the time from submit to the poll that saw all n sent (from submit), and n over the time
  from the first output to then (steady); then the output stream is checked to hold exactly n records. The
  targets: every Python step >= 0.9x java_only from submit and at steady state, sql_copy >= 0.9x java_only.
  With ``--official-jar PATH`` (the official connector's SQL jar for this Flink; never downloaded by this project)
  the official connector's copy runs beside them, without (``official_java``) and with a Python map
  (``official_python``); targets: each Python step >= 1.2x official_python, and every job's first output no
  later than the official twin's (Python step: official_python; the others: official_java). The official source
  names streams by ARN, which kinesalite does not know: run those on kinesis-local, or on moto
  (``--emulator moto --parallelism 1 --max-inflight 1``: one sink writer with one call in flight, as moto
  loses records under concurrent writes).
- Memory: a bounded job writes N records of ``size`` bytes through a loopback proxy (``pyflink_kinesis/testing/faultproxy.py``)
  that waits ``delay`` seconds before forwarding each PutRecords, with ``max_outstanding_records`` M. While it
  runs, the MiniCluster JVM's heap in use right after a ``System.gc()`` (live data) is sampled; its peak should
  stay within M x size plus a constant, whatever N.

    python benchmarks/flink.py [--records 20000] [--repeat 3] [--jobs java_only,python_thread] [--emulator kinesalite]
        [--parallelism 2] [--official-jar PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import harness

import flink_jobs  # noqa: E402
from pyflink_kinesis.testing.faultproxy import FaultProxy  # noqa: E402
from pyflink_kinesis.testing import Streams  # noqa: E402
from pyflink_kinesis.testing.flink_child import FlinkChild  # noqa: E402
from pyflink_kinesis.testing.shardlimits import ShardLimitsProxy  # noqa: E402

JOBS = Path(__file__).with_name("flink_jobs.py")
# Each variant: the job of flink_jobs.py, its extra arguments, what it is.
VARIANTS: Dict[str, Tuple[str, Dict[str, Any], str]] = {
    "java_only": ("java_only", {}, "source -> ToStream (Java) -> sink, no Python step"),
    "python_process": ("python_step", {"mode": "process"},
                       "source -> Python deserializer -> Python serializer -> sink, process mode"),
    "python_thread": ("python_step", {"mode": "thread"},
                      "source -> Python deserializer -> Python serializer -> sink, thread mode"),
    "sql_copy": ("sql_copy", {}, "SQL: INSERT INTO dst SELECT data, pk FROM src ('pyflink-kinesis' tables, raw format)"),
    "official_java": ("official_copy", {}, "the official connector: source -> sink, no Python step"),
    "official_python": ("official_copy", {"python_map": True},
                        "the official connector: source -> Python map -> sink, process mode"),
}
OURS = ("java_only", "python_process", "python_thread", "sql_copy")  # the official ones need --official-jar
# Small Python bundles in the memory job, so that records wait in the sink rather than in PyFlink's bundle buffers.
# The throughput jobs' sink may hold many records, so that it is not what limits both pipelines alike.
MAX_OUTSTANDING = 10_000
# The memory verdict: the peak live heap over the idle JVM's stays within max_outstanding x size plus this.
HEAP_CONSTANT_MB = 32.0
SENT_METRIC = ".numRecordsSend"  # the sink writer's records sent, a standard sink metric
SMALL_BUNDLES = {"python.fn-execution.bundle.size": "100", "python.fn-execution.bundle.time": "100"}


def _timed_copy(child: FlinkChild, job: str, args: Dict[str, Any], n: int, stored: Callable[[], int],
                timeout: float) -> Dict[str, Any]:
    """Run ``job`` until its sink has sent ``n`` records (its ``numRecordsSend`` metric, polled over REST) and
    ``stored()`` says they arrived (the metric counts calls when made, not when answered); then cancel it.
    The times, from submit: ``first_out_s`` until the sink sent its first record, ``seconds`` until it sent the
    last; ``steady_s`` from the first to the last."""
    started = time.monotonic()
    child.start(job, args)
    before_first = started  # the last poll that saw nothing sent yet
    sent = 0.0
    while sent < n:
        now = time.monotonic()
        if now - started > timeout:
            raise RuntimeError(f"{job}: {sent:.0f} of {n} records sent after {timeout:.0f} s:\n{child.log_tail()}")
        sent = child.call(cmd="metric", suffix=SENT_METRIC)["value"]
        if sent == 0:
            before_first = now
        time.sleep(0.1)
    last = time.monotonic()
    while stored() < n:
        if time.monotonic() - last > 120:
            raise RuntimeError(f"{job}: {stored()} of {n} records arrived 120 s after the sink sent them all")
        time.sleep(0.5)
    child.call(cmd="cancel")
    return {"first_out_s": before_first - started, "seconds": last - started, "steady_s": last - before_first}


def throughput(emulator: Any, child: FlinkChild, n: int, shards: int, repeat: int = 3, parallelism: int = 2,
               timeout: float = 600.0, variants: Sequence[str] = OURS,
               official_jar: Optional[str] = None, endpoint: Optional[str] = None,
               max_inflight: Optional[int] = None) -> List[Dict[str, Any]]:
    """Every variant copies the same ``n``-record backlog to a fresh stream, ``repeat`` times (the order rotated
    each round); per variant the medians of its rounds: records/s from submit and at steady state, the time to
    its first output, and both rates as ratios to java_only's medians. The official connector's variants run
    with ``official_jar`` only. The jobs reach the emulator at ``endpoint`` (a shard-limits proxy), else directly."""
    client = emulator.client()

    def arn(stream: str) -> str:
        return client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]

    streams = Streams(client, "flink")
    source = streams.new(shards)
    harness.log(f"  flink: writing {n} records of 100 bytes to {shards} shards ...")
    harness.fill(client, source, harness.Records(100), n)
    runs: Dict[str, List[Dict[str, Any]]] = {name: [] for name in variants}
    for round_ in range(repeat):
        shift = round_ % len(variants)
        for name in list(variants[shift:]) + list(variants[:shift]):
            job, extra, _ = VARIANTS[name]
            out = streams.new(shards)
            if job == "official_copy":
                extra = {**extra, "official_jar": official_jar, "in_arn": arn(source), "out_arn": arn(out)}
            harness.log(f"  flink: {name}, round {round_ + 1} ...")
            runs[name].append(_timed_copy(child, job, {"endpoint": endpoint or emulator.endpoint, "in": source, "out": out,
                                                       "parallelism": parallelism, "max_outstanding": MAX_OUTSTANDING,
                                                       "max_inflight": max_inflight,
                                                       **extra},
                                          n, lambda: harness.count_records(client, out), timeout))
            stored = harness.count_records(client, out)
            if stored != n:
                raise RuntimeError(f"{name}: {stored} records in the output stream, expected {n}")
    rows = []
    for name in variants:
        times = {key: statistics.median(r[key] for r in runs[name]) for key in ("first_out_s", "seconds", "steady_s")}
        rows.append({"job": name, "method": VARIANTS[name][2], "records": n, "rounds": len(runs[name]), **times,
                     "rps": n / times["seconds"], "steady_rps": n / times["steady_s"], "runs": runs[name]})
    base = next(r for r in rows if r["job"] == "java_only")
    for row in rows:
        row["vs_java_only"] = row["rps"] / base["rps"]
        row["steady_vs_java_only"] = row["steady_rps"] / base["steady_rps"]
    return rows


def functions_alone(n: int = 100_000) -> float:
    """Records/s of this package's Python functions of the python_step job alone, in this process (no Flink, no
    Kinesis): source row -> IngressRecord -> the job's deserializer -> its serializer -> sink row."""
    from pyflink.common import Row

    from pyflink_kinesis.flink.functions import SourceRowsToValues, ValuesToSinkRows
    from pyflink_kinesis.testing.metrics import Counters

    args = {"endpoint": "http://127.0.0.1:1", "in": "in", "out": "out"}
    deserialize = SourceRowsToValues(flink_jobs.ingress(args, flink_jobs.key_and_data), "fail")
    serialize = ValuesToSinkRows(flink_jobs.egress(args, flink_jobs.to_out("out")))
    deserialize.open(Counters())
    serialize.open(Counters())
    rows = [Row(b"x" * 100, "in", "shardId-000000000001", f"pk-{i % 1000}", "4968075394633619110415906302622933811"
                "5775091855205597186", None, 1_767_323_045_123 + i) for i in range(n)]
    started = time.perf_counter()
    out = [r for row in rows for value in deserialize.flat_map(row) for r in serialize.flat_map(value)]
    assert len(out) == n
    return n / (time.perf_counter() - started)


def memory(emulator: Any, child: FlinkChild, sizes: Sequence[int], size: int, max_outstanding: int,
           delay: float, timeout: float = 600.0) -> List[Dict[str, Any]]:
    """One bounded job per input size through one slow proxy; the JVM's peak live heap during each."""
    client = emulator.client()
    streams = Streams(client, "flink-memory")
    rows = []
    baseline = child.call(cmd="heap")  # the idle JVM, before the memory jobs
    with FaultProxy(emulator.port, delay=delay, max_lifetime=timeout * len(sizes)) as proxy:
        for n in sizes:
            out = streams.new(2)
            harness.log(f"  flink memory: {n} records of {size} bytes through a proxy delaying each PutRecords "
                        f"{delay * 1000:.0f} ms, max_outstanding_records={max_outstanding} ...")
            started = time.monotonic()
            child.start("sink_memory", {"endpoint": emulator.endpoint, "sink_endpoint": proxy.endpoint, "out": out,
                                        "count": n, "size": size, "max_outstanding": max_outstanding},
                        SMALL_BUNDLES)
            samples = []
            while not child.call(cmd="done")["done"]:
                if time.monotonic() - started > timeout:
                    raise RuntimeError(f"flink memory job ({n}) did not end in {timeout:.0f} s")
                samples.append(child.call(cmd="heap"))
                time.sleep(0.3)
            ended = child.call(cmd="wait", timeout=60)
            if ended["status"] != "FINISHED":
                raise RuntimeError(f"flink memory job ({n}) ended {ended}")
            stored = harness.count_records(client, out)
            if stored < n:
                raise RuntimeError(f"flink memory job ({n}): only {stored} of {n} records arrived")
            peak = max(s["heap_used_mb"] for s in samples) if samples else float("nan")
            rows.append({"records": n, "size": size, "input_mb": n * size / 1e6, "seconds": time.monotonic() - started,
                         "samples": len(samples), "baseline_heap_mb": baseline["heap_used_mb"],
                         "peak_heap_mb": peak, "heap_growth_mb": peak - baseline["heap_used_mb"],
                         "peak_rss_mb": max((s["rss_mb"] for s in samples), default=float("nan")),
                         "bound_mb": max_outstanding * size / 1e6, "max_outstanding": max_outstanding,
                         "delay": delay, "max_inflight_entries": proxy.max_inflight_entries})
            proxy.max_inflight_entries = 0
    return rows


def throughput_table(rows: Sequence[Dict[str, Any]]) -> str:
    return harness.markdown_table(
        ["job", "pipeline", "records", "rounds", "first output s", "records/s from submit", "vs java_only",
         "records/s steady", "vs java_only (steady)"],
        [[r["job"], r["method"], r["records"], r["rounds"], f"{r['first_out_s']:.1f}", f"{r['rps']:.0f}",
          f"{r['vs_java_only']:.2f}x", f"{r['steady_rps']:.0f}", f"{r['steady_vs_java_only']:.2f}x"] for r in rows])


def memory_table(rows: Sequence[Dict[str, Any]]) -> str:
    return harness.markdown_table(
        ["input records", "input MB", "seconds", "heap samples", "peak live heap MB", "growth over idle MB",
         "peak JVM RSS MB", "most entries in PutRecords at once", "max_outstanding x size MB"],
        [[r["records"], f"{r['input_mb']:.1f}", f"{r['seconds']:.1f}", r["samples"], f"{r['peak_heap_mb']:.1f}",
          f"{r['heap_growth_mb']:.1f}", f"{r['peak_rss_mb']:.0f}", r["max_inflight_entries"],
          f"{r['bound_mb']:.2f}"] for r in rows])


def cost_note(speed: Sequence[Dict[str, Any]], alone: float) -> str:
    """Where the Python step's time goes: this package's functions alone vs the whole Python step."""
    return (f"This package's Python functions of the python_step job alone (no Flink, one core): {alone:.0f} "
            f"records/s, about {1e6 / alone:.0f} µs per record; the rest of the Python step's cost is PyFlink's "
            "process-mode exchange with its Python workers and the CPU they take from the JVM and the emulator.")


def verdicts(speed: Sequence[Dict[str, Any]], mem: Sequence[Dict[str, Any]]) -> List[str]:
    """One line per target: met or not, with the numbers."""
    lines = []
    for row in speed:
        if row["job"].startswith("python_"):
            worst = min(row["vs_java_only"], row["steady_vs_java_only"])
            lines.append(f"- Python step ({row['job']}): {row['vs_java_only']:.2f}x the pipeline without it from "
                         f"submit, {row['steady_vs_java_only']:.2f}x at steady state (target >= 0.9x both): "
                         + ("met." if worst >= 0.9 else "NOT met."))
    by_job = {row["job"]: row for row in speed}
    official = by_job.get("official_python")
    for name in ("python_process", "python_thread"):
        if official and name in by_job:
            ours = by_job[name]
            ratios = (ours["rps"] / official["rps"], ours["steady_rps"] / official["steady_rps"])
            lines.append(f"- Python step ({name}) vs the official connector's Python map job: {ratios[0]:.2f}x from "
                         f"submit, {ratios[1]:.2f}x at steady state (target >= 1.2x both): "
                         + ("met." if min(ratios) >= 1.2 else "NOT met."))
    if "official_java" in by_job and "java_only" in by_job:
        lines.append(f"- Without a Python step, ours vs the official connector: "
                     f"{by_job['java_only']['rps'] / by_job['official_java']['rps']:.2f}x from submit, "
                     f"{by_job['java_only']['steady_rps'] / by_job['official_java']['steady_rps']:.2f}x steady.")
    for row in speed:  # like for like: a Python step against the official Python map job, the others without
        twin = by_job.get("official_python" if row["job"].startswith("python_") else "official_java")
        if twin and not row["job"].startswith("official_"):
            lines.append(f"- First output ({row['job']}): {row['first_out_s']:.1f} s after submit, {twin['job']} "
                         f"{twin['first_out_s']:.1f} s (target: no later): "
                         + ("met." if row["first_out_s"] <= twin["first_out_s"] else "NOT met."))
    sql = [r["vs_java_only"] for r in speed if r.get("job") == "sql_copy"]
    if sql:
        lines.append(f"- SQL ('pyflink-kinesis' tables, raw): {sql[0]:.2f}x the DataStream copy without a Python "
                     "step (target >= 0.9x): " + ("met." if sql[0] >= 0.9 else "NOT met."))
    if mem:
        growth = max(r["heap_growth_mb"] for r in mem)
        bound = mem[0]["bound_mb"] + HEAP_CONSTANT_MB
        more_input = mem[-1]["input_mb"] - mem[0]["input_mb"]
        more_heap = mem[-1]["peak_heap_mb"] - mem[0]["peak_heap_mb"]
        lines.append(
            f"- Sink memory: {more_input:.0f} MB more input ({mem[0]['input_mb']:.0f} -> {mem[-1]['input_mb']:.0f} MB) "
            f"took {more_heap:+.1f} MB of peak live heap; the most over the idle JVM was {growth:.1f} MB, against "
            f"max_outstanding_records x size = {mem[0]['bound_mb']:.2f} MB plus a constant of {HEAP_CONSTANT_MB:.0f} MB: "
            + ("within it, and flat." if growth <= bound and more_heap < max(4.0, 0.25 * more_input)
               else "NOT within it."))
    return lines


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000, help="records each throughput job copies")
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of every job (order rotated); medians count")
    parser.add_argument("--jobs", default=None,
                        help=f"the throughput jobs, comma-separated, of {', '.join(VARIANTS)} (default: all of ours, "
                             "and the official connector's with --official-jar)")
    parser.add_argument("--official-jar", metavar="PATH",
                        help="the official Flink Kinesis connector's SQL jar (flink-sql-connector-aws-kinesis-streams) "
                             "for the installed Flink: its jobs run beside ours (never downloaded by this project)")
    parser.add_argument("--memory-sizes", default="2000,8000,32000",
                        help="input records of the memory runs ('' for none)")
    parser.add_argument("--emulator", choices=(*harness.EMULATORS, "moto"), default="kinesalite",
                        help="kinesalite (the default; it knows no stream ARNs, so the official connector cannot "
                             "run on it), kinesis-local, or moto (run it with --parallelism 1 --max-inflight 1)")
    parser.add_argument("--parallelism", type=int, default=2, help="of every throughput job (1: one sink writer)")
    parser.add_argument("--max-inflight", type=int, default=None,
                        help="PutRecords calls in flight per sink writer, ours and the official one's (default: "
                             "their default, 50; moto loses records under concurrent writes: 1)")
    parser.add_argument("--shard-limits", action="store_true",
                        help="the throughput jobs reach the emulator through the shard-limits proxy (each shard at "
                             "the service's limits: 1,000 records/s and 1 MiB/s in, 5 GetRecords calls/s out)")
    parser.add_argument("--output", help="also write the report (markdown) and its numbers (.json beside it) here")
    args = parser.parse_args(argv)
    if args.official_jar and not Path(args.official_jar).is_file():
        parser.error(f"--official-jar: no file {args.official_jar}")
    jobs = args.jobs.split(",") if args.jobs else [*OURS, *(("official_java", "official_python")
                                                            if args.official_jar else ())]
    unknown = [j for j in jobs if j not in VARIANTS]
    if unknown:
        parser.error(f"--jobs: unknown {', '.join(unknown)}; expected some of {', '.join(VARIANTS)}")
    if not args.official_jar and any(VARIANTS[j][0] == "official_copy" for j in jobs):
        parser.error("--jobs: the official connector's jobs need its jar (--official-jar PATH)")
    started = time.perf_counter()
    with harness.open_emulator(args.emulator) as emulator, tempfile.TemporaryDirectory() as tmp:
        with FlinkChild(JOBS, Path(tmp) / "flink.log", lifetime=3600) as child:
            with contextlib.ExitStack() as stack:
                proxy = stack.enter_context(ShardLimitsProxy(emulator.port, max_lifetime=3600)) \
                    if args.shard_limits else None
                speed = throughput(emulator, child, args.records, args.shards, args.repeat, args.parallelism,
                                   variants=jobs, official_jar=args.official_jar,
                                   endpoint=proxy.endpoint if proxy else None, max_inflight=args.max_inflight)
                limits = (f"\n\nThrough the shard-limits proxy: {sum(proxy.throttled.values())} PutRecords entries and "
                          f"{sum(proxy.throttled_reads.values())} GetRecords calls throttled." if proxy else "")
            mem = memory(emulator, child, [int(s) for s in args.memory_sizes.split(",") if s], 2000, 200, 0.05)
        about = harness.machine(emulator)
    alone = functions_alone()
    text = "\n\n".join([
        "# PyFlink benchmark", f"Machine: {about}",
        f"`python benchmarks/flink.py --records {args.records} --shards {args.shards} --repeat {args.repeat} "
        f"--parallelism {args.parallelism}" + (f" --max-inflight {args.max_inflight}" if args.max_inflight else "")
        + f" --jobs {','.join(jobs)} --memory-sizes '{args.memory_sizes}' "
        f"--emulator {args.emulator}" + (" --shard-limits" if args.shard_limits else "")
        + (f" --official-jar {Path(args.official_jar).name}" if args.official_jar else "")
        + f"`, {time.perf_counter() - started:.0f} s. "
        + (__doc__ or "").split("\n\n")[1].replace("\n", " "),
        "## Python step vs none", throughput_table(speed) + limits, cost_note(speed, alone),
        *(["## Sink memory behind a slow endpoint (2000-byte records, max_outstanding_records=200, 50 ms per "
           "PutRecords)", memory_table(mem)] if mem else []),
        "## Targets", "\n".join(verdicts(speed, mem))]) + "\n"
    print(text)
    if args.output:
        Path(args.output).write_text(text)
        Path(args.output).with_suffix(".json").write_text(
            json.dumps({"machine": about, "throughput": speed, "functions_alone_rps": alone, "memory": mem},
                       indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
