"""Issue 11, item 2: one bad record never takes its PutRecords batch with it.

Local checks follow the service's rules exactly (kinesis-local enforces the same ones: its answers are
the reference here), so the records the issue names are refused before any call, alone. What the service
still refuses as a whole call is isolated by splitting the batch: those tests forge records past the local
checks (a stand-in for a rule they might not know) and let kinesis-local refuse them with its own errors.
"""

from __future__ import annotations

from typing import Any, List

import pytest

pytest.importorskip("apache_beam")

import apache_beam as beam  # noqa: E402

from beam_transforms import WriteToKinesis  # noqa: E402
from beam_transforms.batching import KinesisBatchWriter, KinesisWriteError  # noqa: E402
from beam_transforms.write import SerializationError  # noqa: E402
from pyflink_kinesis import EgressRecord, KinesisEgressBuilder  # noqa: E402
from pyflink_kinesis.spec.boto import transform_client  # noqa: E402
from pyflink_kinesis.spec.records import InvalidRecordError  # noqa: E402
from pyflink_kinesis.testing import read_stream  # noqa: E402
from tests.beam_support import OUTPUTS, collect, run  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.beam]

BAD_INDEX = 37
# What a serializer may make of bad data: each was accepted locally before and refused by Kinesis
# (or crashed with a raw ValueError, '²'), taking its whole batch of 100 with it.
BAD = {
    "arabic_indic_hash_key": dict(explicit_hash_key="١٢٣"),
    "superscript_hash_key": dict(explicit_hash_key="²"),
    "leading_zero_hash_key": dict(explicit_hash_key="0123"),
    "astral_partition_key": dict(partition_key="\U0001D11E" * 200),  # 200 code points, 400 UTF-16 units
    "bad_stream_name": dict(stream="bad stream!"),
}


def _egress(kinesis: Any, stream: str, bad: dict) -> Any:
    def serialize(i: int) -> EgressRecord:
        fields = dict(data=b"v%d" % i, stream=stream, partition_key=f"k{i}")
        if i == BAD_INDEX:
            fields.update(bad)
        return EgressRecord(**fields)

    return (KinesisEgressBuilder.for_identifier("t/out").with_aws_region(kinesis.region)
            .with_aws_credentials(kinesis.credentials).with_serializer(serialize).build())


@pytest.mark.parametrize("kind", sorted(BAD))
def test_a_record_kinesis_would_refuse_is_dead_lettered_alone(kinesis: Any, client: Any, new_stream: Any,
                                                               kind: str) -> None:
    stream = new_stream()
    spec = _egress(kinesis, stream, BAD[kind])
    tokens = {}

    def build(p: Any) -> None:
        result = p | beam.Create(list(range(100))) | WriteToKinesis(spec, dead_letter=True)
        tokens["written"] = collect(result.written, "W")
        tokens["failed"] = collect(result.failed, "F")

    run(build)
    failed = OUTPUTS[tokens["failed"]]
    assert len(failed) == 1, [f.error_message for f in failed[:3]]
    (failure,) = failed
    assert failure.error_code == "InvalidRecord" and failure.attempts == 0  # refused before any call
    assert failure.record.partition_key == BAD[kind].get("partition_key", f"k{BAD_INDEX}")
    assert failure.record.stream == BAD[kind].get("stream", stream)
    assert len(OUTPUTS[tokens["written"]]) == 99
    assert sorted(r["Data"] for r in read_stream(client, stream)) == sorted(b"v%d" % i for i in range(100)
                                                                          if i != BAD_INDEX)


def test_without_dead_letters_the_error_names_the_record(kinesis: Any, new_stream: Any) -> None:
    stream = new_stream()
    spec = _egress(kinesis, stream, BAD["arabic_indic_hash_key"])
    with pytest.raises(Exception) as caught:
        run(lambda p: p | beam.Create(list(range(100))) | WriteToKinesis(spec))
    text = str(caught.value)
    assert "SerializationError" in text or isinstance(caught.value, SerializationError)
    assert f"stream '{stream}'" in text and f"partition key 'k{BAD_INDEX}'" in text
    assert "EgressRecord.explicit_hash_key" in text and "'١٢٣'" in text


def _forged(stream: str, i: int, **bad: Any) -> EgressRecord:
    """A record with fields the local checks would refuse, set past them (the emulator must refuse it)."""
    record = EgressRecord(b"v%d" % i, stream, f"k{i}")
    for name, value in bad.items():
        object.__setattr__(record, name, value)
    return record


def _write(client: Any, records: List[EgressRecord], dead_letter: bool) -> KinesisBatchWriter:
    writer = KinesisBatchWriter(client, max_concurrent_requests=2, dead_letter=dead_letter)
    try:
        for r in records:
            writer.put(r)
        writer.flush()
    finally:
        writer.close()
    return writer


def test_a_call_refused_as_a_whole_is_split_until_only_the_refused_records_fail(
        kinesis: Any, client: Any, new_stream: Any) -> None:
    stream = new_stream(shards=2)
    bad = {11: dict(partition_key="\U0001D11E" * 129), 80: dict(explicit_hash_key="0123")}
    records = [_forged(stream, i, **bad.get(i, {})) for i in range(100)]
    # The emulator itself refuses such a call as a whole:
    with pytest.raises(Exception, match="InvalidArgumentException"):
        client.put_records(StreamName=stream, Records=[{"Data": b"x", "PartitionKey": records[11].partition_key}])
    writer = _write(transform_client(_spec(kinesis, stream)), records, dead_letter=True)
    written, failed = writer.drain()
    assert sorted(f.record.partition_key for f, _ in failed) == sorted([records[11].partition_key, "k80"])
    assert {f.error_code for f, _ in failed} == {"InvalidArgumentException"}
    assert len(written) == 98 and writer.stats.split_calls >= 2
    assert sorted(r["Data"] for r in read_stream(client, stream)) == sorted(b"v%d" % i for i in range(100)
                                                                          if i not in bad)


def test_without_dead_letters_a_refused_record_fails_the_write_naming_stream_and_partition_key(
        kinesis: Any, client: Any, new_stream: Any) -> None:
    stream = new_stream()
    records = [_forged(stream, i, **({"explicit_hash_key": "0123"} if i == 5 else {})) for i in range(40)]
    with pytest.raises(KinesisWriteError) as caught:
        _write(transform_client(_spec(kinesis, stream)), records, dead_letter=False)
    assert caught.value.partition_keys == ["k5"] and caught.value.records == 1
    assert f"stream '{stream}'" in str(caught.value) and "partition key 'k5'" in str(caught.value)
    assert len(read_stream(client, stream)) == 39


def _spec(kinesis: Any, stream: str) -> Any:
    return (KinesisEgressBuilder.for_identifier("t/out").with_aws_region(kinesis.region)
            .with_aws_credentials(kinesis.credentials).build())


@pytest.mark.parametrize("fields, name", [
    (dict(explicit_hash_key="١٢٣"), "explicit_hash_key"), (dict(explicit_hash_key="²"), "explicit_hash_key"),
    (dict(explicit_hash_key=str(2**128)), "explicit_hash_key"), (dict(explicit_hash_key="0123"), "explicit_hash_key"),
    (dict(explicit_hash_key=""), "explicit_hash_key"), (dict(partition_key="\U0001D11E" * 129), "partition_key"),
    (dict(partition_key=""), "partition_key"), (dict(partition_key="a" * 257), "partition_key"),
    (dict(stream="bad stream!"), "stream"), (dict(stream="a" * 129), "stream"), (dict(stream="s\n"), "stream"),
])
def test_local_checks_refuse_what_kinesis_refuses(fields: dict, name: str) -> None:
    args = dict(data=b"x", stream="s", partition_key="k")
    args.update(fields)
    with pytest.raises(InvalidRecordError) as caught:
        EgressRecord(**args)
    assert caught.value.field == f"EgressRecord.{name}"
    assert getattr(caught.value.record, name) == args[name]


@pytest.mark.parametrize("fields", [dict(explicit_hash_key=str(2**128 - 1)), dict(explicit_hash_key="0"),
                                    dict(partition_key="\U0001D11E" * 128), dict(partition_key="é" * 256),
                                    dict(stream="a" * 128)])
def test_local_checks_accept_what_kinesis_accepts(fields: dict, kinesis: Any, client: Any, new_stream: Any) -> None:
    stream = fields.get("stream") or new_stream()
    if "stream" in fields:
        client.create_stream(StreamName=stream, ShardCount=1)
        client.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    args = dict(data=b"x", stream=stream, partition_key="k")
    args.update(fields)
    record = EgressRecord(**args)
    entry = {"Data": record.data, "PartitionKey": record.partition_key}
    if record.explicit_hash_key is not None:
        entry["ExplicitHashKey"] = record.explicit_hash_key
    answer = client.put_records(StreamName=stream, Records=[entry])
    assert answer["FailedRecordCount"] == 0
