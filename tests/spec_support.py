"""Helpers of the spec tests: a fixed instant and an IngressRecord read at it."""

from __future__ import annotations

from datetime import datetime, timezone

from pyflink_kinesis import IngressRecord

WHEN = datetime(2020, 2, 1, 4, 15, tzinfo=timezone.utc)


def ingress_record(data: bytes = b"payload") -> IngressRecord:
    """An IngressRecord of ``data`` from shard 0 of ``stream-1``, arrived at ``WHEN``."""
    return IngressRecord(data, "stream-1", "shardId-000000000000", "pk", "4960", WHEN)
