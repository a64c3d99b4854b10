"""Benchmark: WriteToKinesis aggregated (sink.aggregation.enabled) vs plain, under a shard's real limits.

Not a unit test. Run from the repository root::

    python benchmarks/aggregation.py [--records N] [--shards 4] [--size 100] [--emulator kinesalite|kinesis-local]
    python benchmarks/aggregation.py --smoke    # seconds, kinesis-local: what the smoke test runs

Both runs write the same 100-byte records (``harness.Records``, partition key ``pk-<i % 1000>``) with a
DirectRunner pipeline ``Impulse | FlatMap(range(N)) | WriteToKinesis(spec)`` to a fresh 4-shard stream through
:class:`pyflink_kinesis.testing.shardlimits.ShardLimitsProxy` (each shard: 1,000 records/s and 1 MiB/s in, as
the service), so plain writes meet the records/s limit and aggregates the bytes limit. Reported per run:
user records/s (wall time of the whole pipeline run, start-up included), Kinesis records stored, entries the
proxy throttled, and PUT payload units per 1,000 user records (each Kinesis record costs one unit per started
25 KB of data plus partition key, as billed; 25 KB taken as 25,600 bytes). The ratio aggregated / plain is
printed and written with the table to ``benchmarks/results/aggregation.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import harness
from beam_write import indices

from pyflink_kinesis import AwsRegion, KinesisEgressBuilder
from pyflink_kinesis.testing import Streams, read_stream
from pyflink_kinesis.testing.shardlimits import ShardLimitsProxy

RESULTS = harness.RESULTS / "aggregation.md"
PUT_PAYLOAD_UNIT = 25 * 1024


def run_write(emulator: Any, proxy: ShardLimitsProxy, stream: str, n: int, recs: harness.Records,
              aggregated: bool) -> None:
    """One DirectRunner pipeline writing records 0..n-1 to ``stream`` through ``proxy``."""
    import apache_beam as beam

    from beam_transforms.write import WriteToKinesis

    spec = (KinesisEgressBuilder.for_identifier("bench/agg")
            .with_aws_region(AwsRegion.of_custom_endpoint(proxy.endpoint, emulator.region.region_id))
            .with_aws_credentials(emulator.credentials).with_max_outstanding_records(2000)
            .with_serializer(harness.Serializer(recs.blob, stream))
            .with_client_configuration_properties({"AggregationEnabled": str(aggregated).lower()}).build())
    pipeline = beam.Pipeline(runner="DirectRunner")
    _ = indices(pipeline, n) | WriteToKinesis(spec)
    pipeline.run().wait_until_finish()


def measure(emulator: Any, n: int, shards: int, size: int) -> List[Dict[str, Any]]:
    """Plain, then aggregated: a row each."""
    recs = harness.Records(size)
    client = emulator.client()
    streams = Streams(client, "agg")
    rows = []
    for aggregated in (False, True):
        stream = streams.new(shards)
        with ShardLimitsProxy(emulator.port, max_lifetime=3600) as proxy:
            harness.log(f"  {'aggregated' if aggregated else 'plain'}: {n} records on {shards} shards ...")
            seconds = harness.timed(lambda: run_write(emulator, proxy, stream, n, recs, aggregated))
            throttled = sum(proxy.throttled.values())
        stored = read_stream(client, stream)
        units = sum(-(-(len(r["Data"]) + len(r["PartitionKey"].encode())) // PUT_PAYLOAD_UNIT) for r in stored)
        rows.append({"method": "aggregated" if aggregated else "plain", "records": n, "seconds": seconds,
                     "rps": n / seconds, "kinesis_records": len(stored), "throttled": throttled,
                     "units_per_1000": units * 1000 / n})
    return rows


def report(rows: List[Dict[str, Any]], settings: str, about: str) -> str:
    plain, aggregated = rows
    table = harness.markdown_table(
        ["method", "user records", "seconds", "user records/s", "Kinesis records", "throttled entries",
         "PUT payload units / 1,000 records"],
        [[r["method"], r["records"], f"{r['seconds']:.2f}", f"{r['rps']:.0f}", r["kinesis_records"], r["throttled"],
          f"{r['units_per_1000']:.2f}"] for r in rows])
    ratio = harness.ratio(aggregated["rps"], plain["rps"])
    return (f"# WriteToKinesis: aggregated vs plain under a shard's limits\n\n{settings}\n\n{about}\n\n{table}\n\n"
            f"Aggregated / plain records/s: {ratio}; PUT payload units per 1,000 records: "
            f"{aggregated['units_per_1000']:.2f} aggregated vs {plain['units_per_1000']:.2f} plain.\n")


def main(argv: Optional[List[str]] = None) -> int:
    parser = harness.cli(__doc__, "aggregation", 40_000, 10_000, 4, RESULTS)
    parser.add_argument("--smoke", action="store_true", help="a tiny run on kinesis-local (what the tests run)")
    args = parser.parse_args(argv)
    n = 600 if args.smoke else 10_000 if args.quick else args.records
    emulator_name = "kinesis-local" if args.smoke else args.emulator
    with harness.open_emulator(emulator_name) as emulator:
        rows = measure(emulator, n, args.shards, args.size)
        about = harness.machine(emulator)
    settings = (f"{n} records of {args.size} bytes (+ partition key) per method, {args.shards} shards, a fresh "
                "stream each, through ShardLimitsProxy at the service's limits; one run each.")
    text = report(rows, settings, about)
    harness.log(text)
    if not args.smoke:
        harness.write_report(Path(args.output), text, args.append)
    return 0


if __name__ == "__main__":
    sys.exit(main())
