"""Bounded helpers for tests and benchmarks against a Kinesis endpoint: fresh streams, write, read back, wait."""

from __future__ import annotations

import base64
import itertools
import os
import time
from typing import Any, Callable, Dict, List, NamedTuple, Optional

from ..tools.local import create_stream

MAX_PUT_RECORDS = 500  # PutRecords' limit per call


def wait_until(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.5,
               check: Optional[Callable[[], None]] = None, details: Optional[Callable[[], str]] = None) -> Any:
    """Call ``condition`` until it returns something true, for at most ``timeout`` seconds; return that.

    Args:
        condition: What to wait for; its first true result is returned.
        timeout: Seconds before giving up with an ``AssertionError`` naming ``what``.
        what: The condition in words, for the error.
        interval: Seconds between calls.
        check: Called between calls; raises to stop waiting early (e.g. a child process exited).
        details: Text appended to the timeout error (e.g. the tail of a log).
    """
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            extra = f"\n{details()}" if details is not None else ""
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}{extra}")
        if check is not None:
            check()
        time.sleep(interval)


def read_stream(client: Any, stream: str, max_pages: int = 1000) -> List[Dict[str, Any]]:
    """Every record of ``stream`` now, per shard in order (shards in ListShards order), each with its ``ShardId``.

    A shard ends at its end (no next iterator) or at an empty page that is caught up (``MillisBehindLatest``
    0); at most ``max_pages`` GetRecords calls per shard.
    """
    records: List[Dict[str, Any]] = []
    for shard in client.list_shards(StreamName=stream)["Shards"]:
        iterator = client.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for _ in range(max_pages):
            response = client.get_records(ShardIterator=iterator, Limit=10000)
            records.extend(dict(r, ShardId=shard["ShardId"]) for r in response["Records"])
            iterator = response.get("NextShardIterator")
            if iterator is None or (not response["Records"] and response.get("MillisBehindLatest", 0) == 0):
                break
    return records


class AggUser(NamedTuple):
    """A user record as aws-kinesis-agg's de-aggregator gives it back, with the Kinesis record it came in."""

    partition_key: str
    data: bytes
    shard_id: str
    sequence_number: str
    sub_sequence_number: Optional[int]  # its index in the aggregate; None for a plain record


def users_by_agg_library(records: List[Dict[str, Any]]) -> List[AggUser]:
    """Each user record of ``records`` (:func:`read_stream`'s), de-aggregated by aws-kinesis-agg's own
    de-aggregator (not this project's code: it checks what our writers aggregate); a plain record is one user
    record. Needs ``aws-kinesis-agg`` (a test dependency)."""
    from aws_kinesis_agg import deaggregator

    out = []
    for r in records:
        for user in deaggregator.iter_deaggregate_records(
                [{k: r[k] for k in ("SequenceNumber", "PartitionKey", "ApproximateArrivalTimestamp", "Data")}],
                data_format="Boto3"):
            k = user["kinesis"]
            if k.get("aggregated"):
                out.append(AggUser(k["partitionKey"], base64.b64decode(k["data"]), r["ShardId"], k["sequenceNumber"],
                                   k["subSequenceNumber"]))
            else:  # a plain record comes as it is
                out.append(AggUser(k["partitionKey"], r["Data"], r["ShardId"], k["sequenceNumber"], None))
    return out


def put_all(client: Any, stream: str, entries: List[Dict[str, Any]], attempts: int = 20) -> List[Dict[str, Any]]:
    """PutRecords ``entries`` in calls of 500, retrying failed entries up to ``attempts`` times; the answer per
    entry, in order. Raises ``AssertionError`` if some could not be written."""
    results: List[Dict[str, Any]] = [{} for _ in entries]
    for start in range(0, len(entries), MAX_PUT_RECORDS):
        pending = list(range(start, min(start + MAX_PUT_RECORDS, len(entries))))
        for _ in range(attempts):
            answer = client.put_records(StreamName=stream, Records=[entries[i] for i in pending])
            failed = []
            for i, result in zip(pending, answer["Records"]):
                if "ErrorCode" in result:
                    failed.append(i)
                else:
                    results[i] = result
            pending = failed
            if not pending:
                break
        assert not pending, f"{len(pending)} entries could not be written to {stream}"
    return results


class Streams:
    """Fresh ACTIVE streams with names unique in this process and across processes: ``PREFIX-PID-N``.

    Args:
        client: A boto3 Kinesis client.
        prefix: The start of every name, e.g. the test's or benchmark's name.
    """

    _numbers = itertools.count(1)  # one sequence per process: two Streams objects never share a name

    def __init__(self, client: Any, prefix: str = "test") -> None:
        self.client = client
        self.prefix = f"{prefix}-{os.getpid()}"

    def new(self, shards: int = 1) -> str:
        """Create a stream of ``shards`` shards, wait until it is ACTIVE and return its name."""
        name = f"{self.prefix}-{next(Streams._numbers)}"
        create_stream(self.client, name, shards)
        return name

    def recreate(self, name: str, shards: int = 1, timeout: float = 60.0) -> None:
        """Delete stream ``name``, wait until it is gone, and create it again with ``shards`` shards (ACTIVE):
        the same name and shard ids, another creation time, none of the old records."""
        self.client.delete_stream(StreamName=name)

        def gone() -> bool:
            try:
                self.client.describe_stream_summary(StreamName=name)
            except self.client.exceptions.ResourceNotFoundException:
                return True
            return False

        wait_until(gone, timeout, f"stream {name} to be deleted")
        create_stream(self.client, name, shards, timeout)


def consumers(client: Any, stream: str) -> List[Dict[str, Any]]:
    """The enhanced fan-out consumers registered on ``stream`` (ListStreamConsumers)."""
    arn = client.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    return client.list_stream_consumers(StreamARN=arn).get("Consumers", [])


__all__ = ["Streams", "consumers", "put_all", "read_stream", "wait_until"]
