"""Test-only pieces of the PyFlink tests: the job script's path, the jar check, and PyFlink stand-ins.

The child process running jobs, bounded waits and stream helpers are the shared kit, :mod:`pyflink_kinesis.testing`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Dict, Iterator

from pyflink_kinesis.flink.jar import connector_jar
from pyflink_kinesis.testing.flink_child import FlinkChild

ROOT = Path(__file__).resolve().parents[1]
JOBS_SCRIPT = ROOT / "tests" / "flink_jobs.py"


def module_child(tmp_path_factory: Any, lifetime: float) -> Iterator[FlinkChild]:
    """The body of a test module's ``flink`` fixture: one child running tests/flink_jobs.py for the module's
    jobs, after checking the jar for this PyFlink (ConnectorJarMissing says how to build it)."""
    connector_jar()
    child = FlinkChild(JOBS_SCRIPT, tmp_path_factory.mktemp("flink") / "child.log", lifetime=lifetime)
    yield child
    child.close()


def hash_key_for(data: bytes) -> str:
    """The explicit hash key the roundtrip job's serializer gives some records (a decimal 128-bit number)."""
    return str(int.from_bytes(hashlib.sha256(data).digest()[:16], "big"))


class Counters:
    """Stands in for PyFlink's RuntimeContext: records the counters the function registers."""

    def __init__(self) -> None:
        self.values: Dict[str, int] = {}

    def get_metrics_group(self) -> "Counters":
        return self

    def add_group(self, name: str) -> "Counters":
        assert name == "kinesis"
        return self

    def counter(self, name: str) -> Any:
        values = self.values
        values[name] = 0

        class Counter:
            def inc(self, n: int = 1) -> None:
                values[name] += n

        return Counter()
