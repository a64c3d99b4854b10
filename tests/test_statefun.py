"""StateFun wire formats: KinesisEgressRecord and TypedValue, and a routable ingress -> generic egress pipeline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pyflink_kinesis import ConfigError, EgressRecord, load_module
from pyflink_kinesis.statefun.wire import (
    EGRESS_RECORD_TYPENAME,
    _MESSAGES,
    egress_record_from_bytes,
    egress_record_to_bytes,
    generic_egress_serializer,
    parse_typed_value,
    typed_value,
)

PROTO_DIR = Path(__file__).resolve().parents[1] / "pyflink_kinesis" / "statefun" / "proto"


def test_kinesis_egress_record_bytes_are_statefuns_wire_format() -> None:
    record = EgressRecord(b"\x00\xff", stream="s", partition_key="k")
    # Field 1 'k', field 2 bytes 00 ff, field 3 's': the bytes a StateFun SDK writes for these values.
    assert egress_record_to_bytes(record).hex() == "0a016b120200ff1a0173"
    with_hash = EgressRecord(b"v", stream="s", partition_key="k", explicit_hash_key="42")
    assert egress_record_from_bytes(egress_record_to_bytes(with_hash)) == with_hash


def test_egress_record_inside_a_typed_value_is_unwrapped() -> None:
    record = EgressRecord(bytes(range(256)), stream="out", partition_key="user-1")
    wrapped = typed_value(EGRESS_RECORD_TYPENAME, egress_record_to_bytes(record))
    assert egress_record_from_bytes(wrapped) == record
    assert parse_typed_value(typed_value("example/User", b"")) == ("example/User", b"")
    assert parse_typed_value(typed_value("example/User", None)) == ("example/User", None)


def test_junk_and_incomplete_messages_are_named() -> None:
    with pytest.raises(ConfigError, match="KinesisEgressRecord"):
        egress_record_from_bytes(b"\xff\xff\xff")
    no_stream = egress_record_to_bytes(EgressRecord(b"v", stream="s", partition_key="k")).replace(b"\x1a\x01s", b"")
    with pytest.raises(ConfigError, match="stream"):
        egress_record_from_bytes(no_stream)
    with pytest.raises(ConfigError, match="generic egress takes"):
        generic_egress_serializer(42)


def test_generic_egress_serializer_passes_egress_records() -> None:
    record = EgressRecord(b"v", stream="s", partition_key="k")
    assert generic_egress_serializer(record) is record
    assert generic_egress_serializer(egress_record_to_bytes(record)) == record


def test_shipped_proto_files_match_the_runtime_messages() -> None:
    text = "\n".join(p.read_text() for p in sorted(PROTO_DIR.glob("*.proto")))
    for name, (package, fields) in _MESSAGES.items():
        body = re.search(rf"message {name} \{{(.*?)\}}", text, re.S)
        assert body is not None and f"package {package};" in text
        declared = re.findall(r"(\w+) (\w+) = (\d+);", body.group(1))
        types = {9: "string", 8: "bool", 12: "bytes"}
        assert [(t, n, int(num)) for t, n, num in declared] == [(types[k], f, num) for f, num, k in fields]


def test_yaml_generic_egress_defaults_to_the_protobuf_serializer() -> None:
    module = load_module("kind: io.statefun.kinesis.v1/egress\nspec: {id: ex/out, awsRegion: {type: specific, id: eu-west-1}}")
    assert module.egresses["ex/out"].serializer is generic_egress_serializer


@pytest.mark.integration
@pytest.mark.beam
def test_routable_ingress_to_generic_egress_with_protobuf_payloads(kinesis, client, new_stream) -> None:
    beam = pytest.importorskip("apache_beam")
    from beam_transforms import ReadFromKinesis, WriteToKinesis
    from pyflink_kinesis.statefun.wire import routable_typed_value

    source, sink = new_stream(shards=2), new_stream(shards=1)
    region = f'awsRegion: {{type: custom-endpoint, endpoint: "{kinesis.endpoint}", id: us-east-1}}'
    creds = "awsCredentials: {type: basic, accessKeyId: local, secretAccessKey: local}"
    module = load_module(f"""
version: "1.0"
module:
  meta: {{type: remote}}
  spec:
    ingresses:
      - ingress:
          meta: {{type: statefun.kinesis.io/routable-protobuf-ingress, id: example/users}}
          spec:
            {region}
            {creds}
            startupPosition: {{type: earliest}}
            streams:
              - {{stream: {source}, typeUrl: com.example/User, targets: [example/greeter, example/audit]}}
    egresses:
      - egress:
          meta: {{type: statefun.kinesis.io/generic-egress, id: example/out}}
          spec:
            {region}
            {creds}
""")
    users = {f"user-{i}": bytes([i, 0xFF, 0xFE]) for i in range(30)}
    client.put_records(StreamName=source, Records=[{"Data": d, "PartitionKey": k} for k, d in users.items()])

    def to_egress(message):  # what a StateFun function would send to the generic egress
        record = EgressRecord(routable_typed_value(message), stream=sink, partition_key=f"{message.target}:{message.id}")
        return egress_record_to_bytes(record)

    with beam.Pipeline(runner="DirectRunner") as pipeline:
        _ = (pipeline
             | ReadFromKinesis("example/users", module, stop_when_caught_up=True)
             | beam.Map(to_egress)
             | WriteToKinesis("example/out", module))

    shard = client.list_shards(StreamName=sink)["Shards"][0]["ShardId"]
    iterator = client.get_shard_iterator(StreamName=sink, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    out = client.get_records(ShardIterator=iterator, Limit=10000)["Records"]
    got = sorted((r["PartitionKey"], parse_typed_value(r["Data"])) for r in out)
    expected = sorted((f"{target}:{key}", ("com.example/User", data))
                      for key, data in users.items() for target in ("example/greeter", "example/audit"))
    assert got == expected
