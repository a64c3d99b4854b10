"""Benchmark: ReadFromKinesis (Beam, DirectRunner) vs a raw boto3 GetRecords(Limit=10000) loop.

Not a unit test. Run from the repository root::

    python benchmarks/beam_read.py [--records N] [--quick] [--size BYTES] [--shards N]
                                   [--emulator kinesalite|kinesis-local] [--profile]

One stream is pre-filled once with N records (``--size`` bytes each) and every method reads those same
N records from TRIM_HORIZON, in the same run, on the same emulator:

- ``ReadFromKinesis``: a whole DirectRunner pipeline ``ReadFromKinesis(spec, max_records=N)`` (pipeline
  start-up included; the records counted with the reader's ``kinesis/records_read`` metric). It keeps at
  most one GetRecords in flight per shard on its fetch threads, at most 5 calls per second per shard (the
  Kinesis service limit), and waits ``poll_interval`` (default 1 s) before reading a shard again after an
  empty answer.
- ``raw get_records(10000), 5/s/shard``: one thread, like a simple consumer: ListShards, a TRIM_HORIZON
  iterator per shard, then GetRecords(Limit=10000) on each shard in turn, a shard never called more than 5
  times per second (the same limit), until N records were read. It touches each record's data (its length).
- ``raw get_records(10000), unthrottled``: the same loop without the rate limit (what the emulator gives).

kinesalite serves what ReadFromKinesis calls (ListShards, GetShardIterator with TRIM_HORIZON, AT_TIMESTAMP
and AFTER_SEQUENCE_NUMBER, GetRecords); it does not return ``ChildShards`` at a closed shard's end, where the
reader falls back to ListShards: no resharding happens here, so that path is not timed.

Prints a markdown table with ratios and writes it to ``benchmarks/results/beam_read.md``. ``--profile``
adds a cProfile of the ReadFromKinesis run.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import harness
from harness import Method, Records

from pyflink_kinesis import KinesisIngressBuilder, KinesisIngressStartupPosition
from pyflink_kinesis.testing import Streams
from beam_transforms.shards import GET_RECORDS_PER_SECOND

RESULTS = harness.RESULTS / "beam_read.md"
BEAM = "ReadFromKinesis (Beam DirectRunner)"
RAW = "raw boto3 get_records(10000) loop, 5/s/shard"
RAW_FREE = "raw boto3 get_records(10000) loop, unthrottled"
VS_RAW = "vs raw 5/s/shard"
RATIOS = {VS_RAW: RAW, "vs raw unthrottled": RAW_FREE}


def ingress_spec(emulator: Any, stream: str, position: Any = None, deserializer: Any = None) -> Any:
    builder = (KinesisIngressBuilder.for_identifier("bench/in").with_aws_region(emulator.region)
               .with_aws_credentials(emulator.credentials).with_streams([stream])
               .with_startup_position(position or KinesisIngressStartupPosition.from_earliest()))
    if deserializer is not None:
        builder = builder.with_deserializer(deserializer)
    return builder.build()


def records_read(result: Any) -> int:
    """The ``kinesis/records_read`` counter of a finished pipeline."""
    from apache_beam.metrics.metric import MetricsFilter

    counters = result.metrics().query(MetricsFilter().with_namespace("kinesis").with_name("records_read"))["counters"]
    return sum(c.committed or 0 for c in counters)


def run_beam_read(emulator: Any, stream: str, n: int, **read_args: Any) -> int:
    """A whole DirectRunner pipeline reading ``n`` records of ``stream`` from TRIM_HORIZON; returns the count."""
    import apache_beam as beam

    from beam_transforms.read import ReadFromKinesis

    pipeline = beam.Pipeline(runner="DirectRunner")
    _ = pipeline | ReadFromKinesis(ingress_spec(emulator, stream), max_records=n, **read_args)
    result = pipeline.run()
    result.wait_until_finish()
    return records_read(result)


def run_raw_read(client: Any, stream: str, n: int, per_second: Optional[float] = GET_RECORDS_PER_SECOND,
                 timeout: float = 300.0) -> int:
    """One thread, GetRecords(Limit=10000) on each shard in turn until ``n`` records; returns data bytes read.

    With ``per_second``, a shard is called at most that often (the Kinesis limit); ``None``: as fast as it goes.
    """
    interval = 1.0 / per_second if per_second else 0.0
    iterators: Dict[str, str] = {}
    for shard in client.list_shards(StreamName=stream)["Shards"]:
        iterators[shard["ShardId"]] = client.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    ready_at: Dict[str, float] = {s: 0.0 for s in iterators}
    count = data_bytes = 0
    deadline = time.monotonic() + timeout
    while count < n:
        if not iterators or time.monotonic() > deadline:
            raise RuntimeError(f"read only {count} of {n} records from {stream}")
        shard_id = min(iterators, key=ready_at.__getitem__)  # the shard that may be called soonest
        wait = ready_at[shard_id] - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        ready_at[shard_id] = time.monotonic() + interval
        page = client.get_records(ShardIterator=iterators[shard_id], Limit=10000)
        for record in page["Records"]:
            data_bytes += len(record["Data"])
        count += len(page["Records"])
        if page.get("NextShardIterator") and page["Records"]:
            iterators[shard_id] = page["NextShardIterator"]
        else:
            del iterators[shard_id]  # ended, or read to its end for this benchmark (a pre-filled stream)
    return data_bytes


@dataclass
class ReadResult:
    rows: List[Dict[str, Any]]
    profile: str
    settings: str
    shards: int
    fixed: float  # seconds of a ReadFromKinesis pipeline reading one record: start-up, ListShards, clients

    def steady_rate(self) -> float:
        """ReadFromKinesis records/s without its fixed cost."""
        beam_row = self.rows[0]
        return beam_row["records"] / max(1e-9, beam_row["seconds"] - self.fixed)


def benchmark(emulator: Any, n: int, size: int = 100, shards: int = 4, repeat: int = 3,
              with_profile: bool = False, stream: Optional[str] = None) -> ReadResult:
    """The three methods read the same pre-filled stream; best of ``repeat`` rotated rounds."""
    recs = Records(size)
    client = emulator.client()
    streams = Streams(client, "read")
    if stream is None:
        stream = streams.new(shards)
        harness.log(f"  filling {stream}: {n} records of {size} bytes on {shards} shards ...")
        harness.fill(client, stream, recs, n)
    # Warm-up (imports, first connections, the emulator's caches), not timed.
    run_beam_read(emulator, stream, min(n, 1000))
    run_raw_read(client, stream, min(n, 1000), None)

    def expect_count(_: Any, got: int) -> None:
        if got != n:
            raise SystemExit(f"ReadFromKinesis read {got} of {n} records")

    methods = [
        Method(BEAM, n, lambda _: run_beam_read(emulator, stream, n), check=expect_count),
        Method(RAW, n, lambda _: run_raw_read(client, stream, n)),
        Method(RAW_FREE, n, lambda _: run_raw_read(client, stream, n, None)),
    ]
    # The fixed cost: the same pipeline reading one record of a stream holding a few (same shard count).
    tiny = streams.new(shards)
    harness.fill(client, tiny, recs, 10)
    fixed = min(harness.timed(lambda: run_beam_read(emulator, tiny, 1)) for _ in range(2))
    timings = harness.best_of(methods, repeat, harness.log)
    rows = harness.throughput_rows(timings, recs.bytes_per_record(), RATIOS)
    text = harness.profile(lambda: run_beam_read(emulator, stream, n)) if with_profile else ""
    settings = (f"{n} records of {size} bytes on {shards} shards, one pre-filled stream read from TRIM_HORIZON by "
                f"every method. Best of {repeat} round(s), the order of the methods rotated each round.")
    return ReadResult(rows, text, settings, shards, fixed)


def table(result: ReadResult) -> str:
    return harness.throughput_table(result.rows, list(RATIOS))


def targets(result: ReadResult) -> str:
    ratio = result.rows[0][VS_RAW]
    return (f"Target: ReadFromKinesis >= 0.9x the raw get_records loop at 5/s/shard: "
            f"{'met' if ratio >= 0.9 else 'NOT met'} ({ratio:.2f}x).")


def note(result: ReadResult) -> str:
    return ("The ReadFromKinesis time is a whole pipeline run (DirectRunner start-up included; the raw loops' "
            "client is made before timing); MB/s counts data plus partition key. A ReadFromKinesis pipeline "
            f"reading one record of a stream of {result.shards} shards holding 10 takes {result.fixed:.2f} s "
            "(start-up, ListShards, two boto3 clients): without "
            f"it the reader runs at {result.steady_rate():.0f} records/s "
            f"({result.steady_rate() / result.rows[1]['rps']:.2f}x the raw loop at 5/s/shard).")


def main(argv: Optional[List[str]] = None) -> int:
    args = harness.cli(__doc__, "ReadFromKinesis", 100_000, 20_000, 4, RESULTS).parse_args(argv)
    n = 20_000 if args.quick else args.records
    with harness.open_emulator(args.emulator) as emulator:
        result = benchmark(emulator, n, args.size, args.shards, args.repeat or (1 if args.quick else 3), args.profile)
        about = harness.machine(emulator)
    harness.publish(f"ReadFromKinesis read throughput ({args.emulator})",
                    [result.settings + " " + about, table(result), targets(result), note(result)],
                    "ReadFromKinesis", result.profile, args.output, args.append)
    return 0


if __name__ == "__main__":
    sys.exit(main())
