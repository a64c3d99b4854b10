"""The IngressRecord Beam coder: byte-for-byte round trips, deterministic, registered, no pickling."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

beam = pytest.importorskip("apache_beam")

from beam_transforms.coders import IngressRecordCoder  # noqa: E402
from beam_transforms.read import ReadFromKinesis  # noqa: E402
from pyflink_kinesis import IngressRecord, KinesisIngressBuilder  # noqa: E402

pytestmark = [pytest.mark.beam]


def _record(rng: random.Random, sub: object) -> IngressRecord:
    arrival = datetime(2026, 1, 2, 3, 4, 5, rng.randrange(1_000_000), tzinfo=timezone.utc)
    return IngressRecord(bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300))), "a-stream",
                         "shardId-000000000007", "clé-ü-" + str(rng.random()), str(rng.randrange(10**56)),
                         arrival + timedelta(days=rng.randrange(-20000, 20000)), sub)  # type: ignore[arg-type]


def test_records_round_trip_byte_for_byte_with_and_without_a_sub_sequence_number() -> None:
    coder = IngressRecordCoder()
    rng = random.Random(3)
    for sub in (None, 0, 5, 2**31):
        for _ in range(50):
            record = _record(rng, sub)
            decoded = coder.decode(coder.encode(record))
            assert decoded == record and type(decoded.data) is bytes
            assert decoded.sub_sequence_number == sub
            assert decoded.approximate_arrival_timestamp.utcoffset() == timedelta(0)
    empty = IngressRecord(b"", "s", "x", "k", "1", datetime(1970, 1, 1, tzinfo=timezone.utc))
    assert coder.decode(coder.encode(empty)) == empty


def test_the_coder_is_deterministic_and_pickles_nothing() -> None:
    coder = IngressRecordCoder()
    assert coder.is_deterministic()
    record = _record(random.Random(1), None)
    encoded = coder.encode(record)
    assert coder.encode(record) == encoded
    same_instant = IngressRecord(record.data, record.stream, record.shard_id, record.partition_key,
                                 record.sequence_number,
                                 record.approximate_arrival_timestamp.astimezone(timezone(timedelta(hours=2))))
    assert coder.encode(same_instant) == encoded  # equal records, equal bytes
    assert b"IngressRecord" not in encoded and len(encoded) < len(record.data) + 200  # no pickle inside
    assert coder.encode(_record(random.Random(1), 0)) != encoded  # sub-sequence 0 is not None


def test_read_from_kinesis_declares_ingress_record_and_uses_the_coder() -> None:
    spec = KinesisIngressBuilder.for_identifier("t/in").with_stream("s").build()
    pipeline = beam.Pipeline()
    records = pipeline | ReadFromKinesis(spec, stop_when_caught_up=True)
    assert records.element_type is IngressRecord
    assert isinstance(beam.coders.registry.get_coder(records.element_type), IngressRecordCoder)
    with_values = pipeline | "values" >> ReadFromKinesis(
        KinesisIngressBuilder.for_identifier("t/in").with_stream("s").with_deserializer(lambda r: r.data).build())
    assert with_values.element_type is not IngressRecord
