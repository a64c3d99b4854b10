"""A StateFun routable ingress from YAML, read by ReadFromKinesis: one message per target, bytes untouched."""

from __future__ import annotations

import uuid

import pytest

beam = pytest.importorskip("apache_beam")

from beam_transforms import ReadFromKinesis  # noqa: E402
from pyflink_kinesis import RoutableMessage, load_module  # noqa: E402
from tests.beam_support import SINK, Collect  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.beam]


def test_routable_yaml_ingress_emits_a_message_per_target(kinesis, client, new_stream) -> None:
    users, orders = new_stream(shards=2), new_stream(shards=1)
    module = load_module(f"""
kind: io.statefun.kinesis.v1/ingress
spec:
  id: example/routed
  awsRegion: {{type: custom-endpoint, endpoint: "{kinesis.endpoint}", id: us-east-1}}
  awsCredentials: {{type: basic, accessKeyId: local, secretAccessKey: local}}
  startupPosition: {{type: earliest}}
  streams:
    - stream: {users}
      valueType: example/User
      targets: [example/greeter, example/audit]
    - stream: {orders}
      valueType: example/Order
      targets: [example/billing]
""")
    payloads = {f"user-{i}": bytes([0xFF, i, 0x00, 0xC3]) for i in range(20)}
    client.put_records(StreamName=users, Records=[{"Data": d, "PartitionKey": k} for k, d in payloads.items()])
    client.put_records(StreamName=orders, Records=[{"Data": b"\x80order", "PartitionKey": "order-1"}])

    key = uuid.uuid4().hex
    SINK[key] = []
    with beam.Pipeline(runner="DirectRunner") as pipeline:
        _ = (pipeline | ReadFromKinesis("example/routed", module, stop_when_caught_up=True)
             | beam.ParDo(Collect(key)))
    messages = SINK.pop(key)

    assert all(isinstance(m, RoutableMessage) for m in messages)
    got = sorted((m.target, m.id, m.type_url, m.payload) for m in messages)
    expected = sorted(
        [(target, k, "example/User", d) for k, d in payloads.items() for target in ("example/greeter", "example/audit")]
        + [("example/billing", "order-1", "example/Order", b"\x80order")]
    )
    assert got == expected
    assert {m.record.stream for m in messages} == {users, orders}
