"""The main example job: binary sensor readings through a Beam pipeline, against the embedded local Kinesis.

It starts the local Kinesis on 127.0.0.1, loads examples/module.yaml (a StateFun module with one
ingress and one egress), creates the streams, writes readings, runs
ReadFromKinesis -> WriteToKinesis on the DirectRunner, and prints what went in and what came out.

    python examples/main.py [--readings 500]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for examples.sensors, named in module.yaml

import apache_beam as beam  # noqa: E402
from apache_beam.options.pipeline_options import PipelineOptions  # noqa: E402

from beam_transforms import ReadFromKinesis, WriteToKinesis  # noqa: E402
from examples.sensors import STREAMS, encode_reading  # noqa: E402
from pyflink_kinesis import load_module  # noqa: E402
from pyflink_kinesis.local import LocalKinesis, create_stream  # noqa: E402

MODULE = Path(__file__).with_name("module.yaml")


def read_all(client, stream: str) -> list[dict]:
    """Every record of ``stream``, oldest first per shard (bounded: stops when a shard is drained)."""
    records = []
    for shard in client.list_shards(StreamName=stream)["Shards"]:
        iterator = client.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for _ in range(100):
            response = client.get_records(ShardIterator=iterator, Limit=10000)
            records.extend(response["Records"])
            iterator = response.get("NextShardIterator")
            if not response["Records"] or iterator is None:
                break
    return records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=500, help="sensor readings to write")
    args = parser.parse_args()

    module = load_module(MODULE)
    with LocalKinesis() as kinesis:
        print(f"local Kinesis (kinesis-local) on {kinesis.endpoint}")
        # The module names 127.0.0.1:4568; the emulator got a free port, so point the specs at it.
        ingress = dataclasses.replace(module.ingresses["example/readings"], region=kinesis.region)
        egress = dataclasses.replace(module.egresses["example/alerts"], region=kinesis.region)
        client = kinesis.client()
        create_stream(client, STREAMS["input"], shards=2)
        for name in (STREAMS["alerts"], STREAMS["normal"]):
            create_stream(client, name, shards=1)

        rng = random.Random(42)
        readings = [(rng.randrange(10), rng.uniform(15.0, 40.0)) for _ in range(args.readings)]
        entries = [{"Data": encode_reading(s, c), "PartitionKey": f"sensor-{s}"} for s, c in readings]
        entries.append({"Data": b"\xff\xfe not a reading", "PartitionKey": "sensor-x"})
        for start in range(0, len(entries), 500):
            assert client.put_records(StreamName=STREAMS["input"], Records=entries[start:start + 500])["FailedRecordCount"] == 0
        print(f"in:  {len(readings)} binary readings + 1 malformed record -> {STREAMS['input']} (2 shards)")

        print(f"pipeline: ReadFromKinesis({ingress.id}) -> WriteToKinesis({egress.id}) on the DirectRunner")
        with beam.Pipeline(options=PipelineOptions(["--runner=DirectRunner"])) as pipeline:
            (pipeline
             | "Read" >> ReadFromKinesis(ingress, stop_when_caught_up=True)
             | "Write" >> WriteToKinesis(egress))
        metrics = {m.key.metric.name: m.committed for m in pipeline.result.metrics().query()["counters"]}
        print(f"  records read: {metrics.get('records_read', 0)}, skipped by the deserializer: "
              f"{metrics.get('skipped_records', 0)}, written: {metrics.get('written_records', 0)}")

        expected = Counter("alerts" if c > 30.0 else "normal" for _, c in readings)
        ok = True
        for kind in ("alerts", "normal"):
            out = read_all(client, STREAMS[kind])
            sample = json.loads(out[0]["Data"]) if out else None
            print(f"out: {STREAMS[kind]}: {len(out)} records (expected {expected[kind]}), e.g. {sample}")
            ok &= len(out) == expected[kind]
    print("OK: every reading arrived in its stream" if ok else "MISMATCH: see the counts above")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
