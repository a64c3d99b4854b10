"""ReadFromKinesis under faults, and the restriction tracker's contract.

The faults are injected by a client wrapper that raises the errors no emulator produces (throttling, expired
iterators; stated on each test); the records are real ones from kinesis-local.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict, List

import pytest

beam = pytest.importorskip("apache_beam")

from botocore.exceptions import ClientError  # noqa: E402

from beam_transforms import retry  # noqa: E402
from beam_transforms.retry import RetryPolicy  # noqa: E402
from beam_transforms.shards import KinesisReadError  # noqa: E402
from pyflink_kinesis import KinesisIngressSpec  # noqa: E402

from tests.beam_support import put, run_read, spec_for  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.beam]
NewStream = Callable[..., str]


# ---------------------------------------------------------------- faults (injected)


class _FaultyClient:
    """Wraps the real emulator client and injects the faults kinesis-local never produces.

    FAULT INJECTION (not a mock of Kinesis: every successful call reaches the emulator):
    every 3rd GetRecords raises ProvisionedThroughputExceededException, every 5th raises
    ExpiredIteratorException, the first GetShardIterator per shard raises LimitExceededException,
    and the first ListShards raises a 503 ServiceUnavailable. It also notes when each GetRecords
    call (failed ones too) hit which shard, to check the per-shard rate limit.
    """

    injected: Dict[str, int] = {}
    calls: Dict[str, List[float]] = {}

    def __init__(self, real: Any) -> None:
        self._real = real
        self._get_records = 0
        self._iterators: Dict[str, int] = {}
        self._list_shards = 0
        self._shard_of: Dict[str, str] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _error(code: str, operation: str, status: int = 400) -> ClientError:
        _FaultyClient.injected[code] = _FaultyClient.injected.get(code, 0) + 1
        return ClientError({"Error": {"Code": code, "Message": "injected"},
                            "ResponseMetadata": {"HTTPStatusCode": status}}, operation)

    def get_records(self, **kwargs: Any) -> Any:
        with self._lock:
            shard = self._shard_of[kwargs["ShardIterator"]]
            _FaultyClient.calls.setdefault(shard, []).append(time.monotonic())
            self._get_records += 1
            n = self._get_records
        if n % 3 == 0:
            raise self._error("ProvisionedThroughputExceededException", "GetRecords")
        if n % 5 == 0:
            raise self._error("ExpiredIteratorException", "GetRecords")
        response = self._real.get_records(**kwargs)
        if response.get("NextShardIterator"):
            with self._lock:
                self._shard_of[response["NextShardIterator"]] = shard
        return response

    def get_shard_iterator(self, **kwargs: Any) -> Any:
        shard = kwargs["ShardId"]
        with self._lock:
            self._iterators[shard] = self._iterators.get(shard, 0) + 1
            first = self._iterators[shard] == 1
        if first:
            raise self._error("LimitExceededException", "GetShardIterator")
        response = self._real.get_shard_iterator(**kwargs)
        with self._lock:
            self._shard_of[response["ShardIterator"]] = shard
        return response

    def describe_stream_summary(self, **kwargs: Any) -> Any:
        return self._real.describe_stream_summary(**kwargs)

    def list_shards(self, **kwargs: Any) -> Any:
        self._list_shards += 1
        if self._list_shards == 1:
            raise self._error("ServiceUnavailable", "ListShards", 503)
        return self._real.list_shards(**kwargs)


def test_throttling_and_expired_iterators_are_recovered_exactly_once(
    kinesis: Any, client: Any, new_stream: NewStream, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = new_stream(shards=2)
    written = put(client, stream, [(f"k{i}", f"r-{i}".encode()) for i in range(120)])
    real_create_client = KinesisIngressSpec.create_client
    monkeypatch.setattr(KinesisIngressSpec, "create_client",
                        lambda self, session=None: _FaultyClient(real_create_client(self, session)))
    _FaultyClient.injected.clear()
    _FaultyClient.calls.clear()
    # Small batches force many GetRecords calls, so every fault fires several times.
    out, _ = run_read(spec_for(kinesis, stream), stop_when_caught_up=True, max_records_per_call=9, poll_interval=0.05)
    assert sorted((r.shard_id, r.sequence_number) for r, _ in out) == sorted(written)
    assert _FaultyClient.injected.get("ProvisionedThroughputExceededException", 0) >= 3
    assert _FaultyClient.injected.get("ExpiredIteratorException", 0) >= 2
    assert _FaultyClient.injected.get("LimitExceededException", 0) >= 2
    assert _FaultyClient.injected.get("ServiceUnavailable", 0) >= 1
    # No shard saw more than 5 GetRecords calls per second, retries after throttling included.
    assert len(_FaultyClient.calls) == 2
    for times in _FaultyClient.calls.values():
        gaps = [b - a for a, b in zip(times, times[1:])]
        assert len(gaps) >= 10 and min(gaps) >= 0.195, gaps


def test_backoff_gives_up_on_persistent_throttling_and_not_on_other_errors() -> None:
    waits: List[float] = []
    policy = RetryPolicy(max_attempts=4, initial_backoff=0.1, max_backoff=1.0)
    calls = {"n": 0}

    def throttled() -> None:
        calls["n"] += 1
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "GetRecords")

    with pytest.raises(KinesisReadError, match="giving up after 4 attempts"):
        retry.call(policy, "GetRecords stream s shard x", throttled, sleep=waits.append)
    assert calls["n"] == 4 and len(waits) == 3
    assert all(0 <= w <= 0.1 * 2**i for i, w in enumerate(waits))  # exponential, full jitter

    def invalid() -> None:
        raise ClientError({"Error": {"Code": "InvalidArgumentException"}}, "GetRecords")

    with pytest.raises(ClientError):
        retry.call(policy, "x", invalid, sleep=waits.append)
    assert len(waits) == 3  # not retried


# ---------------------------------------------------------------- the tracker's contract


def test_tracker_checkpoints_once_and_checks_claims() -> None:
    from beam_transforms.restriction import (
        RecordClaim, ShardCursor, StopClaim, StreamRestriction, StreamRestrictionTracker)

    restriction = StreamRestriction("s", (ShardCursor("a"), ShardCursor("b")))
    tracker = StreamRestrictionTracker(restriction)
    with pytest.raises(ValueError, match="unfinished"):
        tracker.check_done()  # returned without a checkpoint or stop: work would be lost
    assert tracker.try_claim(RecordClaim("a", "100"))
    with pytest.raises(ValueError, match="forward"):
        tracker.try_claim(RecordClaim("a", "99"))
    primary, residual = tracker.try_split(0)
    assert primary.complete and primary.cursor("a").sequence_number == "100"
    assert not residual.complete and residual.cursor("a").iterator_args() == {
        "ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": "100"}
    assert residual.cursor("b").iterator_args() == {"ShardIteratorType": "TRIM_HORIZON"}
    assert not tracker.try_claim(RecordClaim("b", "5"))  # nothing after a checkpoint
    assert tracker.try_split(0) is None
    tracker.check_done()

    bounded = StreamRestrictionTracker(StreamRestriction("s", (ShardCursor("a"),), records_left=1, bounded=True))
    assert bounded.is_bounded()
    assert bounded.try_claim(RecordClaim("a", "1"))
    assert not bounded.try_claim(RecordClaim("a", "2"))  # max_records reached
    bounded.check_done()
    stopped = StreamRestrictionTracker(StreamRestriction("s", (ShardCursor("a"),), bounded=True))
    assert stopped.try_claim(StopClaim()) and stopped.current_restriction().complete
    stopped.check_done()
