"""Benchmark: WriteToKinesis (Beam, DirectRunner) vs raw boto3 PutRecords(500) vs per-record PutRecord.

Not a unit test. Run from the repository root::

    python benchmarks/beam_write.py [--records N] [--quick] [--size BYTES] [--shards N]
                                    [--emulator kinesis-local|kinesalite] [--profile]

Every method writes the same records (``--size`` bytes each, a unique prefix plus a fixed random blob,
partition key ``pk-<i % 1000>``) to its own fresh stream with the same shard count on the same emulator,
in the same run, so they see the same emulator state:

- ``WriteToKinesis``: a whole DirectRunner pipeline ``Create(range(N)) | WriteToKinesis(spec)``, wall time
  of ``run().wait_until_finish()`` (pipeline start-up included);
- ``KinesisBatchWriter``: the writer under WriteToKinesis without Beam (where Beam's overhead goes);
- ``put_records(500)``: one thread, sequential calls of 500 records, one boto3 client;
- ``put_record``: one thread, one call per record, on ``min(N, --per-record-max)`` records (the rate is what
  counts; writing all N one by one would dominate the run).

``--emulator kinesalite`` installs kinesalite 3.3.3 with npm into the pyflink-kinesis cache folder
(as ``pyflink_kinesis.local`` installs kinesis-local) and runs it on 127.0.0.1; it writes about 35x faster
than kinesis-local, so the client side is measured rather than the emulator.

Prints a markdown table with ratios and writes it to ``benchmarks/results/beam_write.md``. ``--profile``
adds a cProfile of the WriteToKinesis run (top functions by cumulative and internal time).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pyflink_kinesis import AwsCredentials, AwsRegion, EgressRecord, KinesisEgressBuilder  # noqa: E402
from pyflink_kinesis.local import LocalKinesis, cache_dir, create_stream, free_port  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "beam_write.md"
KINESALITE_VERSION = "3.3.3"


# --- emulators --------------------------------------------------------------------------------------


class Kinesalite:
    """kinesalite on 127.0.0.1, installed with npm into the cache folder on first use."""

    def __init__(self) -> None:
        self.port = free_port()
        self._process: Optional[subprocess.Popen] = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def region(self) -> AwsRegion:
        return AwsRegion.of_custom_endpoint(self.endpoint, "us-east-1")

    @property
    def credentials(self) -> AwsCredentials:
        return AwsCredentials.basic("local", "local")

    def client(self) -> Any:
        import boto3

        return boto3.client("kinesis", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="local", aws_secret_access_key="local")

    @staticmethod
    def install() -> Path:
        target = cache_dir() / "benchmark-emulators" / f"kinesalite-{KINESALITE_VERSION}"
        package = target / "node_modules" / "kinesalite"
        if (package / "index.js").is_file():
            return target
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("npm was not found on PATH; it is needed to install kinesalite")
        target.mkdir(parents=True, exist_ok=True)
        (target / "package.json").write_text('{"name": "pyflink-kinesis-bench", "private": true}\n')
        result = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", "--no-save",
                                 f"kinesalite@{KINESALITE_VERSION}"], cwd=target, capture_output=True, text=True)
        if result.returncode != 0 or not (package / "index.js").is_file():
            raise SystemExit(f"npm install kinesalite@{KINESALITE_VERSION} failed:\n{result.stdout}{result.stderr}")
        return target

    def __enter__(self) -> "Kinesalite":
        target = self.install()
        script = (
            "require('kinesalite')({createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 200})"
            f".listen({self.port}, '127.0.0.1', () => console.log('listening'))"
        )
        self._process = subprocess.Popen(["node", "-e", script], cwd=target, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        assert self._process.stdout is not None
        line = self._process.stdout.readline().decode(errors="replace")
        if "listening" not in line:
            self.__exit__()
            raise SystemExit(f"kinesalite did not start: {line}")
        return self

    def __exit__(self, *exc: object) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)


# --- the methods ------------------------------------------------------------------------------------


class Records:
    """The benchmark's records: index -> EgressRecord, cheap to make in any process."""

    def __init__(self, size: int) -> None:
        self.blob = os.urandom(max(0, size - 8))

    def data(self, i: int) -> bytes:
        return b"%08d" % i + self.blob

    @staticmethod
    def key(i: int) -> str:
        return f"pk-{i % 1000}"


class Serializer:
    """Picklable serializer for the Beam run."""

    def __init__(self, blob: bytes, stream: str) -> None:
        self.blob = blob
        self.stream = stream

    def __call__(self, i: int) -> EgressRecord:
        return EgressRecord(b"%08d" % i + self.blob, self.stream, f"pk-{i % 1000}")


def run_beam(emulator: Any, stream: str, n: int, recs: Records, concurrency: int, max_outstanding: int) -> None:
    import apache_beam as beam

    from beam_transforms.write import WriteToKinesis

    spec = (KinesisEgressBuilder.for_identifier("bench/out").with_aws_region(emulator.region)
            .with_aws_credentials(emulator.credentials).with_serializer(Serializer(recs.blob, stream))
            .with_max_outstanding_records(max_outstanding).build())
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


def run_writer(emulator: Any, stream: str, n: int, recs: Records, concurrency: int, max_outstanding: int) -> None:
    from beam_transforms.batching import KinesisBatchWriter
    from beam_transforms.write import _client_for

    spec = (KinesisEgressBuilder.for_identifier("bench/out").with_aws_region(emulator.region)
            .with_aws_credentials(emulator.credentials).build())
    writer = KinesisBatchWriter(_client_for(spec, concurrency), max_outstanding_records=max_outstanding,
                                max_concurrent_requests=concurrency)
    serialize = Serializer(recs.blob, stream)
    for i in range(n):
        writer.put(serialize(i))
        if writer.has_results():
            writer.drain()
    writer.flush()
    writer.close()


def run_put_records(emulator: Any, stream: str, n: int, recs: Records) -> None:
    client = emulator.client()
    for start in range(0, n, 500):
        batch = [{"Data": recs.data(i), "PartitionKey": recs.key(i)} for i in range(start, min(n, start + 500))]
        response = client.put_records(StreamName=stream, Records=batch)
        if response.get("FailedRecordCount"):
            raise RuntimeError("the emulator failed records; this benchmark does not retry")


def run_put_record(emulator: Any, stream: str, n: int, recs: Records) -> None:
    client = emulator.client()
    for i in range(n):
        client.put_record(StreamName=stream, Data=recs.data(i), PartitionKey=recs.key(i))


def count_records(client: Any, stream: str) -> int:
    total = 0
    for shard in client.list_shards(StreamName=stream)["Shards"]:
        it = client.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                       ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for _ in range(10_000):
            page = client.get_records(ShardIterator=it, Limit=10000)
            total += len(page["Records"])
            it = page.get("NextShardIterator")
            if not page["Records"] or not it:
                break
    return total


def timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# --- main -------------------------------------------------------------------------------------------


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=30_000, help="records per method (default 30000)")
    parser.add_argument("--quick", action="store_true", help="a short run: 3000 records, 300 per-record")
    parser.add_argument("--size", type=int, default=100, help="bytes of data per record (default 100)")
    parser.add_argument("--shards", type=int, default=8, help="shards per stream (default 8)")
    parser.add_argument("--concurrency", type=int, default=4, help="max_concurrent_requests (default 4)")
    parser.add_argument("--max-outstanding", type=int, default=2000, help="max_outstanding_records (default 2000)")
    parser.add_argument("--per-record-max", type=int, default=2000, help="records for the put_record loop")
    parser.add_argument("--emulator", choices=("kinesis-local", "kinesalite"), default="kinesis-local")
    parser.add_argument("--repeat", type=int, default=None,
                        help="rounds, each method once per round in rotated order; the best round counts "
                             "(default 3, 1 with --quick)")
    parser.add_argument("--profile", action="store_true", help="cProfile the WriteToKinesis run")
    parser.add_argument("--output", default=str(RESULTS), help="markdown file to write")
    parser.add_argument("--append", action="store_true", help="append to --output instead of replacing it")
    args = parser.parse_args(argv)
    n = 3000 if args.quick else args.records
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    per_record_n = min(n, 300 if args.quick else args.per_record_max)
    recs = Records(args.size)

    emulator: Any = LocalKinesis() if args.emulator == "kinesis-local" else Kinesalite()
    rows: List[Dict[str, Any]] = []
    profile_text = ""
    with emulator:
        client = emulator.client()
        names = iter(range(100))

        def fresh() -> str:
            name = f"bench-{os.getpid()}-{next(names)}"
            create_stream(client, name, args.shards)
            return name

        # Warm-up (imports, first connections, the emulator's JIT) on a throwaway stream, not timed.
        warm = fresh()
        run_put_records(emulator, warm, 5000, recs)
        run_beam(emulator, warm, 500, recs, args.concurrency, args.max_outstanding)

        methods = [
            ("WriteToKinesis (Beam DirectRunner)", n,
             lambda s: run_beam(emulator, s, n, recs, args.concurrency, args.max_outstanding)),
            ("KinesisBatchWriter (no Beam)", n,
             lambda s: run_writer(emulator, s, n, recs, args.concurrency, args.max_outstanding)),
            ("raw boto3 put_records(500) loop", n, lambda s: run_put_records(emulator, s, n, recs)),
            ("raw boto3 put_record loop", per_record_n, lambda s: run_put_record(emulator, s, per_record_n, recs)),
        ]
        baseline = timed(lambda: run_beam_baseline(n, recs, warm))
        best: Dict[str, float] = {}
        for rep in range(args.repeat):
            # Rotate the order: the emulator speeds up as it warms and slows as it fills.
            for label, count, fn in methods[rep % len(methods):] + methods[:rep % len(methods)]:
                stream = fresh()
                print(f"round {rep + 1}: {label}: {count} records ...", flush=True)
                seconds = timed(lambda: fn(stream))
                stored = count_records(client, stream)
                if stored < count:
                    raise SystemExit(f"{label}: only {stored} of {count} records arrived")
                best[label] = min(seconds, best.get(label, seconds))
        for label, count, _ in methods:
            seconds = best[label]
            rows.append({"method": label, "records": count, "seconds": seconds,
                         "rps": count / seconds, "mbps": count * (args.size + 6) / seconds / 1e6})
        if args.profile:
            stream = fresh()
            profiler = cProfile.Profile()
            profiler.enable()
            run_beam(emulator, stream, n, recs, args.concurrency, args.max_outstanding)
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("cumulative").print_stats(25)
            stats.sort_stats("tottime").print_stats(20)
            profile_text = out.getvalue()

    raw = next(r for r in rows if "put_records(500)" in r["method"])
    per = next(r for r in rows if "put_record loop" in r["method"])
    lines = [
        f"# WriteToKinesis write throughput ({args.emulator})",
        "",
        f"{n} records of {args.size} bytes (+ partition key), {args.shards} shards per stream (a fresh stream "
        f"per method), max_concurrent_requests={args.concurrency}, max_outstanding_records={args.max_outstanding}; "
        f"the per-record loop wrote {per_record_n} records. Best of {args.repeat} round(s), the order of the "
        "methods rotated each round. "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M')}.",
        "",
        "| method | records | seconds | records/s | MB/s | vs put_records(500) | vs put_record |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['method']} | {r['records']} | {r['seconds']:.2f} | {r['rps']:.0f} | {r['mbps']:.2f} | "
                     f"{r['rps'] / raw['rps']:.2f}x | {r['rps'] / per['rps']:.1f}x |")
    beam_row = rows[0]
    lines += [
        "",
        f"Targets: WriteToKinesis >= 0.9x put_records(500): "
        f"{'met' if beam_row['rps'] >= 0.9 * raw['rps'] else 'NOT met'} ({beam_row['rps'] / raw['rps']:.2f}x); "
        f">= 20x put_record: {'met' if beam_row['rps'] >= 20 * per['rps'] else 'NOT met'} "
        f"({beam_row['rps'] / per['rps']:.1f}x).",
        "",
        "The WriteToKinesis time is a whole pipeline run (DirectRunner start-up included); MB/s counts data "
        "plus partition key. The same pipeline without Kinesis (Impulse, FlatMap of the indices, the serializer, "
        f"a no-op Map) takes {baseline:.2f} s for {n} records: the DirectRunner's own share.",
    ]
    table = "\n".join(lines) + "\n"
    print()
    print(table)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    text = table
    if profile_text:
        text += "\n## cProfile of the WriteToKinesis run\n\n```\n" + profile_text + "```\n"
        print(profile_text)
    if args.append and output.exists():
        text = output.read_text() + "\n" + text
    output.write_text(text)
    print(f"written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
