"""Flink SQL on 'pyflink-kinesis' tables, on a local MiniCluster against the local Kinesis emulator.

Two jobs (tests/table_jobs.py), run by a PyFlink child process (tests/flink_support.py):
- ``pipeline``: JSON readings in (2 shards, parallelism 2): a windowed GROUP BY on the arrival-time metadata column
  with a DDL watermark, every metadata column, PARTITIONED BY keys, a ``stream`` column writing to two streams;
  csv and raw tables copied (raw with payloads that are not UTF-8).
- ``copy``: stopped with a savepoint and resumed while its input is split and merged; and with
  ``'sink.aggregation.enabled' = 'true'``, writing KPL aggregates that aws-kinesis-agg reads back.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

pytest.importorskip("pyflink")
aggregator = pytest.importorskip("aws_kinesis_agg.aggregator")

from pyflink_kinesis.tools.local import LocalKinesis, create_stream, wait_for_stream  # noqa: E402
from pyflink_kinesis.testing import put_all, read_stream  # noqa: E402
from pyflink_kinesis.testing.flink_child import FlinkChild  # noqa: E402
from tests.flink_support import ROOT  # noqa: E402
from tests.kpl_support import held_users, keys_of_one_shard, users_by_agg_library  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.flink]

DEADLINE = 240
WINDOW_MS = 2000
HASH_KEY_SHARD_0 = "0"


@pytest.fixture(scope="module")
def flink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlinkChild]:
    child = FlinkChild(ROOT / "tests" / "table_jobs.py", tmp_path_factory.mktemp("table") / "child.log", lifetime=1200)
    yield child
    child.close()


def arrival_ms(record: Dict[str, Any]) -> int:
    return round(record["ApproximateArrivalTimestamp"].timestamp() * 1000)


def kpl_aggregate(users: List[tuple]) -> Dict[str, Any]:
    agg = aggregator.RecordAggregator()
    for key, data in users:
        assert agg.add_user_record(key, data) is None
    key, hash_key, data = agg.clear_and_get().get_contents()
    return {"PartitionKey": key, "Data": data, **({"ExplicitHashKey": hash_key} if hash_key else {})}


def reading(sensor: int, celsius: float) -> bytes:
    return json.dumps({"sensor": sensor, "celsius": celsius}).encode()


def write_readings(client: Any, stream: str) -> Dict[str, Any]:
    """Three bursts of readings (sensors 1 to 4, both shards) a window apart, a KPL aggregate of readings, then
    after a pause a closing reading (sensor 999) to shard 0 only: its arrival time moves the watermark past every
    earlier window once the other shard is idle. Returns the plain entries, the aggregate's users, PutRecords'
    answers and the closing arrival time."""
    plain, answers = [], []
    for burst in range(3):
        entries = [{"Data": reading(s, burst * 10 + s + i / 10), "PartitionKey": f"sensor-{s}-{i}"}
                   for s in (1, 2, 3, 4) for i in range(3)]
        answers += put_all(client, stream, entries)
        plain += entries
        time.sleep(WINDOW_MS / 1000)  # the next burst lands in a later window (the test's input, not a wait)
    # A shard-aware producer's aggregate, as the KPL writes them: its user records' keys hash to the shard it lands
    # on; the KCL and this project's readers drop any outside that shard's range.
    users = [(key, reading(5, 50.0 + i)) for i, key in enumerate(keys_of_one_shard("kpl-", 4, shards=2))]
    aggregate = kpl_aggregate(users)
    answers += put_all(client, stream, [aggregate])
    time.sleep(2 * WINDOW_MS / 1000)
    put_all(client, stream, [{"Data": reading(999, 0.0), "PartitionKey": "closing", "ExplicitHashKey": "0"}])
    return {"plain": plain, "answers": answers, "users": users}


def expected_windows(records: List[Dict[str, Any]], aggregates: Dict[str, List[tuple]]) -> Counter:
    """(window start ms, sensor) -> (count, sum) from what Kinesis holds (``aggregates``: the user records of
    each KPL aggregate by sequence number): windows that end at or before the closing reading's arrival are
    closed by the watermark."""
    readings = []
    for record in records:
        bodies = [data for _, data in aggregates.get(record["SequenceNumber"], [(None, record["Data"])])]
        readings += [(arrival_ms(record), json.loads(body)) for body in bodies]
    closing = max(arrival for arrival, value in readings if value["sensor"] == 999)
    windows: Dict[tuple, List[float]] = {}
    for arrival, value in readings:
        start = arrival // WINDOW_MS * WINDOW_MS
        if start + WINDOW_MS <= closing + 1:
            windows.setdefault((start, value["sensor"]), []).append(value["celsius"])
    return Counter({key: (len(v), round(sum(v), 6)) for key, v in windows.items()})


def window_rows(client: Any, stream: str) -> List[tuple]:
    rows = []
    for record in read_stream(client, stream):
        row = json.loads(record["Data"])
        start = datetime.fromisoformat(row["window_start"].replace("Z", "+00:00"))
        assert record["PartitionKey"] == str(row["sensor"]), "PARTITIONED BY sensor: the key is the sensor"
        rows.append(((round(start.timestamp() * 1000), row["sensor"]), (row["n"], round(row["total"], 6))))
    return rows


def test_sql_pipeline_windows_metadata_routing_and_formats(kinesis: LocalKinesis, flink: FlinkChild) -> None:
    client = kinesis.client()
    names = {k: f"tbl-{k.replace('_', '-')}-{time.monotonic_ns()}" for k in
             ("readings", "windows", "meta", "even", "odd", "csv_in", "csv_out", "raw_in", "raw_out")}
    for key, name in names.items():
        create_stream(client, name, 2 if key == "readings" else 1)
    csv_rows = [(f"name {i}, \"quoted\"", i) for i in range(5)]
    csv_entries = []
    for i, (name, n) in enumerate(csv_rows):
        text = io.StringIO()
        csv.writer(text, lineterminator="").writerow([name, n])
        csv_entries.append({"Data": text.getvalue().encode(), "PartitionKey": f"csv-{i}"})
    raw_entries = [{"Data": bytes([0xFF, 0xFE, 0x80, i, 0x00, 0xC3]) + b"\x28tail", "PartitionKey": f"raw-{i}"}
                   for i in range(6)]
    put_all(client, names["csv_in"], csv_entries)
    put_all(client, names["raw_in"], raw_entries)
    flink.start("pipeline", {"endpoint": kinesis.endpoint, "streams": names})
    written = write_readings(client, names["readings"])
    source = read_stream(client, names["readings"])
    expected = expected_windows(source, {written["answers"][-1]["SequenceNumber"]: written["users"]})
    assert len(expected) >= 8, expected

    def windows_done() -> Any:
        rows = window_rows(client, names["windows"])
        return rows if set(expected) <= {key for key, _ in rows} else None

    rows = flink.wait_until(windows_done, DEADLINE, "every closed window")
    closed = [(key, value) for key, value in rows if key in expected]
    assert Counter(key for key, _ in closed) == Counter(set(expected)), "every window result exactly once"
    assert {key: value for key, value in closed} == dict(expected)

    # Every row's metadata is what PutRecords answered; the aggregate's users come with sub-sequence numbers.
    users = len(written["users"])
    flink.wait_until(lambda: len(read_stream(client, names["meta"])) >= len(written["plain"]) + users + 1, DEADLINE,
               "every reading's metadata")
    meta = [json.loads(r["Data"]) for r in read_stream(client, names["meta"])]
    by_seq = {(m["seq"], m["sub"]): m for m in meta}
    assert len(by_seq) == len(meta) == len(written["plain"]) + users + 1
    for entry, answer in zip(written["plain"], written["answers"]):
        m = by_seq[(answer["SequenceNumber"], None)]
        assert (m["shard"], m["pk"], m["src"]) == (answer["ShardId"], entry["PartitionKey"], names["readings"])
        assert json.loads(entry["Data"]) == {"sensor": m["sensor"], "celsius": m["celsius"]}
    aggregate_answer = written["answers"][-1]
    for sub, (key, data) in enumerate(written["users"]):
        m = by_seq[(aggregate_answer["SequenceNumber"], sub)]
        assert (m["pk"], m["shard"]) == (key, aggregate_answer["ShardId"])
        assert json.loads(data)["celsius"] == m["celsius"]

    # A 'stream' metadata column: even sensors to one stream, odd ones to the other.
    total = len(written["plain"]) + users + 1
    flink.wait_until(lambda: len(read_stream(client, names["even"])) + len(read_stream(client, names["odd"])) >= total,
               DEADLINE, "every routed reading")
    for stream, parity in ((names["even"], 0), (names["odd"], 1)):
        sensors = [json.loads(r["Data"])["sensor"] for r in read_stream(client, stream)]
        assert sensors and all(s % 2 == parity for s in sensors), (stream, sensors)

    # csv rows and raw bytes come back as written, with their partition keys.
    flink.wait_until(lambda: len(read_stream(client, names["raw_out"])) >= len(raw_entries)
               and len(read_stream(client, names["csv_out"])) >= len(csv_entries), DEADLINE, "csv and raw copies")
    raw = Counter((r["PartitionKey"], r["Data"]) for r in read_stream(client, names["raw_out"]))
    assert raw == Counter((e["PartitionKey"], e["Data"]) for e in raw_entries), "raw: byte for byte, once"
    copied = {}
    for r in read_stream(client, names["csv_out"]):
        name, n = next(csv.reader(io.StringIO(r["Data"].decode())))
        copied[r["PartitionKey"]] = (name, int(n))
    assert copied == {f"csv-{i}": row for i, row in enumerate(csv_rows)}
    flink.call(cmd="cancel")


def test_sql_copy_resumes_from_a_savepoint_and_reads_through_a_split_and_a_merge(
        kinesis: LocalKinesis, flink: FlinkChild, tmp_path: Path) -> None:
    client = kinesis.client()
    source, out = f"tbl-copy-in-{time.monotonic_ns()}", f"tbl-copy-out-{time.monotonic_ns()}"
    create_stream(client, source, 2)
    create_stream(client, out, 1)
    args = {"endpoint": kinesis.endpoint, "in": source, "out": out}
    batches = [[{"Data": b"%s-%03d\xff" % (phase, i), "PartitionKey": f"k{i}"} for i in range(40)]
               for phase in (b"before", b"split", b"stopped", b"merged")]

    def copied() -> Counter:
        return Counter(r["Data"] for r in read_stream(client, out))

    def arrived(n: int, what: str) -> None:
        flink.wait_until(lambda: sum(copied().values()) >= n, DEADLINE, what)

    put_all(client, source, batches[0])
    flink.start("copy", args)
    arrived(40, "the first records")
    shard = client.list_shards(StreamName=source)["Shards"][0]
    low, high = (int(shard["HashKeyRange"][k]) for k in ("StartingHashKey", "EndingHashKey"))
    client.split_shard(StreamName=source, ShardToSplit=shard["ShardId"], NewStartingHashKey=str((low + high) // 2))
    create_stream(client, source, 2)  # waits until ACTIVE again
    put_all(client, source, batches[1])
    arrived(80, "the records written after the split")
    savepoint = flink.call(cmd="stop_with_savepoint", dir=str(tmp_path / "savepoints"))["savepoint"]
    assert flink.wait(60)["status"] == "FINISHED"
    put_all(client, source, batches[2])

    flink.start("copy", args, {"execution.savepoint.path": savepoint})
    open_shards = [s for s in client.list_shards(StreamName=source)["Shards"]
                   if "EndingSequenceNumber" not in s["SequenceNumberRange"]]
    open_shards.sort(key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]))
    client.merge_shards(StreamName=source, ShardToMerge=open_shards[0]["ShardId"],
                        AdjacentShardToMerge=open_shards[1]["ShardId"])
    create_stream(client, source, 2)
    put_all(client, source, batches[3])
    arrived(160, "the records written while stopped and after the merge")
    flink.call(cmd="cancel")
    assert copied() == Counter(e["Data"] for batch in batches for e in batch), "every row once, none re-read"


def test_sql_table_with_aggregation_writes_kpl_aggregates_each_user_record_once_on_its_shard(
        kinesis: LocalKinesis, flink: FlinkChild) -> None:
    """Half the rows are copied, then a shard of the output stream is split while the job runs, then the rest:
    the writer's shard map still names the parent, so aggregates packed for it land on one child; their user
    records of the other child are written again there (their first copies a range-checking reader drops)."""
    client = kinesis.client()
    source, out = f"tbl-agg-in-{time.monotonic_ns()}", f"tbl-agg-out-{time.monotonic_ns()}"
    create_stream(client, source, 2)
    create_stream(client, out, 2)
    users = [(f"user-{i}", b"%04d" % i + bytes((i * 7 + j) % 256 for j in range(96))) for i in range(400)]
    put_all(client, source, [{"PartitionKey": k, "Data": d} for k, d in users[:200]])
    flink.start("copy", {"endpoint": kinesis.endpoint, "in": source, "out": out, "aggregate": True})

    def stored() -> List[Dict[str, Any]]:
        return read_stream(client, out)

    flink.wait_until(lambda: len(users_by_agg_library(stored())) >= 200, DEADLINE, "the first half")
    before_split = stored()
    assert len(before_split) * 10 <= 200, f"{len(before_split)} Kinesis records for 200 user records"
    client.split_shard(StreamName=out, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2 ** 126))
    wait_for_stream(client, out)
    put_all(client, source, [{"PartitionKey": k, "Data": d} for k, d in users[200:]])
    flink.wait_until(lambda: len(held_users(client, out, stored())) >= len(users), DEADLINE, "every user record")
    flink.call(cmd="cancel")
    records = stored()
    held = held_users(client, out, records)
    # Each user record once, byte for byte, in a shard whose hash key range holds its key (the KCL's reading) ...
    assert Counter((k, d) for k, d, *_ in held) == Counter(users), "every user record once, byte for byte"
    assert {"shardId-000000000002", "shardId-000000000003"} <= {shard for _, _, shard, *_ in held}
    # ... and the split did send aggregates packed for the parent to a child holding only part of their keys:
    # those user records are also (once more) where the aggregate landed, outside that child's range.
    copies = users_by_agg_library(records)
    assert len(copies) > len(held), "no aggregate packed for the parent mixed the children's keys"
