"""Test-only pieces of the PyFlink tests: the job script's path, the jar, and PyFlink stand-ins.

The child process running jobs, bounded waits and stream helpers are the shared kit, :mod:`pyflink_kinesis.testing`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Dict

ROOT = Path(__file__).resolve().parents[1]
JOBS_SCRIPT = ROOT / "tests" / "flink_jobs.py"
JAR = ROOT / "pyflink_kinesis" / "jars" / "pyflink-kinesis-connector.jar"


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
