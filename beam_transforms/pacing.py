"""What a stream lets a writer do: pacing each shard (``sink.rate-limit``) and each stream's record size limit
(``sink.max-record-size``, else the stream's ``MaxRecordSizeInKiB``).

:class:`ShardPacer` holds each shard to a percent of its 1 MiB/s and 1,000 records/s in sliding one-second windows
(:class:`~pyflink_kinesis.spec.shard_limits.SlidingWindow`, the same the test proxy enforces), per writer, as the
KPL's ``RateLimit`` did: a PutRecords call waits until every shard it writes to has room. A call reaches the
service up to its latency after it was counted here, so each window also spans the slowest of the recent calls.
:class:`RecordSizeLimits` asks DescribeStreamSummary once per stream.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from typing import Any, Callable, Deque, Dict, Iterable, Optional, Tuple

from botocore.exceptions import ClientError

from pyflink_kinesis.spec.records import MAX_RECORD_BYTES, EgressRecord
from pyflink_kinesis.spec.shard_limits import SHARD_WRITE_BYTES, SHARD_WRITE_RECORDS, SlidingWindow

from .aggregating import ShardMaps
from .retry import NOT_FOUND, RetryPolicy, call, error_code

_RECENT_CALLS = 20  # the calls whose latency widens the windows


class ShardPacer:
    """Paces PutRecords calls so that each shard gets at most ``percent`` of its write limits from this writer.

    Args:
        maps: The streams' shard maps (where each record goes).
        percent: Percent of a shard's 1,000 records/s and 1 MiB/s.
        clock: A monotonic clock; ``sleep``: how to wait (tests pass fakes).
    """

    def __init__(self, maps: ShardMaps, percent: int, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Any] = time.sleep) -> None:
        self.maps = maps
        self.records = SHARD_WRITE_RECORDS * percent / 100.0
        self.bytes = SHARD_WRITE_BYTES * percent / 100.0
        self._clock = clock
        self._sleep = sleep
        self._windows: Dict[Tuple[str, str], SlidingWindow] = {}
        self._latencies: Deque[float] = deque(maxlen=_RECENT_CALLS)
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds spent waiting, all calls

    def observe(self, seconds: float) -> None:
        """How long a PutRecords call took (its answer included)."""
        with self._lock:
            self._latencies.append(seconds)

    @property
    def max_call_records(self) -> int:
        """Records per call at most: a call with more for one shard than a second's budget would be throttled."""
        return max(1, int(self.records))

    def acquire(self, stream: str, records: Iterable[EgressRecord]) -> None:
        """Wait until every shard of ``records`` has room for them, then count them against their shards."""
        per_shard: Counter = Counter()
        sizes: Counter = Counter()
        for record in records:
            shard = self.maps.predict(record).shard_id
            per_shard[shard] += 1
            sizes[shard] += record.size
        while True:
            with self._lock:
                now = self._clock()
                period = 1.0 + max(self._latencies, default=0.0)
                windows = {s: self._window(stream, s) for s in per_shard}
                for window in windows.values():
                    window.period = period
                wait = max(w.wait(now, per_shard[s], sizes[s]) for s, w in windows.items())
                if wait <= 0:
                    for s, w in windows.items():
                        w.add(now, per_shard[s], sizes[s])
                    return
                self.waited += wait
            self._sleep(wait)

    def _window(self, stream: str, shard: str) -> SlidingWindow:
        key = (stream, shard)
        if key not in self._windows:
            self._windows[key] = SlidingWindow(self.records, self.bytes)
        return self._windows[key]


class RecordSizeLimits:
    """The largest record each stream takes, and where that figure came from (for the oversize error).

    Args:
        client: A boto3 Kinesis client.
        policy: Retries of DescribeStreamSummary.
        configured: ``sink.max-record-size`` in bytes, if set: it wins.
    """

    def __init__(self, client: Any, policy: RetryPolicy, configured: Optional[int] = None) -> None:
        self._client = client
        self._policy = policy
        self._configured = configured
        self._limits: Dict[str, Tuple[int, str]] = {}
        self._lock = threading.Lock()

    def exceeded(self, record: EgressRecord) -> Optional[Tuple[int, str]]:
        """(limit, where it came from) if ``record`` is over its stream's limit, else ``None``. A record of up to
        1 MiB fits every stream: only a larger one (or a configured limit) needs the stream's figure."""
        if record.size <= MAX_RECORD_BYTES and self._configured is None:
            return None
        limit, source = self.limit(record.stream)
        return (limit, source) if record.size > limit else None

    def limit(self, stream: str) -> Tuple[int, str]:
        """(bytes, where the figure came from) for ``stream``."""
        with self._lock:
            found = self._limits.get(stream)
        if found is None:
            found, keep = self._ask(stream)
            if keep:
                with self._lock:
                    self._limits[stream] = found
        return found

    def _ask(self, stream: str) -> Tuple[Tuple[int, str], bool]:
        """The limit and whether to keep it (a stream that does not exist yet is asked again)."""
        if self._configured is not None:
            return (self._configured, "sink.max-record-size"), True
        try:
            summary = call(self._policy, f"DescribeStreamSummary stream {stream}", self._client.describe_stream_summary,
                           StreamName=stream, give_up=None)["StreamDescriptionSummary"]
        except ClientError as e:  # not allowed (IAM), or no such stream (PutRecords will say so): the default
            return ((MAX_RECORD_BYTES, f"the Kinesis default: DescribeStreamSummary answered {error_code(e)}"),
                    error_code(e) != NOT_FOUND)
        kib = summary.get("MaxRecordSizeInKiB")
        if kib:
            return (kib * 1024, f"the stream's MaxRecordSizeInKiB {kib} (DescribeStreamSummary)"), True
        return (MAX_RECORD_BYTES, "the Kinesis default: the stream reports no MaxRecordSizeInKiB"), True


__all__ = ["RecordSizeLimits", "ShardPacer"]
