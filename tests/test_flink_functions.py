"""The Python functions between the connector's rows and user values, called as PyFlink's worker calls them
(open, then flat_map per element), without a JVM: routing, the error policies and the StateFun generic egress."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from typing import Any, List

import pytest

pytest.importorskip("pyflink")

from pyflink.common import Row  # noqa: E402

from pyflink_kinesis import EgressRecord, IngressRecord, RoutableMessage, load_module  # noqa: E402
from pyflink_kinesis.flink.functions import SourceRowsToValues, ValuesToSinkRows  # noqa: E402
from pyflink_kinesis.spec.serde import DeserializationError, SerializationError  # noqa: E402
from pyflink_kinesis.statefun.wire import egress_record_to_bytes  # noqa: E402
from pyflink_kinesis.testing.metrics import Counters  # noqa: E402

MODULE = """
kind: io.statefun.kinesis.v1/ingress
spec:
  id: t/routed
  awsRegion: {type: specific, id: us-east-1}
  streams:
    - stream: users
      valueType: com.example/User
      targets: [ns/a, ns/b]
---
kind: io.statefun.kinesis.v1/egress
spec:
  id: t/generic
  awsRegion: {type: specific, id: us-east-1}
"""
ARRIVAL_MS = 1_767_323_045_123


def row(data: bytes = b"\xff\x00", key: str = "user-1", sub: Any = None) -> Row:
    return Row(data, "users", "shardId-000000000001", key, "4960", sub, ARRIVAL_MS)


def run(function: Any, elements: List[Any]) -> tuple:
    context = Counters()
    function.open(context)
    return [out for e in elements for out in function.flat_map(e)], context.values


def test_rows_become_ingress_records_with_utc_arrival_time() -> None:
    spec = load_module(MODULE).ingresses["t/routed"]
    plain = dataclasses.replace(spec, routing={})
    (record,), _ = run(SourceRowsToValues(plain, "fail"), [row(sub=3)])
    assert record == IngressRecord(b"\xff\x00", "users", "shardId-000000000001", "user-1", "4960",
                                   datetime(2026, 1, 2, 3, 4, 5, 123000, tzinfo=timezone.utc), 3)


def test_a_routable_ingress_emits_a_message_per_target() -> None:
    spec = load_module(MODULE).ingresses["t/routed"]
    out, _ = run(SourceRowsToValues(spec, "fail"), [row()])
    assert [(m.target, m.id, m.type_url, m.payload) for m in out] == [
        ("ns/a", "user-1", "com.example/User", b"\xff\x00"), ("ns/b", "user-1", "com.example/User", b"\xff\x00")]
    assert all(isinstance(m, RoutableMessage) for m in out)


def test_deserializer_policies() -> None:
    spec = load_module(MODULE).ingresses["t/routed"]

    def parse(record: IngressRecord) -> Any:
        if record.partition_key == "bad":
            raise ValueError("no")
        return None if record.partition_key == "none" else record.data

    with_parse = dataclasses.replace(spec, deserializer=parse)
    out, counts = run(SourceRowsToValues(with_parse, "skip"), [row(key="bad"), row(key="none"), row()])
    assert out == [b"\xff\x00"] and counts == {"skipped_records": 1, "deserialize_errors": 1}
    with pytest.raises(DeserializationError, match="ingress t/routed: the deserializer failed on the record at "
                       "stream users, shard shardId-000000000001, sequence number 4960: ValueError: no"):
        run(SourceRowsToValues(with_parse, "fail"), [row(key="bad")])


def test_generic_egress_takes_egress_records_and_kinesis_egress_record_bytes() -> None:
    spec = load_module(MODULE).egresses["t/generic"]
    record = EgressRecord(b"\x00\xff", stream="out", partition_key="k", explicit_hash_key="7")
    out, counts = run(ValuesToSinkRows(spec), [record, egress_record_to_bytes(record)])
    assert [tuple(r) for r in out] == [("out", "k", "7", b"\x00\xff")] * 2 and counts == {"skipped_records": 0}
    with pytest.raises(SerializationError, match="egress t/generic"):
        run(ValuesToSinkRows(spec), [42])


def test_serializer_none_skips_and_counts() -> None:
    spec = load_module(MODULE).egresses["t/generic"]
    skipping = dataclasses.replace(spec, serializer=lambda v: None if v < 0 else EgressRecord(b"x", "s", "k"))
    out, counts = run(ValuesToSinkRows(skipping), [-1, 1])
    assert [tuple(r) for r in out] == [("s", "k", None, b"x")] and counts == {"skipped_records": 1}
