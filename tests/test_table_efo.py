"""A 'pyflink-kinesis' SQL table read with enhanced fan-out (``source.reader.type=EFO``), on a MiniCluster
against kinesis-local's TLS port (HTTP/2 SubscribeToShard; see tests/test_flink_efo.py for the emulator's
differences). One job: tests/table_jobs.py ``efo_copy``. Every wait has a deadline.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Iterator

import pytest

pytest.importorskip("pyflink")

from pyflink_kinesis.tools.local import LocalKinesis  # noqa: E402
from pyflink_kinesis.testing import Streams, consumers, put_all, wait_until  # noqa: E402
from pyflink_kinesis.testing.flink_child import FlinkChild  # noqa: E402
from tests.flink_support import DEADLINE, ROOT, binary_entries, module_child, observations  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.flink]


@pytest.fixture(scope="module")
def flink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlinkChild]:
    yield from module_child(tmp_path_factory, lifetime=600, script=ROOT / "tests" / "table_jobs.py")


def test_sql_table_reads_binary_records_with_efo_and_their_metadata(kinesis: LocalKinesis,
                                                                     flink: FlinkChild) -> None:
    """A raw table on 2 shards with EFO (JOB_MANAGED consumer) copied with its shard-id, sequence-number and
    partition-key columns: the consumer is listed while the job runs; records written before the job and
    while it is subscribed arrive once each, byte for byte (invalid UTF-8 included), with the metadata
    PutRecords answered; the consumer is deregistered when the job is cancelled."""
    client = kinesis.client()
    streams = Streams(client, "tbl-efo")
    source, out = streams.new(2), streams.new(1)
    rng = random.Random(1818)
    before, during = binary_entries(b"b-", 100, rng), binary_entries(b"d-", 100, rng)
    answers = put_all(client, source, before)
    assert consumers(client, source) == [], "no consumer before the job"

    flink.start("efo_copy", {"endpoint": kinesis.endpoint, "source_endpoint": kinesis.tls_endpoint, "in": source,
                             "out": out, "consumer": "sql-efo"})
    flink.wait_until(lambda: len(observations(client, out)) >= len(before), DEADLINE, "the records written before",
                     interval=2)
    wait_until(lambda: [(c["ConsumerName"], c["ConsumerStatus"]) for c in consumers(client, source)]
               == [("sql-efo", "ACTIVE")], 30, "the job's consumer listed ACTIVE while the job reads")
    answers += put_all(client, source, during)
    flink.wait_until(lambda: len(observations(client, out)) >= len(before) + len(during), DEADLINE,
                     "the records written while subscribed", interval=2)
    assert flink.call(cmd="cancel")["status"] == "CANCELED"
    wait_until(lambda: consumers(client, source) == [], 30, "the consumer to be deregistered after the cancel")

    got = observations(client, out)
    entries = before + during
    assert Counter(o["data"] for o in got) == Counter(e["Data"] for e in entries), "every record once, byte for byte"
    assert any(b"\xff\xfe\xc3\x28" in o["data"] for o in got), "payloads that are not UTF-8 went through"
    by_data = {o["data"]: o for o in got}
    for entry, answer in zip(entries, answers):
        o = by_data[entry["Data"]]
        assert (o["shard"], o["seq"], o["pk"]) == (answer["ShardId"], answer["SequenceNumber"], entry["PartitionKey"])
    assert len({o["shard"] for o in got}) == 2, "both shards were read"
