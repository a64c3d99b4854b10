"""Enhanced fan-out (``source.reader.type=EFO``) in the Flink source: MiniCluster jobs against kinesis-local.

The source subscribes with the AWS SDK v2's async client over HTTP/2, which kinesis-local serves on its TLS
port (self-signed: the spec's local defaults trust it, for this loopback endpoint only). Two differences of
the emulator are adapted to in the connector for loopback endpoints only: HTTP/2 is negotiated by ALPN, and a
closed shard's end is read with GetRecords (kinesis-local never ends a closed shard's subscription).

The broken subscription is a FAULT INJECTED by the loopback relay
``pyflink_kinesis/testing/dropper.py:ConnectionDropper``
between the source and the TLS port: it drops every open connection mid-stream. Every wait has a deadline.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from pathlib import Path

import pytest

pytest.importorskip("pyflink")
aggregator = pytest.importorskip("aws_kinesis_agg.aggregator")

from pyflink_kinesis.tools.local import LocalKinesis  # noqa: E402
from pyflink_kinesis.testing import Streams, consumers, put_all, wait_until  # noqa: E402
from pyflink_kinesis.testing.dropper import ConnectionDropper  # noqa: E402
from pyflink_kinesis.testing.flink_child import FlinkChild  # noqa: E402
from tests.flink_support import DEADLINE, KeyedPhases, binary_entries, observations  # noqa: E402
from tests.kpl_support import keys_of_one_shard  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.flink]


def kpl_aggregates(n: int, users: int, shards: int) -> tuple:
    """``n`` KPL aggregates of ``users`` user records each, each packed for one of ``shards`` shards (as the KPL
    does): (the PutRecords entries, the user records)."""
    entries, user_records = [], []
    for a in range(n):
        agg = aggregator.RecordAggregator()
        keys = keys_of_one_shard(f"u{a}-", users, shards)
        records = [(key, b"\x00efo user %d/%d \xff" % (a, j)) for j, key in enumerate(keys)]
        for key, data in records:
            assert agg.add_user_record(key, data) is None
        key, _, data = agg.clear_and_get().get_contents()
        entries.append({"Data": data, "PartitionKey": key})
        user_records.append(records)
    return entries, user_records


def test_binary_records_job_managed_consumer_broken_subscription_and_savepoint_resume(
        kinesis: LocalKinesis, flink: FlinkChild, tmp_path: Path) -> None:
    """Parallelism 2, JOB_MANAGED consumer: binary records and KPL user records byte for byte with their
    metadata; the consumer registered while the job runs and deregistered when it stops; every connection
    dropped mid-stream (FAULT INJECTED) and the subscriptions renewed from their positions; stop with a
    savepoint, records written while stopped, resume: every record exactly once."""
    client = kinesis.client()
    streams = Streams(client, "efo")
    source, out = streams.new(2), streams.new(2)
    rng = random.Random(18)
    first = binary_entries(b"1-", 150, rng)
    aggregates, users = kpl_aggregates(2, 10, shards=2)
    answers = put_all(client, source, first + aggregates)
    assert consumers(client, source) == [], "no consumer before the job"

    with ConnectionDropper(kinesis.tls_port) as relay:
        args = {"endpoint": kinesis.endpoint, "source_endpoint": f"https://127.0.0.1:{relay.port}", "in": source,
                "out": out, "consumer": "efo-job", "lifecycle": "JOB_MANAGED", "parallelism": 2}
        flink.start("efo", args)
        flink.wait_until(lambda: len(observations(client, out)) >= 170, DEADLINE, "the first records", interval=2)
        during = consumers(client, source)
        assert [(c["ConsumerName"], c["ConsumerStatus"]) for c in during] == [("efo-job", "ACTIVE")]

        # FAULT INJECTED: every connection dropped mid-stream, and none accepted while the records are written,
        # so that only a subscription renewed from each split's position finds them all (LATEST would not).
        relay.down()
        assert relay.drop_all() > 0, "subscriptions were open"
        second = binary_entries(b"2-", 100, rng)
        put_all(client, source, second)
        flink.wait_until(lambda: relay.refused > 0, DEADLINE, "the source to try to subscribe again")
        connections = relay.connections
        relay.up()
        flink.wait_until(lambda: len(observations(client, out)) >= 270, DEADLINE, "the records written after the drop",
                   interval=2)
        assert relay.connections > connections, "the source connected again"

        savepoint = flink.call(cmd="stop_with_savepoint", dir=str(tmp_path / "savepoints"))["savepoint"]
        assert flink.call(cmd="wait", timeout=60)["status"] == "FINISHED"
        wait_until(lambda: consumers(client, source) == [], 30, "the consumer to be deregistered after the stop")
        third = binary_entries(b"3-", 100, rng)
        put_all(client, source, third)

        flink.start("efo", args, {"execution.savepoint.path": savepoint})
        flink.wait_until(lambda: len(observations(client, out)) >= 370, DEADLINE, "the records written while stopped",
                   interval=2)
        assert [c["ConsumerName"] for c in consumers(client, source)] == ["efo-job"]
        assert flink.call(cmd="cancel")["status"] == "CANCELED"
        wait_until(lambda: consumers(client, source) == [], 30, "the consumer to be deregistered after the cancel")

    observed = observations(client, out)
    plain = [o for o in observed if o["sub"] is None]
    assert Counter(o["data"] for o in plain) == Counter(e["Data"] for e in first + second + third), \
        "every record once, byte for byte: none lost, none read again"
    by_data = {o["data"]: o for o in plain}
    for entry, answer in zip(first, answers):
        o = by_data[entry["Data"]]
        assert (o["stream"], o["shard"], o["seq"], o["key"]) == (source, answer["ShardId"],
                                                                 answer["SequenceNumber"], entry["PartitionKey"])
        assert o["arrival_ms"] > 0 and o["tz"] == "UTC"
    kpl = sorted((o for o in observed if o["sub"] is not None), key=lambda o: (o["seq"], o["sub"]))
    expected = sorted((answer["SequenceNumber"], j, key, data)
                      for records, answer in zip(users, answers[len(first):])
                      for j, (key, data) in enumerate(records))
    assert [(o["seq"], o["sub"], o["key"], o["data"]) for o in kpl] == expected
    subtasks = defaultdict(set)
    for o in plain:
        subtasks[o["shard"]].add(o["subtask"])
    assert set.union(*subtasks.values()) == {0, 1}, "both subtasks read"


def test_split_and_merge_while_subscribed_every_record_once_in_key_order(
        kinesis: LocalKinesis, flink: FlinkChild) -> None:
    """A SELF_MANAGED consumer registered beforehand; the stream is split, then the children merged, while
    the job is subscribed (parallelism 1: the emit order is the reader's). Every record once, each key's
    records in the order written, read from all four shards; the consumer stays registered."""
    client = kinesis.client()
    streams = Streams(client, "efo-reshard")
    source, out = streams.new(1), streams.new(1)
    arn = client.describe_stream_summary(StreamName=source)["StreamDescriptionSummary"]["StreamARN"]
    client.register_stream_consumer(StreamARN=arn, ConsumerName="team-b")
    wait_until(lambda: [c["ConsumerStatus"] for c in consumers(client, source)] == ["ACTIVE"], 30,
               "the consumer registered by the user")
    phases = KeyedPhases(client, source, [f"k{i}" for i in range(12)])

    def active() -> bool:
        return client.describe_stream_summary(StreamName=source)["StreamDescriptionSummary"]["StreamStatus"] \
            == "ACTIVE"

    phases.write("first", 5)
    flink.start("efo", {"endpoint": kinesis.endpoint, "source_endpoint": kinesis.tls_endpoint, "in": source,
                        "out": out, "consumer": "team-b", "lifecycle": "SELF_MANAGED", "parallelism": 1})
    flink.wait_until(lambda: len(observations(client, out)) >= 60, DEADLINE, "the first phase", interval=2)
    parent = client.list_shards(StreamName=source)["Shards"][0]
    client.split_shard(StreamName=source, ShardToSplit=parent["ShardId"], NewStartingHashKey=str(2**127))
    wait_until(active, 60, "the split")
    phases.write("split", 5)
    children = [s for s in client.list_shards(StreamName=source)["Shards"]
                if s.get("ParentShardId") == parent["ShardId"]]
    assert len(children) == 2
    flink.wait_until(lambda: len(observations(client, out)) >= 120, DEADLINE, "the records after the split",
               interval=2)
    client.merge_shards(StreamName=source, ShardToMerge=children[0]["ShardId"],
                        AdjacentShardToMerge=children[1]["ShardId"])
    wait_until(active, 60, "the merge")
    phases.write("merged", 5)
    flink.wait_until(lambda: len(observations(client, out)) >= 180, DEADLINE, "the records after the merge",
               interval=2)
    assert flink.call(cmd="cancel")["status"] == "CANCELED"

    got = observations(client, out)
    phases.check_once_in_key_order(got)
    assert len({o["shard"] for o in got}) == 4, "the parent, both children and the merged shard were read"
    assert [c["ConsumerName"] for c in consumers(client, source)] == ["team-b"], "SELF_MANAGED stays registered"
