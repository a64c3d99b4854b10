"""A shard the service no longer has (expired past the retention period) in a restored Beam restriction.

The records and the resharding are real (kinesis-local); the expiry is injected. FAULT INJECTION: a wrapper
around the emulator's client (``_Expired``) makes the named shards behave as the service does once they are
older than the retention period: ListShards leaves them out, and GetShardIterator / GetRecords on them answer
``ResourceNotFoundException``; every other call reaches the emulator. No emulator expires shards.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Dict, List, Set

import pytest

beam = pytest.importorskip("apache_beam")

from botocore.exceptions import ClientError  # noqa: E402

from beam_transforms.positions import ShardCursor, ShardInfo, expired_successors  # noqa: E402
from beam_transforms.reader import _ReadStreamFn  # noqa: E402
from beam_transforms.retry import KinesisReadError  # noqa: E402
from beam_transforms.settings import read_settings  # noqa: E402
from pyflink_kinesis import KinesisIngressSpec  # noqa: E402
from pyflink_kinesis.testing import wait_until  # noqa: E402

from tests.beam_support import drive, drive_to_end, put, spec_for, stream_element  # noqa: E402
from tests.parallel_support import hash_keys_in  # noqa: E402

pytestmark = [pytest.mark.beam]


def _not_found(operation: str, what: str) -> ClientError:
    return ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": f"{what} not found (injected)"}},
                       operation)


class _Expired:
    """The emulator's client, with ``expired`` shards gone as past the retention period (and with ``stream_gone``,
    the whole stream). Fault injection: see the module docstring."""

    expired: Set[str] = set()
    stream_gone = False
    listed_but_unknown: Set[str] = set()  # shards still listed whose iterator calls answer ResourceNotFound
    iterators: Dict[str, str] = {}

    def __init__(self, real: Any) -> None:
        self._real = real

    def list_shards(self, **kwargs: Any) -> Any:
        if _Expired.stream_gone:
            raise _not_found("ListShards", "stream")
        answer = self._real.list_shards(**kwargs)
        return {**answer, "Shards": [s for s in answer["Shards"] if s["ShardId"] not in _Expired.expired]}

    def get_shard_iterator(self, **kwargs: Any) -> Any:
        shard = kwargs["ShardId"]
        if shard in _Expired.expired or shard in _Expired.listed_but_unknown:
            raise _not_found("GetShardIterator", f"shard {shard}")
        answer = self._real.get_shard_iterator(**kwargs)
        _Expired.iterators[answer["ShardIterator"]] = shard
        return answer

    def get_records(self, **kwargs: Any) -> Any:
        shard = _Expired.iterators.get(kwargs["ShardIterator"])
        if shard in _Expired.expired:
            raise _not_found("GetRecords", f"shard {shard}")
        answer = self._real.get_records(**kwargs)
        if answer.get("NextShardIterator"):
            _Expired.iterators[answer["NextShardIterator"]] = shard
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


@pytest.fixture
def expiring(monkeypatch: pytest.MonkeyPatch) -> type:
    real_create_client = KinesisIngressSpec.create_client
    monkeypatch.setattr(KinesisIngressSpec, "create_client",
                        lambda self, session=None: _Expired(real_create_client(self, session)))
    _Expired.expired, _Expired.stream_gone, _Expired.listed_but_unknown = set(), False, set()
    _Expired.iterators = {}
    return _Expired


def _split(client: Any, stream: str, shard: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Split ``shard`` in the middle; returns its two children (ListShards)."""
    low, high = int(shard["HashKeyRange"]["StartingHashKey"]), int(shard["HashKeyRange"]["EndingHashKey"])
    client.split_shard(StreamName=stream, ShardToSplit=shard["ShardId"], NewStartingHashKey=str((low + high) // 2))
    wait_until(lambda: client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
               ["StreamStatus"] == "ACTIVE", 60, "the stream to be ACTIVE")
    return [s for s in client.list_shards(StreamName=stream)["Shards"] if s.get("ParentShardId") == shard["ShardId"]]


def _fn(kinesis: Any, stream: str) -> _ReadStreamFn:
    spec = spec_for(kinesis, stream)
    fn = _ReadStreamFn(spec, read_settings(spec, stop_when_caught_up=True, checkpoint_interval=600, poll_interval=0.1))
    fn.setup()
    return fn


@pytest.mark.integration
def test_a_restored_shard_whose_lineage_expired_ends_and_its_listed_descendants_are_read_once(
    kinesis: Any, client: Any, new_stream: Callable[..., str], expiring: type, caplog: pytest.LogCaptureFixture
) -> None:
    """P is being read when the checkpoint is taken; P then splits into C1 and C2, each of which splits again
    (G1..G4); by the restore P, C1 and C2 are past the retention period. The restored restriction must end P
    and read every record of G1..G4 once."""
    stream = new_stream(shards=1)
    parent = client.list_shards(StreamName=stream)["Shards"][0]
    put(client, stream, [(f"p-{i}", f"p-{i}".encode()) for i in range(6)])
    first = _fn(kinesis, stream)
    element = stream_element(client, stream)
    taken, _, (_, restored) = drive(first, element, first.initial_restriction(element), take=3)
    first.teardown()
    assert [r.partition_key for r in taken] == ["p-0", "p-1", "p-2"]

    grandchildren = [g for c in _split(client, stream, parent) for g in _split(client, stream, c)]
    written = put(client, stream, [(f"g-{i}-{k}", f"g-{i}-{k}".encode(), h) for i, g in enumerate(grandchildren)
                                   for k, h in enumerate(hash_keys_in(g, 3))])
    children = {g["ParentShardId"] for g in grandchildren}
    expiring.expired = {parent["ShardId"], *children}

    second = _fn(kinesis, stream)  # another worker, after the restore
    with caplog.at_level(logging.WARNING, logger="beam_transforms.moved"):
        out = [o.value for o in drive_to_end(second, element, restored)]
    second.teardown()
    assert sorted((r.shard_id, r.sequence_number) for r in out) == sorted(written)  # each once, none of P's again
    warnings = [r.getMessage() for r in caplog.records if "is gone" in r.getMessage()]
    assert len(warnings) == 1
    assert f"stream {stream}: shard {parent['ShardId']} is gone" in warnings[0]
    assert f"last position read: sequence number {taken[-1].sequence_number}" in warnings[0]
    assert all(g["ShardId"] in warnings[0] for g in grandchildren)


@pytest.mark.integration
def test_a_gone_stream_fails_naming_it_and_a_listed_shard_the_service_does_not_know_fails_naming_it(
    kinesis: Any, client: Any, new_stream: Callable[..., str], expiring: type
) -> None:
    stream = new_stream(shards=1)
    shard = client.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    element = stream_element(client, stream)
    expiring.listed_but_unknown = {shard}
    fn = _fn(kinesis, stream)
    with pytest.raises(KinesisReadError, match=f"stream {stream}: shard {shard} is listed, yet the service does "
                                               f"not know it: .*ResourceNotFoundException"):
        list(drive_to_end(fn, element, fn.initial_restriction(element)))
    expiring.expired, expiring.stream_gone = {shard}, True
    with pytest.raises(KinesisReadError, match=f"stream {stream} does not exist"):
        list(drive_to_end(fn, element, fn.initial_restriction(element)))
    fn.teardown()


def test_descendants_are_attributed_by_hash_range_to_one_expired_shard() -> None:
    """Only listed shards with parents, none of them listed, whose first hash key is in the gone shard's range."""
    gone = ShardCursor("p", hash_range=(0, 99))
    listed = [
        ShardInfo("g1", ("c1",), (0, 24)), ShardInfo("g2", ("c1",), (25, 49)), ShardInfo("g3", ("c2",), (50, 99)),
        ShardInfo("h", ("g1",), (0, 24)),  # its parent is listed: it joins when g1 ends
        ShardInfo("r", ("q0",), (100, 199)),  # another expired lineage's, outside p's range
        ShardInfo("child", ("p",), (0, 99)),  # a listed child: adopted as at any shard end
        ShardInfo("root", (), (0, 99)),  # no parents: read from the listing at the start
    ]
    children, descendants = expired_successors(gone, listed, owned=["p", "g2"])
    assert [s.shard_id for s in children] == ["child"]
    assert [s.shard_id for s in descendants] == ["g1", "g3"]
    assert expired_successors(ShardCursor("p"), listed, ["p"]) == (tuple(children), ())  # no hash range known
