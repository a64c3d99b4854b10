"""A loopback HTTP proxy that enforces a Kinesis shard's limits in front of any emulator.

No emulator throttles: kinesis-local and kinesalite take as many records per second as the machine can
push. Put this proxy between the client and the emulator to meet the service's per-shard limits, in sliding
one-second windows on the proxy's clock:

- writes: at most ``max_write_records`` (1,000) records and ``max_write_bytes`` (1 MiB, data plus partition
  key) per second and shard. PutRecords entries over the limit are answered per entry with ``ErrorCode``
  ``ProvisionedThroughputExceededException`` in the service's words ("Rate exceeded for shard ... in stream
  ... under account ..."): the proxy forwards only the admitted entries and merges the emulator's answer
  back in order, ``FailedRecordCount`` counting both. A PutRecord over the limit fails the call (400).
- reads: at most ``max_read_calls`` (5) GetRecords calls and ``max_read_bytes`` (2 MiB) per second and shard;
  over them the call fails (400 ``ProvisionedThroughputExceededException``). The shard comes from the
  iterator: the proxy keeps which shard each iterator that GetShardIterator and GetRecords handed out
  belongs to.

A record goes to the shard whose hash key range holds its key (:mod:`pyflink_kinesis.spec.shard_limits`), from
the emulator's ListShards, listed again when a record's shard is not known or the emulator answered another
shard than predicted (a resharding). A record larger than a whole second's bytes passes alone in an empty
window, as the service lets a large record through.

``max_record_size_kib`` adds ``MaxRecordSizeInKiB`` to DescribeStreamSummary answers that lack it, as a
stream raised to large records reports it (emulators older than the October 2025 change never do).

``clock`` (default :func:`time.monotonic`) is the windows' clock: a test may pass a fake one and move it.
What the proxy did is kept: :attr:`ShardLimitsProxy.admitted` and :attr:`ShardLimitsProxy.throttled` (records
by ``(stream, shard)``), :attr:`ShardLimitsProxy.throttled_reads`, and :attr:`ShardLimitsProxy.log`, one
``(clock time, stream, shard, admitted records, throttled records)`` per PutRecords call, from which a test
computes any window's count.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import Counter
from typing import Any, Callable, Dict, List, Optional, Tuple

from pyflink_kinesis.spec.shard_limits import (
    SHARD_READ_BYTES,
    SHARD_READ_CALLS,
    SHARD_WRITE_BYTES,
    SHARD_WRITE_RECORDS,
    ShardRange,
    ShardRanges,
    SlidingWindow,
    hash_key_of,
)

from .relay import LoopbackProxy, RelayHandler

THROTTLED = "ProvisionedThroughputExceededException"
ShardKey = Tuple[str, str]  # (stream name, shard id)


def stream_of(request: Dict[str, Any]) -> str:
    """The stream a request names, by ``StreamName`` or ``StreamARN`` (``arn:...:stream/NAME``)."""
    return str(request.get("StreamName") or str(request.get("StreamARN", "?")).rpartition("stream/")[2])


def decoded_size(data: str) -> int:
    """Bytes of a base64 ``Data`` field, without decoding it."""
    return len(data) * 3 // 4 - data[-2:].count("=")


class ShardLimitsProxy(LoopbackProxy):
    """Start with ``with ShardLimitsProxy(emulator_port) as proxy:`` and point clients at ``proxy.endpoint``.

    Args:
        upstream_port: The emulator's plain HTTP port on 127.0.0.1.
        max_write_records: PutRecords/PutRecord records per second and shard.
        max_write_bytes: Bytes (data plus partition key) written per second and shard.
        max_read_calls: GetRecords calls per second and shard.
        max_read_bytes: Bytes of GetRecords answers per second and shard.
        max_record_size_kib: ``MaxRecordSizeInKiB`` to report where DescribeStreamSummary lacks it (``None``: never).
        account: The account id the throttling messages name.
        clock: The windows' clock (seconds, monotonic).
        max_lifetime: Seconds after which the proxy stops by itself.
    """

    thread_name = "shardlimits"

    def __init__(self, upstream_port: int, *, max_write_records: int = SHARD_WRITE_RECORDS,
                 max_write_bytes: int = SHARD_WRITE_BYTES, max_read_calls: int = SHARD_READ_CALLS,
                 max_read_bytes: int = SHARD_READ_BYTES, max_record_size_kib: Optional[int] = None,
                 account: str = "000000000000", clock: Callable[[], float] = time.monotonic,
                 max_lifetime: float = 600.0) -> None:
        super().__init__(upstream_port, max_lifetime)
        self.max_write_records = max_write_records
        self.max_write_bytes = max_write_bytes
        self.max_read_calls = max_read_calls
        self.max_read_bytes = max_read_bytes
        self.max_record_size_kib = max_record_size_kib
        self.account = account
        self.clock = clock
        self._maps: Dict[str, ShardRanges] = {}
        self._writes: Dict[ShardKey, SlidingWindow] = {}
        self._reads: Dict[ShardKey, SlidingWindow] = {}
        self._iterators: Dict[str, ShardKey] = {}
        self._map_lock = threading.Lock()
        self.admitted: Counter = Counter()  # (stream, shard) -> records admitted
        self.throttled: Counter = Counter()  # (stream, shard) -> records throttled
        self.throttled_reads: Counter = Counter()  # (stream, shard) -> GetRecords calls throttled
        self.shard_map_refreshes = 0
        self.log: List[Tuple[float, str, str, int, int]] = []

    def write_window(self, stream: str, shard: str) -> SlidingWindow:
        """The write window of one shard (made on first use; hold the proxy's lock to read it)."""
        key = (stream, shard)
        if key not in self._writes:
            self._writes[key] = SlidingWindow(self.max_write_records, self.max_write_bytes)
        return self._writes[key]

    def read_window(self, key: ShardKey) -> SlidingWindow:
        """The read window of one shard: GetRecords calls and bytes answered."""
        if key not in self._reads:
            self._reads[key] = SlidingWindow(self.max_read_calls, self.max_read_bytes)
        return self._reads[key]

    def rate_message(self, stream: str, shard: str) -> str:
        """The service's words for a throttled shard."""
        return f"Rate exceeded for shard {shard} in stream {stream} under account {self.account}."

    def admit(self, stream: str, shard: str, size: int, now: float) -> bool:
        """Count one record of ``size`` bytes for the shard if it fits its window now; False if it does not."""
        with self._lock:
            window = self.write_window(stream, shard)
            if not window.fits(now, 1, size):
                self.throttled[(stream, shard)] += 1
                return False
            window.add(now, 1, size)
            self.admitted[(stream, shard)] += 1
            return True


class _Handler(RelayHandler):
    owner: ShardLimitsProxy

    def do_POST(self) -> None:
        body = self.body()
        operation = self.operation
        action = {"PutRecords": self._put_records, "PutRecord": self._put_record, "GetRecords": self._get_records,
                  "GetShardIterator": self._get_shard_iterator,
                  "DescribeStreamSummary": self._describe_stream_summary}.get(operation)
        if action is None:
            self.relay(body)
        else:
            action(json.loads(body or b"{}"), body)

    # -- the shard map -------------------------------------------------------------------------------

    def _shards(self, stream: str, refresh: bool = False) -> ShardRanges:
        proxy = self.owner
        with proxy._map_lock:
            ranges = proxy._maps.get(stream)
            if ranges is None or refresh:
                shards: List[Dict[str, Any]] = []
                request: Dict[str, Any] = {"StreamName": stream}
                while True:
                    answer = self.call("ListShards", request)
                    shards.extend(answer.get("Shards", []))
                    if not answer.get("NextToken"):
                        break
                    request = {"NextToken": answer["NextToken"]}
                ranges = proxy._maps[stream] = ShardRanges(shards)
                proxy.shard_map_refreshes += 1
            return ranges

    def _shard_of(self, stream: str, entry: Dict[str, Any]) -> ShardRange:
        hash_key = hash_key_of(entry["PartitionKey"], entry.get("ExplicitHashKey"))
        found = self._shards(stream).find(hash_key) or self._shards(stream, refresh=True).find(hash_key)
        if found is None:
            raise RuntimeError(f"stream {stream} has no open shard for hash key {hash_key}")
        return found

    # -- writes ---------------------------------------------------------------------------------------

    def _put_records(self, request: Dict[str, Any], body: bytes) -> None:
        proxy = self.owner
        stream = stream_of(request)
        entries = request.get("Records", [])
        now = proxy.clock()
        predicted: List[str] = []
        admitted: List[int] = []
        counts: Counter = Counter()
        for i, entry in enumerate(entries):
            shard = self._shard_of(stream, entry).shard_id
            predicted.append(shard)
            size = decoded_size(entry.get("Data", "")) + len(entry["PartitionKey"].encode("utf-8"))
            ok = proxy.admit(stream, shard, size, now)
            if ok:
                admitted.append(i)
            counts[(shard, ok)] += 1
        with proxy._lock:
            for shard in sorted({s for s, _ in counts}):
                proxy.log.append((now, stream, shard, counts[(shard, True)], counts[(shard, False)]))
        answered: List[Dict[str, Any]] = []
        upstream_failed = 0
        if admitted:
            status, headers, answer = self.forward(json.dumps(dict(request, Records=[entries[i] for i in admitted])).encode())
            if status != 200:
                self.respond(status, headers, answer)
                return
            result = json.loads(answer)
            answered, upstream_failed = result["Records"], int(result.get("FailedRecordCount", 0))
            if any(a.get("ShardId") not in (None, predicted[i]) for i, a in zip(admitted, answered)):
                self._shards(stream, refresh=True)  # the emulator answered another shard: resharded
        merged: List[Dict[str, Any]] = [
            {"ErrorCode": THROTTLED, "ErrorMessage": proxy.rate_message(stream, shard)} for shard in predicted]
        for i, entry in zip(admitted, answered):
            merged[i] = entry
        throttled = len(entries) - len(answered)
        self.respond_json({"FailedRecordCount": throttled + upstream_failed, "Records": merged})

    def _put_record(self, request: Dict[str, Any], body: bytes) -> None:
        proxy = self.owner
        stream = stream_of(request)
        shard = self._shard_of(stream, request).shard_id
        size = decoded_size(request.get("Data", "")) + len(request["PartitionKey"].encode("utf-8"))
        now = proxy.clock()
        ok = proxy.admit(stream, shard, size, now)
        with proxy._lock:
            proxy.log.append((now, stream, shard, int(ok), int(not ok)))
        if ok:
            self.relay(body)
        else:
            self.error(400, THROTTLED, proxy.rate_message(stream, shard))

    # -- reads ----------------------------------------------------------------------------------------

    def _get_shard_iterator(self, request: Dict[str, Any], body: bytes) -> None:
        status, headers, answer = self.forward(body)
        if status == 200:
            iterator = json.loads(answer).get("ShardIterator")
            if iterator:
                with self.owner._lock:
                    self.owner._iterators[iterator] = (stream_of(request), str(request.get("ShardId")))
        self.respond(status, headers, answer)

    def _get_records(self, request: Dict[str, Any], body: bytes) -> None:
        proxy = self.owner
        refused = False
        with proxy._lock:
            key = proxy._iterators.get(str(request.get("ShardIterator")))  # None: an iterator from before the proxy
            if key is not None:
                window, now = proxy.read_window(key), proxy.clock()
                calls, size = window.usage(now)
                refused = calls >= proxy.max_read_calls or size >= proxy.max_read_bytes
                if refused:
                    proxy.throttled_reads[key] += 1
                else:
                    window.add(now, 1, 0)
        if refused:
            assert key is not None
            self.error(400, THROTTLED, proxy.rate_message(*key))
            return
        status, headers, answer = self.forward(body)
        if status == 200 and key is not None:
            result = json.loads(answer)
            size = sum(decoded_size(r.get("Data", "")) for r in result.get("Records", []))
            with proxy._lock:
                proxy.read_window(key).add(proxy.clock(), 0, size)
                if result.get("NextShardIterator"):
                    proxy._iterators[result["NextShardIterator"]] = key
        self.respond(status, headers, answer)

    def _describe_stream_summary(self, request: Dict[str, Any], body: bytes) -> None:
        status, headers, answer = self.forward(body)
        limit = self.owner.max_record_size_kib
        if status == 200 and limit is not None:
            result = json.loads(answer)
            summary = result.get("StreamDescriptionSummary", {})
            if summary.get("MaxRecordSizeInKiB") is None:
                summary["MaxRecordSizeInKiB"] = limit
                self.respond_json(result)
                return
        self.respond(status, headers, answer)


ShardLimitsProxy.handler = _Handler

__all__ = ["THROTTLED", "ShardLimitsProxy", "decoded_size", "stream_of"]
