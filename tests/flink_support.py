"""Test-only pieces of the PyFlink tests: the job script's path, the jar check, records and what jobs observed.

The child process running jobs, bounded waits, fresh streams, stream helpers and the RuntimeContext stand-in are
the shared kit, :mod:`pyflink_kinesis.testing`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from pathlib import Path
from typing import Any, Dict, Iterator, List

from pyflink_kinesis import AwsCredentials, AwsRegion
from pyflink_kinesis.flink.jar import connector_jar
from pyflink_kinesis.testing import put_all, read_stream
from pyflink_kinesis.testing.flink_child import FlinkChild

ROOT = Path(__file__).resolve().parents[1]
JOBS_SCRIPT = ROOT / "tests" / "flink_jobs.py"


def emulator_source(builder: Any, endpoint: str) -> Any:
    """``builder`` reading kinesis-local at ``endpoint``, declared an emulator (``aws.emulator``: the fan-out jobs
    need its shard-end workaround), trusting its self-signed certificate on the TLS port. Both set here, in the
    test's own job, as a user would write them: the product adds neither because the endpoint is local."""
    builder.with_aws_region(AwsRegion.of_custom_endpoint(endpoint, "us-east-1", emulator=True))
    if endpoint.startswith("https://"):
        builder.with_client_configuration_property("aws.trust.all.certificates", "true")
    return builder.with_aws_credentials(AwsCredentials.basic("local", "local"))


def module_child(tmp_path_factory: Any, lifetime: float, script: Path = JOBS_SCRIPT) -> Iterator[FlinkChild]:
    """The body of a test module's ``flink`` fixture: one child running ``script`` (default tests/flink_jobs.py)
    for the module's jobs, after checking the jar for this PyFlink (ConnectorJarMissing says how to build it)."""
    connector_jar()
    child = FlinkChild(script, tmp_path_factory.mktemp("flink") / "child.log", lifetime=lifetime)
    yield child
    child.close()


class KeyedPhases:
    """Records ``key:n:phase`` written round-robin over ``keys`` in phases, ``n`` counting per key from 1."""

    def __init__(self, client: Any, stream: str, keys: List[str]) -> None:
        self.client, self.stream, self.keys = client, stream, keys
        self.counters: Dict[str, int] = {key: 0 for key in keys}

    def write(self, phase: str, rounds: int) -> None:
        """``rounds`` records per key, in one PutRecords sequence."""
        entries = []
        for _ in range(rounds):
            for key in self.keys:
                self.counters[key] += 1
                entries.append({"Data": f"{key}:{self.counters[key]}:{phase}".encode(), "PartitionKey": key})
        put_all(self.client, self.stream, entries)

    def check_once_in_key_order(self, observed: List[Dict[str, Any]]) -> None:
        """Each record seen once, and each key's records in the order written (``order``: the emit order)."""
        assert len({o["data"] for o in observed}) == len(observed) == sum(self.counters.values()), "every record once"
        by_key: Dict[str, List[int]] = {}
        for o in sorted(observed, key=lambda o: o["order"]):
            key, n, _ = o["data"].decode().split(":")
            by_key.setdefault(key, []).append(int(n))
        assert by_key == {k: list(range(1, n + 1)) for k, n in self.counters.items()}, "each key in order"


def hash_key_for(data: bytes) -> str:
    """The explicit hash key the roundtrip job's serializer gives some records (a decimal 128-bit number)."""
    return str(int.from_bytes(hashlib.sha256(data).digest()[:16], "big"))


DEADLINE = 240.0  # seconds for a job to start and move what it was given, on a loaded 2-core machine


def observations(client: Any, stream: str) -> List[Dict[str, Any]]:
    """The JSON observations a test job wrote to ``stream`` (tests/flink_jobs.py), each with its data decoded."""
    out = []
    for r in read_stream(client, stream):
        body = json.loads(r["Data"])
        body["data"] = base64.b64decode(body["data"])
        out.append(body)
    return out


def binary_entries(prefix: bytes, n: int, rng: random.Random) -> List[Dict[str, Any]]:
    """``n`` records: a unique prefix, then random bytes (every value, never valid UTF-8 in some)."""
    entries = []
    for i in range(n):
        data = prefix + i.to_bytes(2, "big") + bytes(rng.randrange(256) for _ in range(rng.randrange(0, 80)))
        if i % 7 == 0:
            data += b"\xff\xfe\xc3\x28"
        entries.append({"Data": data, "PartitionKey": f"key-{rng.randrange(50)}"})
    return entries
