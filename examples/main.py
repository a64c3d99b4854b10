"""The main example: the same spec objects drive a Beam pipeline and a PyFlink job, against the embedded local Kinesis.

It starts the local Kinesis on 127.0.0.1, loads examples/module.yaml (a StateFun module with one ingress
and one egress), creates the streams and writes binary sensor readings. Then, with the same two spec objects:
ReadFromKinesis -> WriteToKinesis on Beam's DirectRunner, and from_ingress -> to_egress on a local Flink
MiniCluster (examples/flink_job.py). Each engine reads every reading and writes it to the alerts or normal
stream; it prints what went in and what came out of each.

    python examples/main.py [--readings 500] [--engine beam|flink|both]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for examples.sensors, named in module.yaml

from examples.sensors import ALERT_CELSIUS, STREAMS, encode_reading  # noqa: E402
from pyflink_kinesis import load_module  # noqa: E402
from pyflink_kinesis.testing import read_stream  # noqa: E402
from pyflink_kinesis.tools.local import LocalKinesis, create_stream  # noqa: E402

MODULE = Path(__file__).with_name("module.yaml")


def write_readings(client: Any, n: int) -> Counter:
    """Write ``n`` random readings and one malformed record; returns how many belong in each output stream."""
    rng = random.Random(42)
    readings = [(rng.randrange(10), rng.uniform(15.0, 40.0)) for _ in range(n)]
    entries = [{"Data": encode_reading(s, c), "PartitionKey": f"sensor-{s}"} for s, c in readings]
    entries.append({"Data": b"\xff\xfe not a reading", "PartitionKey": "sensor-x"})
    for start in range(0, len(entries), 500):
        assert client.put_records(StreamName=STREAMS["input"], Records=entries[start:start + 500])["FailedRecordCount"] == 0
    return Counter("alerts" if c > ALERT_CELSIUS else "normal" for _, c in readings)


def count_outputs(client: Any) -> Counter:
    """How many records the alerts and normal streams hold."""
    return Counter({kind: len(read_stream(client, STREAMS[kind])) for kind in ("alerts", "normal")})


def run_beam(ingress: Any, egress: Any) -> dict:
    """ReadFromKinesis -> WriteToKinesis on the DirectRunner, until the reader has caught up; its counters."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from beam_transforms import ReadFromKinesis, WriteToKinesis

    with beam.Pipeline(options=PipelineOptions(["--runner=DirectRunner"])) as pipeline:
        (pipeline
         | "Read" >> ReadFromKinesis(ingress, stop_when_caught_up=True)
         | "Write" >> WriteToKinesis(egress))
    return {m.key.metric.name: m.committed for m in pipeline.result.metrics().query()["counters"]}


def reached(client: Any, target: Counter) -> bool:
    """True once the output streams hold at least ``target`` records each."""
    counts = count_outputs(client)
    return all(counts[kind] >= n for kind, n in target.items())


def report(client: Any, before: Counter, expected: Counter) -> bool:
    """Print what an engine added to each output stream; True if it is what the readings call for."""
    ok = True
    for kind in ("alerts", "normal"):
        out = read_stream(client, STREAMS[kind])
        added = len(out) - before[kind]
        sample = json.loads(out[-1]["Data"]) if out else None
        print(f"  out: {STREAMS[kind]}: +{added} records (expected {expected[kind]}), e.g. {sample}")
        ok &= added == expected[kind]
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=500, help="sensor readings to write")
    parser.add_argument("--engine", choices=("beam", "flink", "both"), default="both", help="which engines to run")
    args = parser.parse_args()

    module = load_module(MODULE)
    ok = True
    with LocalKinesis() as kinesis:
        print(f"local Kinesis (kinesis-local) on {kinesis.endpoint}")
        # The module names 127.0.0.1:4568; the emulator got a free port, so point the specs at it.
        ingress = dataclasses.replace(module.ingresses["example/readings"], region=kinesis.region)
        egress = dataclasses.replace(module.egresses["example/alerts"], region=kinesis.region)
        client = kinesis.client()
        create_stream(client, STREAMS["input"], shards=2)
        for name in (STREAMS["alerts"], STREAMS["normal"]):
            create_stream(client, name, shards=1)
        expected = write_readings(client, args.readings)
        print(f"in:  {args.readings} binary readings + 1 malformed record -> {STREAMS['input']} (2 shards)")

        if args.engine in ("beam", "both"):
            print(f"Beam: ReadFromKinesis({ingress.id}) -> WriteToKinesis({egress.id}) on the DirectRunner")
            before = count_outputs(client)
            metrics = run_beam(ingress, egress)
            print(f"  records read: {metrics.get('records_read', 0)}, skipped by the deserializer: "
                  f"{metrics.get('skipped_records', 0)}, written: {metrics.get('written_records', 0)}")
            ok &= report(client, before, expected)

        if args.engine in ("flink", "both"):
            from examples.flink_job import run as run_flink

            print(f"PyFlink: from_ingress({ingress.id}) -> to_egress({egress.id}) on a local MiniCluster "
                  "(parallelism 2), the same spec objects")
            before = count_outputs(client)
            seconds = run_flink(ingress, egress, lambda: reached(client, before + expected))
            print(f"  job cancelled after {seconds:.0f} s, once every reading was out")
            ok &= report(client, before, expected)
    print("OK: every reading arrived in its stream, from each engine" if ok else "MISMATCH: see the counts above")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
