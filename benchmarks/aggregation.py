"""Benchmark: aggregated (sink.aggregation.enabled) vs plain writes, Beam and Flink, under a shard's real limits.

Not a unit test. Run from the repository root::

    python benchmarks/aggregation.py [--records N] [--shards 4] [--size 100] [--emulator kinesalite|kinesis-local]
    python benchmarks/aggregation.py --smoke    # seconds, kinesis-local, Beam only: what the smoke test runs

Each run writes the same 100-byte records (partition key ``pk-<i % 1000>``) to a fresh 4-shard stream through
:class:`pyflink_kinesis.testing.shardlimits.ShardLimitsProxy` (each shard: 1,000 records/s and 1 MiB/s in, as
the service), so plain writes meet the records/s limit and aggregates the bytes limit:

- Beam: a DirectRunner pipeline ``Impulse | FlatMap(range(N)) | WriteToKinesis(spec)``; its time is the wall
  time of the whole pipeline run, start-up included.
- Flink: a bounded SQL job on a local MiniCluster (``benchmarks/flink_jobs.py``, ``sql_generate``: datagen ->
  a ``'pyflink-kinesis'`` table, parallelism 2, no Python step); its time runs from the last poll that saw
  nothing sent (the sink's ``numRecordsSend`` metric over REST) to the job's end (every record flushed), so job
  start-up is left out; its end (the last flush, the job finishing, about 3 s here) is not. 120,000 records by
  default, so that this fixed part does not hide the rates (at 40,000, aggregated Flink runs take about 4.5 s).

Reported per run: user records/s, Kinesis records stored, entries the proxy throttled, and PUT payload units per
1,000 user records (each Kinesis record costs one unit per started 25 KB of data plus partition key, as billed;
25 KB taken as 25,600 bytes). Every stream is read back and de-aggregated with aws-kinesis-agg: it must hold the
N user records. The ratios aggregated / plain are printed and written with the table to
``benchmarks/results/aggregation.md``.
"""

from __future__ import annotations

import sys
import tempfile
from contextlib import ExitStack
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import harness
from beam_write import indices

from pyflink_kinesis import AwsRegion, KinesisEgressBuilder
from pyflink_kinesis.testing import Streams, read_stream
from pyflink_kinesis.testing.streams import users_by_agg_library
from pyflink_kinesis.testing.flink_child import FlinkChild
from pyflink_kinesis.testing.shardlimits import ShardLimitsProxy

RESULTS = harness.RESULTS / "aggregation.md"
PUT_PAYLOAD_UNIT = 25 * 1024
JOBS = Path(__file__).with_name("flink_jobs.py")
# Records buffered or in flight per writer when aggregating (a batch is half of it in user records, about a dozen
# 50 KB aggregates a call); plain writes keep the job's 1,000 (more in flight only meets more throttling).
AGGREGATED_MAX_OUTSTANDING = 10_000
SENT_METRIC = ".numRecordsSend"  # the sink writer's Kinesis records sent, a standard sink metric


def run_write(emulator: Any, proxy: ShardLimitsProxy, stream: str, n: int, recs: harness.Records,
              aggregated: bool) -> None:
    """One DirectRunner pipeline writing records 0..n-1 to ``stream`` through ``proxy``."""
    import apache_beam as beam

    from beam_transforms.write import WriteToKinesis

    spec = (KinesisEgressBuilder.for_identifier("bench/agg")
            .with_aws_region(AwsRegion.of_custom_endpoint(proxy.endpoint, emulator.region.region_id))
            .with_aws_credentials(emulator.credentials).with_max_outstanding_records(2000)
            .with_serializer(harness.Serializer(recs.blob, stream))
            .with_client_configuration_properties(kpl_properties(aggregated)).build())
    pipeline = beam.Pipeline(runner="DirectRunner")
    _ = indices(pipeline, n) | WriteToKinesis(spec)
    pipeline.run().wait_until_finish()


def kpl_properties(aggregated: bool) -> Dict[str, str]:
    """The KPL's own name for the switch, as a StateFun module writes it (mapped to sink.aggregation.enabled)."""
    return {"AggregationEnabled": str(aggregated).lower()}


def run_flink(child: FlinkChild, emulator: Any, proxy: ShardLimitsProxy, stream: str, n: int, size: int,
              aggregated: bool, timeout: float = 600.0) -> float:
    """The ``sql_generate`` job writing n records to ``stream`` through ``proxy``: seconds from the last poll
    that saw nothing sent to the job's end."""
    started = time.monotonic()
    child.start("sql_generate", {"endpoint": emulator.endpoint, "sink_endpoint": proxy.endpoint, "out": stream,
                                 "count": n, "size": size, "parallelism": 2, "sink": kpl_properties(aggregated),
                                 **({"max_outstanding": AGGREGATED_MAX_OUTSTANDING} if aggregated else {})})
    before_first = started
    while True:
        polled = time.monotonic()
        # A bounded job's MiniCluster is gone once it ends: a metric poll may fail then, and "done" says why.
        sent = child.call(cmd="metric", suffix=SENT_METRIC, check=False)
        if child.call(cmd="done")["done"]:
            break
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"flink: the job did not end in {timeout:.0f} s:\n{child.log_tail()}")
        if sent.get("value") == 0:
            before_first = polled
        time.sleep(0.1)
    ended = time.monotonic()
    state = child.call(cmd="wait", timeout=60)
    if state["status"] != "FINISHED":
        raise RuntimeError(f"flink: the job ended {state}:\n{child.log_tail()}")
    return ended - before_first


def measure(emulator: Any, n: int, shards: int, size: int, child: Optional[FlinkChild]) -> List[Dict[str, Any]]:
    """Plain, then aggregated, on Beam, then (with ``child``) on Flink: a row each."""
    recs = harness.Records(size)
    client = emulator.client()
    streams = Streams(client, "agg")
    runs: List[tuple] = [("Beam", lambda proxy, stream, agg: harness.timed(
        lambda: run_write(emulator, proxy, stream, n, recs, agg)))]
    if child is not None:
        runs.append(("Flink", lambda proxy, stream, agg: run_flink(child, emulator, proxy, stream, n, size, agg)))
    rows = []
    for engine, run in runs:
        for aggregated in (False, True):
            method = "aggregated" if aggregated else "plain"
            stream = streams.new(shards)
            with ShardLimitsProxy(emulator.port, max_lifetime=3600) as proxy:
                harness.log(f"  {engine} {method}: {n} records on {shards} shards ...")
                seconds = run(proxy, stream, aggregated)
                throttled = sum(proxy.throttled.values())
            stored = read_stream(client, stream)
            users = len(users_by_agg_library(stored))
            if users != n:
                raise RuntimeError(f"{engine} {method}: {users} user records in the stream, expected {n}")
            units = sum(-(-(len(r["Data"]) + len(r["PartitionKey"].encode())) // PUT_PAYLOAD_UNIT) for r in stored)
            rows.append({"engine": engine, "method": method, "records": n, "seconds": seconds, "rps": n / seconds,
                         "kinesis_records": len(stored), "throttled": throttled, "units_per_1000": units * 1000 / n})
    return rows


def report(rows: List[Dict[str, Any]], settings: str, about: str) -> str:
    table = harness.markdown_table(
        ["engine", "method", "user records", "seconds", "user records/s", "Kinesis records", "throttled entries",
         "PUT payload units / 1,000 records"],
        [[r["engine"], r["method"], r["records"], f"{r['seconds']:.2f}", f"{r['rps']:.0f}", r["kinesis_records"],
          r["throttled"], f"{r['units_per_1000']:.2f}"] for r in rows])
    ratios = []
    for engine in dict.fromkeys(r["engine"] for r in rows):
        plain, aggregated = [r for r in rows if r["engine"] == engine]
        ratios.append(f"{engine}: aggregated / plain records/s {harness.ratio(aggregated['rps'], plain['rps'])} "
                      f"(target >= 5x: {'met' if aggregated['rps'] >= 5 * plain['rps'] else 'NOT met'}); PUT "
                      f"payload units per 1,000 records {aggregated['units_per_1000']:.2f} aggregated vs "
                      f"{plain['units_per_1000']:.2f} plain.")
    return (f"# Aggregated vs plain writes under a shard's limits\n\n{settings}\n\n{about}\n\n{table}\n\n"
            + "\n".join(f"- {line}" for line in ratios) + "\n")


def main(argv: Optional[List[str]] = None) -> int:
    parser = harness.cli(__doc__, "aggregation", 120_000, 10_000, 4, RESULTS)
    parser.add_argument("--smoke", action="store_true", help="a tiny Beam-only run on kinesis-local (what the tests run)")
    parser.add_argument("--no-flink", action="store_true", help="Beam only")
    args = parser.parse_args(argv)
    n = 600 if args.smoke else 10_000 if args.quick else args.records
    emulator_name = "kinesis-local" if args.smoke else args.emulator
    flink = not (args.smoke or args.no_flink)
    with ExitStack() as stack:
        emulator = stack.enter_context(harness.open_emulator(emulator_name))
        log = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "flink.log"
        child = stack.enter_context(FlinkChild(JOBS, log, lifetime=3600)) if flink else None
        rows = measure(emulator, n, args.shards, args.size, child)
        about = harness.machine(emulator)
    settings = (f"{n} records of {args.size} bytes (+ partition key) per run, {args.shards} shards, a fresh "
                "stream each, through ShardLimitsProxy at the service's limits; one run each.")
    text = report(rows, settings, about)
    harness.log(text)
    if not args.smoke:
        harness.write_report(Path(args.output), text, args.append)
    return 0


if __name__ == "__main__":
    sys.exit(main())
