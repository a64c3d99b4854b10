"""Benchmark: WriteToKinesis (Beam, DirectRunner) vs raw boto3 PutRecords(500) vs per-record PutRecord.

Not a unit test. Run from the repository root::

    python benchmarks/beam_write.py [--records N] [--quick] [--size BYTES] [--shards N]
                                    [--emulator kinesalite|kinesis-local] [--profile]

Every method writes the same records (``--size`` bytes each, a unique prefix plus a fixed random blob,
partition key ``pk-<i % 1000>``) to its own fresh stream with the same shard count on the same emulator,
in the same run, so they see the same emulator state:

- ``WriteToKinesis``: a whole DirectRunner pipeline ``Impulse | FlatMap(range(N)) | WriteToKinesis(spec)``,
  wall time of ``run().wait_until_finish()`` (pipeline start-up included);
- ``KinesisBatchWriter``: the writer under WriteToKinesis without Beam (where Beam's overhead goes);
- ``put_records(500)``: one thread, sequential calls of 500 records, one boto3 client;
- ``put_record``: one thread, one call per record, on ``min(N, --per-record-max)`` records (the rate is what
  counts; writing all N one by one would dominate the run).

The default emulator is kinesalite (see ``harness.py``): it writes about 35x faster than kinesis-local, so
the client side is measured rather than the emulator.

Prints a markdown table with ratios and writes it to ``benchmarks/results/beam_write.md``. ``--profile``
adds a cProfile of the WriteToKinesis run (top functions by cumulative and internal time).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import harness
from harness import Method, Records, Serializer

from pyflink_kinesis import KinesisEgressBuilder
from pyflink_kinesis.testing import Streams

RESULTS = harness.RESULTS / "beam_write.md"
BEAM = "WriteToKinesis (Beam DirectRunner)"
WRITER = "KinesisBatchWriter (no Beam)"
RAW = "raw boto3 put_records(500) loop"
PER_RECORD = "raw boto3 put_record loop"
VS_RAW, VS_PER = "vs put_records(500)", "vs put_record"
RATIOS = {VS_RAW: RAW, VS_PER: PER_RECORD}


# --- the methods ------------------------------------------------------------------------------------


def egress_spec(emulator: Any, serializer: Any = None, max_outstanding: int = 2000) -> Any:
    builder = (KinesisEgressBuilder.for_identifier("bench/out").with_aws_region(emulator.region)
               .with_aws_credentials(emulator.credentials).with_max_outstanding_records(max_outstanding))
    if serializer is not None:
        builder = builder.with_serializer(serializer)
    return builder.build()


def run_beam(emulator: Any, stream: str, n: int, recs: Records, concurrency: int = 4,
             max_outstanding: int = 2000) -> None:
    """A whole DirectRunner pipeline writing records 0..n-1 to ``stream``."""
    import apache_beam as beam

    from beam_transforms.write import WriteToKinesis

    spec = egress_spec(emulator, Serializer(recs.blob, stream), max_outstanding)
    pipeline = beam.Pipeline(runner="DirectRunner")
    _ = indices(pipeline, n) | WriteToKinesis(spec, max_concurrent_requests=concurrency)
    pipeline.run().wait_until_finish()


def _range(_: bytes, n: int) -> range:
    return range(n)


def indices(pipeline: Any, n: int) -> Any:
    """0..n-1 generated inside the pipeline: beam.Create would pickle every element into the graph and
    reshuffle them, a cost of the test source that has nothing to do with the sink."""
    import apache_beam as beam

    return pipeline | beam.Impulse() | beam.FlatMap(_range, n)


def run_beam_baseline(n: int, recs: Records, stream: str) -> None:
    """The same pipeline with the serializer but no Kinesis: what the DirectRunner itself costs."""
    import apache_beam as beam

    pipeline = beam.Pipeline(runner="DirectRunner")
    _ = indices(pipeline, n) | beam.Map(Serializer(recs.blob, stream)) | beam.Map(_discard)
    pipeline.run().wait_until_finish()


def _discard(_: Any) -> None:
    return None


def run_writer(emulator: Any, stream: str, n: int, recs: Records, concurrency: int = 4,
               max_outstanding: int = 2000, client: Any = None) -> Any:
    """KinesisBatchWriter alone (as _WriteFn drives it); returns its stats."""
    from beam_transforms.batching import KinesisBatchWriter
    from pyflink_kinesis.spec.boto import transform_client

    if client is None:
        client = transform_client(egress_spec(emulator), max(10, concurrency))
    writer = KinesisBatchWriter(client, max_outstanding_records=max_outstanding, max_concurrent_requests=concurrency)
    serialize = Serializer(recs.blob, stream)
    try:
        for i in range(n):
            writer.put(serialize(i))
            if writer.has_results():
                writer.drain()
        writer.flush()
    finally:
        writer.close()
    return writer.stats


def run_put_records(emulator: Any, stream: str, n: int, recs: Records) -> None:
    harness.fill(emulator.client(), stream, recs, n)


def run_put_record(emulator: Any, stream: str, n: int, recs: Records) -> None:
    client = emulator.client()
    for i in range(n):
        client.put_record(StreamName=stream, Data=recs.data(i), PartitionKey=recs.key(i))


# --- the benchmark ----------------------------------------------------------------------------------


@dataclass
class WriteResult:
    rows: List[Dict[str, Any]]
    baseline: float
    profile: str
    settings: str


def benchmark(emulator: Any, n: int, size: int = 100, shards: int = 8, repeat: int = 3, per_record_n: int = 2000,
              concurrency: int = 4, max_outstanding: int = 2000, with_profile: bool = False) -> WriteResult:
    """The four methods, same records, each on a fresh stream; best of ``repeat`` rotated rounds."""
    recs = Records(size)
    client = emulator.client()
    streams = Streams(client, "write")
    per_record_n = min(n, per_record_n)

    # Warm-up (imports, first connections, the emulator's JIT) on a throwaway stream, not timed.
    warm = streams.new(shards)
    harness.fill(client, warm, recs, min(n, 2000))
    run_beam(emulator, warm, min(n, 500), recs, concurrency, max_outstanding)

    def fresh() -> str:
        return streams.new(shards)

    def check(count: int) -> Any:
        def verify(stream: str, _: Any) -> None:
            stored = harness.count_records(client, stream)
            if stored < count:
                raise SystemExit(f"only {stored} of {count} records arrived in {stream}")
        return verify

    methods = [
        Method(BEAM, n, lambda s: run_beam(emulator, s, n, recs, concurrency, max_outstanding), fresh, check(n)),
        Method(WRITER, n, lambda s: run_writer(emulator, s, n, recs, concurrency, max_outstanding), fresh, check(n)),
        Method(RAW, n, lambda s: run_put_records(emulator, s, n, recs), fresh, check(n)),
        Method(PER_RECORD, per_record_n, lambda s: run_put_record(emulator, s, per_record_n, recs), fresh,
               check(per_record_n)),
    ]
    baseline = harness.timed(lambda: run_beam_baseline(n, recs, warm))
    timings = harness.best_of(methods, repeat, harness.log)
    rows = harness.throughput_rows(timings, recs.bytes_per_record(), RATIOS)
    text = ""
    if with_profile:
        stream = fresh()
        text = harness.profile(lambda: run_beam(emulator, stream, n, recs, concurrency, max_outstanding))
    settings = (f"{n} records of {size} bytes (+ partition key), {shards} shards per stream (a fresh stream per "
                f"method and round), max_concurrent_requests={concurrency}, max_outstanding_records="
                f"{max_outstanding}; the per-record loop wrote {per_record_n} records. Best of {repeat} round(s), "
                "the order of the methods rotated each round.")
    return WriteResult(rows, baseline, text, settings)


def table(result: WriteResult) -> str:
    return harness.throughput_table(result.rows, list(RATIOS))


def targets(result: WriteResult) -> str:
    beam_row = result.rows[0]
    return (f"Targets: WriteToKinesis >= 0.9x put_records(500): {'met' if beam_row[VS_RAW] >= 0.9 else 'NOT met'} "
            f"({beam_row[VS_RAW]:.2f}x); >= 20x put_record: {'met' if beam_row[VS_PER] >= 20 else 'NOT met'} "
            f"({beam_row[VS_PER]:.1f}x).")


def note(result: WriteResult, n: int) -> str:
    return ("The WriteToKinesis time is a whole pipeline run (DirectRunner start-up included); MB/s counts data "
            "plus partition key. The same pipeline without Kinesis (Impulse, FlatMap of the indices, the serializer, "
            f"a no-op Map) takes {result.baseline:.2f} s for {n} records: the DirectRunner's own share.")


def main(argv: Optional[List[str]] = None) -> int:
    parser = harness.cli(__doc__, "WriteToKinesis", 30_000, 3000, 8, RESULTS)
    parser.add_argument("--concurrency", type=int, default=4, help="max_concurrent_requests (default 4)")
    parser.add_argument("--max-outstanding", type=int, default=2000, help="max_outstanding_records (default 2000)")
    parser.add_argument("--per-record-max", type=int, default=2000, help="records for the put_record loop")
    args = parser.parse_args(argv)
    n = 3000 if args.quick else args.records
    per_record_n = 300 if args.quick else args.per_record_max
    with harness.open_emulator(args.emulator) as emulator:
        result = benchmark(emulator, n, args.size, args.shards, args.repeat or (1 if args.quick else 3), per_record_n,
                           args.concurrency, args.max_outstanding, args.profile)
        about = harness.machine(emulator)
    harness.publish(f"WriteToKinesis write throughput ({args.emulator})",
                    [result.settings + " " + about, table(result), targets(result), note(result, n)],
                    "WriteToKinesis", result.profile, args.output, args.append)
    return 0


if __name__ == "__main__":
    sys.exit(main())
