"""A PyFlink DataStream job: binary sensor readings from Kinesis, each routed to the alerts or normal stream.

    python examples/flink_job.py [--readings 200]      # against the embedded local Kinesis, on a local MiniCluster

``from_ingress`` reads ``example/readings`` of examples/module.yaml (its deserializer ``parse_reading`` makes
``Reading`` values, skipping malformed payloads), ``to_egress`` writes them with ``example/alerts`` (its serializer
picks each record's stream and partition key). The connector jar travels inside the package; ``flink run -py``
ships it too. ``examples/main.py`` runs this job and the Beam pipeline on the same spec objects.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for examples.sensors, named in module.yaml

from examples.sensors import STREAMS  # noqa: E402
from pyflink_kinesis import KinesisEgressSpec, KinesisIngressSpec, load_module  # noqa: E402
from pyflink_kinesis.flink.datastream import from_ingress, to_egress  # noqa: E402

MODULE = Path(__file__).with_name("module.yaml")


def build(env: Any, ingress: KinesisIngressSpec, egress: KinesisEgressSpec) -> None:
    """The job: readings in, each to its stream. Works the same under ``flink run -py`` on a cluster."""
    readings = from_ingress(env, ingress)  # Reading values; event time = arrival time
    to_egress(readings, egress)


def run(ingress: KinesisIngressSpec, egress: KinesisEgressSpec, done: Callable[[], bool],
        timeout: float = 300.0) -> float:
    """Run the job on a local MiniCluster until ``done()`` (a Kinesis source never ends), then cancel it.

    Returns the seconds it ran. Raises TimeoutError when ``done()`` stays false for ``timeout`` seconds.
    """
    from pyflink.datastream import StreamExecutionEnvironment

    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    env.set_python_executable(sys.executable)  # the Python workers use this interpreter (it has PyFlink)
    env.add_python_file(str(ROOT / "examples"))  # so workers import examples.sensors (named in module.yaml)
    env.enable_checkpointing(5000)
    build(env, ingress, egress)
    started = time.monotonic()
    job = env.execute_async("sensor readings (PyFlink)")
    try:
        while not done():
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"the PyFlink job did not finish its work within {timeout:.0f} s")
            time.sleep(1)
    finally:
        job.cancel().result()
    return time.monotonic() - started


def main() -> int:
    from examples.main import count_outputs, reached, write_readings
    from pyflink_kinesis.tools.local import LocalKinesis, create_stream

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=200, help="sensor readings to write")
    args = parser.parse_args()
    module = load_module(MODULE)
    with LocalKinesis() as kinesis:
        ingress = dataclasses.replace(module.ingresses["example/readings"], region=kinesis.region)
        egress = dataclasses.replace(module.egresses["example/alerts"], region=kinesis.region)
        client = kinesis.client()
        for name, shards in ((STREAMS["input"], 2), (STREAMS["alerts"], 1), (STREAMS["normal"], 1)):
            create_stream(client, name, shards=shards)
        expected = write_readings(client, args.readings)
        print(f"in:  {args.readings} readings + 1 malformed record -> {STREAMS['input']}")
        seconds = run(ingress, egress, lambda: reached(client, expected))
        print(f"out: {count_outputs(client)} (expected {dict(expected)}) after {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
