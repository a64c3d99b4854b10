"""A Kinesis shard's limits and where a record goes: one place for the writers' pacing and the test proxy.

Per shard (provisioned and on-demand alike) the service takes at most 1 MiB/s **and** 1,000 records/s of
writes and serves at most 5 GetRecords calls/s and 2 MiB/s of reads, in one-second windows. A record goes to
the open shard whose hash key range holds its hash key: its explicit hash key, else the MD5 of its partition
key (UTF-8) as a 128-bit number. :class:`SlidingWindow` keeps what one shard took in the last second;
:class:`ShardRanges` is a stream's shard map from ListShards.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Deque, Dict, Iterable, List, Optional, Tuple

# The figures live in shard_limits.json beside this module, which the Java sink reads too (sink.ShardLimits).
_LIMITS: Dict[str, Any] = json.loads(Path(__file__).with_name("shard_limits.json").read_text(encoding="utf-8"))
SHARD_WRITE_RECORDS: int = _LIMITS["shard_write_records"]  # records per second and shard
SHARD_WRITE_BYTES: int = _LIMITS["shard_write_bytes"]  # bytes (data plus partition key) per second and shard
SHARD_READ_CALLS: int = _LIMITS["shard_read_calls"]  # GetRecords calls per second and shard
SHARD_READ_BYTES: int = _LIMITS["shard_read_bytes"]  # bytes per second and shard, GetRecords answers
DEFAULT_MAX_RECORD_BYTES: int = _LIMITS["default_max_record_bytes"]  # a stream's record limit unless raised
MAX_RECORD_SIZE_LIMIT: int = _LIMITS["max_record_size_limit"]  # the largest MaxRecordSizeInKiB a stream can have
MAX_REQUEST_BYTES: int = _LIMITS["max_request_bytes"]  # PutRecords: bytes per request where the stream allows large records


def hash_key_of(partition_key: str, explicit_hash_key: Optional[str] = None) -> int:
    """The 128-bit hash key Kinesis places a record by: its explicit hash key, else the MD5 of its partition key."""
    if explicit_hash_key is not None:
        return int(explicit_hash_key)
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


@dataclass(frozen=True)
class ShardRange:
    """One open shard and its hash key range (both ends included)."""

    shard_id: str
    start: int
    end: int

    def holds(self, hash_key: int) -> bool:
        """True if ``hash_key`` falls in this shard's range."""
        return self.start <= hash_key <= self.end


class ShardRanges:
    """The open shards of a stream by hash key range, from ListShards (or DescribeStream) shard entries.

    Args:
        shards: The ``Shards`` entries; closed ones (with an ``EndingSequenceNumber``) are left out.
    """

    def __init__(self, shards: Iterable[Dict[str, Any]]) -> None:
        ranges = [ShardRange(s["ShardId"], int(s["HashKeyRange"]["StartingHashKey"]),
                             int(s["HashKeyRange"]["EndingHashKey"]))
                  for s in shards if not s.get("SequenceNumberRange", {}).get("EndingSequenceNumber")]
        self.ranges: List[ShardRange] = sorted(ranges, key=lambda r: r.start)
        self._starts = [r.start for r in self.ranges]
        self._by_id = {r.shard_id: r for r in self.ranges}

    def find(self, hash_key: int) -> Optional[ShardRange]:
        """The open shard holding ``hash_key``, or ``None`` (a map that is out of date)."""
        i = bisect.bisect_right(self._starts, hash_key) - 1
        if i >= 0 and self.ranges[i].holds(hash_key):
            return self.ranges[i]
        return None

    def get(self, shard_id: str) -> Optional[ShardRange]:
        """The open shard ``shard_id``, or ``None``."""
        return self._by_id.get(shard_id)

    def __len__(self) -> int:
        return len(self.ranges)


class SlidingWindow:
    """What one shard took in the last ``period`` seconds (records and bytes), against its limits.

    Not thread safe: callers hold their own lock. Times are a caller's monotonic clock. A use larger than a
    whole window's budget fits an empty window (the service lets a record over 1 MiB through alone).

    Args:
        max_records: Records (or calls) per period.
        max_bytes: Bytes per period.
        period: The window's length in seconds.
    """

    def __init__(self, max_records: float, max_bytes: float, period: float = 1.0) -> None:
        self.max_records = max_records
        self.max_bytes = max_bytes
        self.period = period
        self._events: Deque[Tuple[float, int, int]] = deque()
        self._records = 0
        self._bytes = 0

    def usage(self, now: float) -> Tuple[int, int]:
        """(records, bytes) taken in the window ending at ``now``."""
        while self._events and self._events[0][0] <= now - self.period:
            _, n, b = self._events.popleft()
            self._records -= n
            self._bytes -= b
        return self._records, self._bytes

    def fits(self, now: float, records: int, size: int) -> bool:
        """True if ``records`` more records of ``size`` bytes in all stay within the limits at ``now``."""
        n, b = self.usage(now)
        if n == 0 and b == 0:
            return True
        return n + records <= self.max_records and b + size <= self.max_bytes

    def add(self, at: float, records: int, size: int) -> None:
        """Count ``records`` records of ``size`` bytes taken at ``at`` (not earlier than earlier adds)."""
        self._events.append((at, records, size))
        self._records += records
        self._bytes += size

    def wait(self, now: float, records: int, size: int) -> float:
        """Seconds from ``now`` until ``records`` records of ``size`` bytes fit."""
        n, b = self.usage(now)
        if self.fits(now, records, size):
            return 0.0
        for at, used_n, used_b in self._events:  # the oldest leave the window first
            n -= used_n
            b -= used_b
            if (n == 0 and b == 0) or (n + records <= self.max_records and b + size <= self.max_bytes):
                return max(0.0, at + self.period - now)
        return 0.0  # unreachable: an empty window fits anything


__all__ = [
    "DEFAULT_MAX_RECORD_BYTES",
    "MAX_RECORD_SIZE_LIMIT",
    "MAX_REQUEST_BYTES",
    "SHARD_READ_BYTES",
    "SHARD_READ_CALLS",
    "SHARD_WRITE_BYTES",
    "SHARD_WRITE_RECORDS",
    "ShardRange",
    "ShardRanges",
    "SlidingWindow",
    "hash_key_of",
]
