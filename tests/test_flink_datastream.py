"""from_ingress / to_egress: PyFlink jobs on a real MiniCluster with the packaged connector, against kinesis-local.

The jobs are ``tests/flink_jobs.py``, run as a user's script in one child process for this module (its JVM ends
with it); each scenario below is one job, and several tests check what one job did. Faults that no emulator
produces (partial PutRecords failures, throttling, dropped connections) come from the loopback
``pyflink_kinesis/testing/faultproxy.py`` in front of kinesis-local, a shard's limits from
``pyflink_kinesis/testing/shardlimits.py``. Every wait has a deadline.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List

import pytest

pytest.importorskip("pyflink")
aggregator = pytest.importorskip("aws_kinesis_agg.aggregator")

from pyflink_kinesis.tools.local import LocalKinesis  # noqa: E402
from pyflink_kinesis.testing.faultproxy import FaultProxy  # noqa: E402
from pyflink_kinesis.testing import Streams, put_all, read_stream, wait_until  # noqa: E402
from pyflink_kinesis.testing.flink_child import FlinkChild  # noqa: E402
from pyflink_kinesis.testing.shardlimits import ShardLimitsProxy  # noqa: E402
from tests.flink_support import DEADLINE, KeyedPhases, binary_entries, hash_key_for, observations  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.flink]


def hash_of(key: str) -> int:
    return int.from_bytes(hashlib.md5(key.encode()).digest(), "big")


def shard_for(shards: List[Dict[str, Any]], hash_value: int) -> str:
    for s in shards:
        r = s["HashKeyRange"]
        if int(r["StartingHashKey"]) <= hash_value <= int(r["EndingHashKey"]):
            return s["ShardId"]
    raise AssertionError(f"no shard holds {hash_value}")


# --- roundtrip: binary records, metadata, two output streams, KPL, the skip policy, parallelism 2 -------------


@pytest.fixture(scope="module")
def roundtrip(kinesis: LocalKinesis, flink: FlinkChild) -> Dict[str, Any]:
    client = kinesis.client()
    streams = Streams(client, "rt")
    names = {"in": streams.new(2), "kpl": streams.new(1), "out_a": streams.new(2), "out_b": streams.new(2),
             "meta": streams.new(2)}
    rng = random.Random(9)
    entries = []
    for i in range(1000):
        data = i.to_bytes(2, "big") + bytes(rng.randrange(256) for _ in range(rng.randrange(0, 120)))
        if i % 10 == 0:
            data += b"\xff\xfe\xc3\x28"  # never valid UTF-8
        entries.append({"Data": data, "PartitionKey": f"key-{rng.randrange(400)}"})
    poison = [{"Data": b"p%d" % i, "PartitionKey": f"poison-{i}"} for i in range(5)]
    answers = put_all(client, names["in"], entries + poison)[: len(entries)]
    kpl_users = [[(f"u{a}-{j}", b"\x00user %d/%d \xff" % (a, j)) for j in range(20)] for a in range(3)]
    aggregates = []
    for users in kpl_users:
        agg = aggregator.RecordAggregator()
        for key, data in users:
            assert agg.add_user_record(key, data) is None
        key, _, data = agg.clear_and_get().get_contents()
        aggregates.append({"Data": data, "PartitionKey": key})
    kpl_answers = put_all(client, names["kpl"], aggregates)

    flink.start("roundtrip", dict(names, endpoint=kinesis.endpoint))
    total = len(entries) + sum(len(u) for u in kpl_users)
    flink.wait_until(lambda: len(read_stream(client, names["meta"])) >= total, DEADLINE,
               f"{total} observations in {names['meta']}", interval=2)
    flink.wait_until(lambda: len(read_stream(client, names["out_a"])) + len(read_stream(client, names["out_b"]))
               >= len(entries), DEADLINE, "the records in out_a and out_b", interval=2)
    errors = flink.wait_until(lambda: flink.call(cmd="metric", suffix=".kinesis.deserialize_errors")["value"] >= 5,
                        60, "the deserialize_errors metric to count the 5 poison records")
    result = {
        "names": names, "entries": entries, "answers": answers, "kpl_users": kpl_users, "kpl_answers": kpl_answers,
        "out": {n: read_stream(client, names[n]) for n in ("out_a", "out_b")},
        "shards": {n: client.list_shards(StreamName=names[n])["Shards"] for n in ("out_a", "out_b")},
        "input": {r["SequenceNumber"]: r for r in read_stream(client, names["in"])},
        "meta": observations(client, names["meta"]),
        "deserialize_errors": flink.call(cmd="metric", suffix=".kinesis.deserialize_errors")["value"],
    }
    assert errors
    assert flink.call(cmd="cancel")["status"] == "CANCELED"
    return result


def test_binary_records_arrive_byte_for_byte_once_with_the_serializers_keys(roundtrip: Dict[str, Any]) -> None:
    """1,000 random binary records over 2 shards, parallelism 2, a serializer class from __main__: each record once,
    in the stream it chose, with its partition key, and in the shard its explicit hash key or key selects."""
    sent = {e["Data"]: e["PartitionKey"] for e in roundtrip["entries"]}
    assert len(sent) == 1000
    seen: Counter = Counter()
    for name, records in roundtrip["out"].items():
        for r in records:
            data = bytes(r["Data"])
            seen[data] += 1
            assert (name == "out_a") == (data[1:2] < b"\x80"), "the serializer's stream choice"
            key = sent[data]
            assert r["PartitionKey"] == "o-" + key
            expected_hash = hash_key_for(data) if key[-1] in "02468" else None
            target = int(expected_hash) if expected_hash else hash_of(r["PartitionKey"])
            assert r["ShardId"] == shard_for(roundtrip["shards"][name], target)
    assert set(seen) == set(sent), "every record arrived, byte for byte"
    assert max(seen.values()) == 1, "no record arrived twice"
    assert all(roundtrip["out"][n] for n in ("out_a", "out_b"))


def test_metadata_matches_what_put_records_returned(roundtrip: Dict[str, Any]) -> None:
    observed = {o["data"]: o for o in roundtrip["meta"] if o["tag"] == "in"}
    assert len(observed) == 1000 and len([o for o in roundtrip["meta"] if o["tag"] == "in"]) == 1000
    for entry, answer in zip(roundtrip["entries"], roundtrip["answers"]):
        o = observed[entry["Data"]]
        assert (o["stream"], o["shard"], o["seq"], o["key"], o["sub"]) == (
            roundtrip["names"]["in"], answer["ShardId"], answer["SequenceNumber"], entry["PartitionKey"], None)
        arrival = roundtrip["input"][answer["SequenceNumber"]]["ApproximateArrivalTimestamp"]
        assert o["arrival_ms"] == round(arrival.timestamp() * 1000) and o["tz"] == "UTC"
    # Parallelism 2: each shard is read by one subtask, and the two shards by different subtasks.
    subtasks = defaultdict(set)
    for o in observed.values():
        subtasks[o["shard"]].add(o["subtask"])
    assert len(subtasks) == 2 and all(len(s) == 1 for s in subtasks.values())
    assert set.union(*subtasks.values()) == {0, 1}


def test_kpl_aggregates_come_out_as_their_user_records(roundtrip: Dict[str, Any]) -> None:
    kpl = sorted((o for o in roundtrip["meta"] if o["tag"] == "kpl"), key=lambda o: (o["seq"], o["sub"]))
    expected = [(answer["SequenceNumber"], j, key, data)
                for users, answer in zip(roundtrip["kpl_users"], roundtrip["kpl_answers"])
                for j, (key, data) in enumerate(users)]
    assert [(o["seq"], o["sub"], o["key"], o["data"]) for o in kpl] == sorted(expected)


def test_skip_policy_counts_the_records_the_deserializer_failed_on(roundtrip: Dict[str, Any]) -> None:
    assert roundtrip["deserialize_errors"] == 5
    assert not [o for o in roundtrip["meta"] if o["key"].startswith("poison")]


def test_a_setting_the_connector_refuses_is_a_config_error_naming_it(kinesis: LocalKinesis,
                                                                      flink: FlinkChild) -> None:
    answer = flink.call(cmd="start", job="bad_setting", args={"endpoint": kinesis.endpoint}, check=False)
    assert "pyflink_kinesis.spec.errors.ConfigError: ingress t/bad: source.shard.discovery.interval: expected a duration" \
        in answer["error"], answer


# --- live: startup positions, and a split then a merge while the job runs ------------------------------------


@pytest.fixture(scope="module")
def live(kinesis: LocalKinesis, flink: FlinkChild) -> Dict[str, Any]:
    client = kinesis.client()
    streams = Streams(client, "live")
    positions, reshard = streams.new(1), streams.new(1)
    out = {tag: streams.new(1) for tag in ("latest", "earliest", "at", "reshard")}
    batch = {n: [{"Data": b"%s-%d" % (n.encode(), i), "PartitionKey": f"p{i}"} for i in range(30)]
             for n in ("before", "after", "running")}
    put_all(client, positions, batch["before"])
    time.sleep(0.05)  # keeps the arrival times of the two batches apart by at least the date's precision
    at = datetime.now(timezone.utc)
    time.sleep(0.05)
    put_all(client, positions, batch["after"])
    phases = KeyedPhases(client, reshard, [f"k{i}" for i in range(12)])
    phases.write("first", 5)
    flink.start("live", {"endpoint": kinesis.endpoint, "positions": positions, "reshard": reshard, "out": out,
                         "at": at.isoformat()})

    def latest_started() -> bool:  # LATEST starts when its reader does: markers until one comes out
        put_all(client, positions, [{"Data": b"marker", "PartitionKey": "m"}])
        return bool(read_stream(client, out["latest"]))

    flink.wait_until(latest_started, DEADLINE, "the LATEST reader to read a marker", interval=2)
    put_all(client, positions, batch["running"])
    flink.wait_until(lambda: len(read_stream(client, out["reshard"])) >= 60, DEADLINE, "the first reshard phase")
    parent = client.list_shards(StreamName=reshard)["Shards"][0]
    client.split_shard(StreamName=reshard, ShardToSplit=parent["ShardId"], NewStartingHashKey=str(2**127))
    wait_until(lambda: client.describe_stream_summary(StreamName=reshard)["StreamDescriptionSummary"]
               ["StreamStatus"] == "ACTIVE", 60, "the split")
    phases.write("split", 5)
    children = [s for s in client.list_shards(StreamName=reshard)["Shards"]
                if s.get("ParentShardId") == parent["ShardId"]]
    assert len(children) == 2
    flink.wait_until(lambda: len(read_stream(client, out["reshard"])) >= 120, DEADLINE, "the records after the split")
    client.merge_shards(StreamName=reshard, ShardToMerge=children[0]["ShardId"],
                        AdjacentShardToMerge=children[1]["ShardId"])
    wait_until(lambda: client.describe_stream_summary(StreamName=reshard)["StreamDescriptionSummary"]
               ["StreamStatus"] == "ACTIVE", 60, "the merge")
    phases.write("merged", 5)
    flink.wait_until(lambda: len(read_stream(client, out["reshard"])) >= 180, DEADLINE, "the records after the merge",
                     interval=2)
    flink.wait_until(lambda: all(len([o for o in observations(client, out[t]) if o["data"].startswith(b"running")]) >= 30
                                 for t in ("latest", "earliest", "at")), DEADLINE, "the batch written while running")
    result = {tag: observations(client, stream) for tag, stream in out.items()}
    result["batch"] = batch
    result["phases"] = phases
    result["shards"] = client.list_shards(StreamName=reshard)["Shards"]
    assert flink.call(cmd="cancel")["status"] == "CANCELED"
    return result


def _payloads(observed: List[Dict[str, Any]]) -> Counter:
    return Counter(o["data"] for o in observed if o["data"] != b"marker")


def test_each_startup_position_starts_where_it_should(live: Dict[str, Any]) -> None:
    sets = {n: Counter(e["Data"] for e in live["batch"][n]) for n in ("before", "after", "running")}
    assert _payloads(live["earliest"]) == sets["before"] + sets["after"] + sets["running"]
    assert _payloads(live["at"]) == sets["after"] + sets["running"]
    assert _payloads(live["latest"]) == sets["running"]


def test_split_then_merge_reads_every_record_once_in_key_order(live: Dict[str, Any]) -> None:
    assert len(live["shards"]) == 4  # the parent, two children, the merged shard
    got = live["reshard"]
    live["phases"].check_once_in_key_order(got)
    assert len({o["shard"] for o in got}) == 4


# --- resumable, in each Python execution mode: stop with a savepoint, write more, resume; then the fail policy ---


@pytest.mark.parametrize("mode", ["process", "thread"])
def test_savepoint_resume_continues_after_the_last_record_then_a_failing_deserializer_fails_the_job(
        kinesis: LocalKinesis, flink: FlinkChild, tmp_path: Path, mode: str) -> None:
    """In PyFlink's process and thread modes (``from_ingress(execution_mode=...)``): binary records arrive byte
    for byte with their metadata, a savepoint resumes after the last record, and a deserializer's error names the
    record it failed on."""
    client = kinesis.client()
    streams = Streams(client, "sp")
    source, out = streams.new(2), streams.new(1)
    args = {"endpoint": kinesis.endpoint, "in": source, "out": out, "mode": mode}
    rng = random.Random(mode)
    first, second = binary_entries(b"first", 60, rng), binary_entries(b"second", 60, rng)
    answers = put_all(client, source, first)
    flink.start("resumable", args)
    flink.wait_until(lambda: len(read_stream(client, out)) >= 60, DEADLINE, "the first records")
    savepoint = flink.call(cmd="stop_with_savepoint", dir=str(tmp_path / "savepoints"))["savepoint"]
    assert flink.wait(60)["status"] == "FINISHED"
    answers += put_all(client, source, second)

    flink.start("resumable", args, {"execution.savepoint.path": savepoint})
    flink.wait_until(lambda: len(read_stream(client, out)) >= 120, DEADLINE, "the records written while stopped")
    poison = put_all(client, source, [{"Data": b"bad", "PartitionKey": "poison-x"}])[0]
    ended = flink.wait(DEADLINE)
    observed = observations(client, out)
    assert Counter(o["data"] for o in observed) == Counter(e["Data"] for e in first + second), \
        "each record once, byte for byte: none lost, none read again"
    arrivals = {r["SequenceNumber"]: r["ApproximateArrivalTimestamp"] for r in read_stream(client, source)}
    by_data = {o["data"]: o for o in observed}
    for entry, answer in zip(first + second, answers):
        o = by_data[entry["Data"]]
        assert (o["stream"], o["shard"], o["seq"], o["key"], o["sub"], o["tz"]) == (
            source, answer["ShardId"], answer["SequenceNumber"], entry["PartitionKey"], None, "UTC")
        assert o["arrival_ms"] == round(arrivals[answer["SequenceNumber"]].timestamp() * 1000)
    assert ended["status"] == "FAILED", ended
    assert (f"stream {source}, shard {poison['ShardId']}, sequence number {poison['SequenceNumber']}"
            in ended["error"]), ended["error"][-3000:]
    assert "ValueError: cannot read poison-x" in ended["error"]


def test_a_second_execution_mode_in_one_job_is_a_config_error(kinesis: LocalKinesis, flink: FlinkChild) -> None:
    answer = flink.call(cmd="start", job="resumable", args={"endpoint": kinesis.endpoint, "in": "i", "out": "o",
                                                            "mode": "thread"},
                        config={"python.execution-mode": "process"}, check=False)
    assert ("ConfigError: execution_mode: the job's python.execution-mode is already 'process'; it is one for the "
            "whole job") in answer["error"], answer


# --- faults: 10,000 records through a proxy that fails, throttles and drops PutRecords ------------------------


def test_ten_thousand_records_through_faults_all_arrive(kinesis: LocalKinesis, flink: FlinkChild) -> None:
    client = kinesis.client()
    streams = Streams(client, "faults")
    outs = [streams.new(2) for _ in range(4)]
    count = 10_000
    with FaultProxy(kinesis.port, seed=3, partial=0.2, throttle=0.08, limit=0.04, error500=0.04, drop_before=0.04,
                    drop_after=0.04, max_lifetime=DEADLINE * 2) as proxy:
        flink.start("through_faults", {"endpoint": kinesis.endpoint, "sink_endpoint": proxy.endpoint, "outs": outs,
                                       "count": count})
        ended = flink.wait(DEADLINE)
        assert ended["status"] == "FINISHED", str(ended)[-3000:]
    got: Counter = Counter()
    for out in outs:
        got.update(bytes(r["Data"]) for r in read_stream(client, out))
    expected = {b"%08d\xff\xfe" % i for i in range(1, count + 1)}
    assert set(got) == expected, f"{len(expected - set(got))} records missing"
    extra = sum(got.values()) - count
    assert extra <= sum(proxy.dropped_after.values()), "only records whose answer was dropped may land twice"
    assert all(proxy.faults[kind] > 0 for kind in ("partial", "throttle", "limit", "error500", "drop_before",
                                                   "drop_after")), proxy.faults
    assert proxy.failed_entries > 0


# --- the KPL's ways through ShardLimitsProxy: record TTL, rate limit, records up to the stream's limit ----------


def test_record_ttl_rate_limit_and_the_streams_record_size_limit(kinesis: LocalKinesis, flink: FlinkChild) -> None:
    """One job, five sinks (tests/flink_jobs.py producer_limits). ``RecordTtl`` 1500 ms behind a shard throttled to
    20 records/s: the records past it dropped and counted, the others written once. ``RateLimit`` 20 against a
    fifth of a shard's limits (``RateLimit`` 100 against the service's): (almost) no throttled entries, where the
    same records unpaced meet many. A stream raised to MaxRecordSizeInKiB 10240 takes a 5 MiB record (kinesis-local
    0.6.2 refuses a record over 1 MiB until UpdateMaxRecordSize, then reports the field itself; the proxy reports it
    too). Then a record over 1 MiB for a stream without the field fails the job with the error naming the limit."""
    client = kinesis.client()
    streams = Streams(client, "limits")
    s = {"ttl": streams.new(1), "paced": streams.new(2), "unpaced": streams.new(2), "big": streams.new(1),
         "over": streams.new(1)}
    source = streams.new(1)
    arn = client.describe_stream_summary(StreamName=s["big"])["StreamDescriptionSummary"]["StreamARN"]
    client.update_max_record_size(StreamARN=arn, MaxRecordSizeInKiB=10240)
    with ShardLimitsProxy(kinesis.port, max_write_records=20, max_lifetime=DEADLINE * 2) as slow, \
            ShardLimitsProxy(kinesis.port, max_write_records=200, max_write_bytes=1024 * 1024 // 5,
                             max_record_size_kib=10240, max_lifetime=DEADLINE * 2) as fifth:
        put_all(client, source, [{"Data": command, "PartitionKey": "c"}
                                 for command in (b"ttl:150", b"paced:1200", b"unpaced:1200", b"big:2")])
        flink.start("producer_limits", {"endpoint": kinesis.endpoint, "in": source, "streams": s,
                                        "slow": slow.endpoint, "fifth": fifth.endpoint})

        def expired() -> float:
            return flink.call(cmd="metric", suffix=".numExpiredRecordsDropped")["value"]

        flink.wait_until(lambda: len(read_stream(client, s["ttl"])) + expired() >= 150
                         and all(len(read_stream(client, s[k])) >= 1200 for k in ("paced", "unpaced"))
                         and len(read_stream(client, s["big"])) >= 2, DEADLINE, "every record written or dropped",
                         interval=2)
        dropped = expired()
        put_all(client, source, [{"Data": b"over:1", "PartitionKey": "c"}])
        ended = flink.wait(DEADLINE)

    ttl = [bytes(r["Data"]) for r in read_stream(client, s["ttl"])]
    assert 0 < dropped < 150 and len(ttl) == 150 - dropped, (dropped, len(ttl))
    assert len(set(ttl)) == len(ttl) and set(ttl) <= {b"r%03d" % i for i in range(150)}, "nothing twice or else"

    def on(proxy_counts: Counter, stream: str) -> int:
        return sum(n for (name, _), n in proxy_counts.items() if name == stream)

    assert on(fifth.admitted, s["paced"]) == on(fifth.admitted, s["unpaced"]) == 1200
    assert on(fifth.throttled, s["paced"]) <= 12, "(almost) none: the proxy's clock is not the writer's"
    assert on(fifth.throttled, s["unpaced"]) > 12, "unpaced, the same records meet the limit"
    for k in ("paced", "unpaced"):
        assert len({bytes(r["Data"]) for r in read_stream(client, s[k])}) == 1200

    big = sorted(bytes(r["Data"]) for r in read_stream(client, s["big"]))
    assert big == sorted([bytes(range(256)) * (5 * 1024 * 4), b"small"])

    assert ended["status"] == "FAILED", str(ended)[-3000:]
    assert (f"a record for stream '{s['over']}' with partition key 'big' is 1048679 bytes (data + UTF-8 partition "
            "key), over Kinesis' limit of 1048576 bytes (the Kinesis default: the stream reports no "
            "MaxRecordSizeInKiB)") in ended["error"], ended["error"][-3000:]
