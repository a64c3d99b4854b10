"""SubscribeToShard subscriptions of enhanced fan-out, each read by a daemon thread into a small buffer.

A :class:`Subscription` is one SubscribeToShard call whose events a daemon thread reads into a small
buffer (at most :data:`EVENTS_BUFFERED` events; the thread blocks while it is full). The reader's thread
takes the events from the buffer, adapted to the shape of a GetRecords answer (:func:`as_response`), so
claiming, de-aggregation, the watermark and ``stop_when_caught_up`` are the polling reader's own code.

A subscription serves one starting position. It may be reused by a later ``process()`` call of the
same DoFn instance (a resumed checkpoint) only if that call starts exactly where the subscription
stands (:meth:`Subscription.matches`); otherwise it is closed and a new one starts from the cursor.
Before its first event a subscription retries, with backoff (:mod:`.retry`), ``ResourceInUseException``
(another subscription of the consumer on the shard is still active: Kinesis, and the emulator, release
it a few seconds after the previous connection closed) and throttling; its outcome is kept for the
reader to decide (resubscribe, fall back to GetRecords, or fail).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections import deque
from concurrent.futures import Future, InvalidStateError
from typing import Any, Deque, Dict, List, Optional, Tuple

from .positions import LATEST, ShardCursor, position_key
from .retry import RetryPolicy, timestamp_refused

_LOG = logging.getLogger(__name__)

# The NextShardIterator of an event adapted as a GetRecords answer: "the shard goes on" (never sent to Kinesis).
SUBSCRIBED = "<subscribed>"
EVENTS_BUFFERED = 4
# A subscription whose buffer stays full this long (no process() call takes its events) stops reading;
# Kinesis ends every subscription after 5 minutes anyway. Its buffered events stay usable.
STALLED_SECONDS = 300.0
# The retries of one subscription's SubscribeToShard attempts before its first event (about 20 s in all).
SUBSCRIBE_POLICY = RetryPolicy(max_attempts=8, initial_backoff=0.5, max_backoff=4.0)


def starting_position(cursor: ShardCursor) -> Dict[str, Any]:
    """The SubscribeToShard ``StartingPosition`` that resumes right after the cursor (as GetShardIterator would)."""
    args = cursor.iterator_args()
    position: Dict[str, Any] = {"Type": args["ShardIteratorType"]}
    if "StartingSequenceNumber" in args:
        position["SequenceNumber"] = args["StartingSequenceNumber"]
    if args.get("Timestamp") is not None:
        position["Timestamp"] = args["Timestamp"]
    return position


def as_response(event: Dict[str, Any]) -> Dict[str, Any]:
    """A SubscribeToShardEvent in the shape of a GetRecords answer.

    The shard ended when the event has no ``ContinuationSequenceNumber`` (then ``ChildShards`` names
    its children): ``NextShardIterator`` is ``None`` then, :data:`SUBSCRIBED` otherwise.
    """
    ended = event.get("ContinuationSequenceNumber") is None
    return {
        "Records": event.get("Records") or [],
        "MillisBehindLatest": event.get("MillisBehindLatest"),
        "ChildShards": event.get("ChildShards") or [],
        "NextShardIterator": None if ended else SUBSCRIBED,
        "ContinuationSequenceNumber": event.get("ContinuationSequenceNumber"),
    }


class Subscription:
    """One SubscribeToShard of a consumer on a shard, read by a daemon thread into a small buffer.

    Args:
        client: The boto3 client (adapted by :func:`tolerate_missing_initial_response` where ``aws.emulator`` is declared).
        consumer_arn: The consumer.
        cursor: Where the subscription starts: right after this cursor.
        policy: Retries before the first event (``ResourceInUseException``, throttling, 5xx).
    """

    def __init__(self, client: Any, consumer_arn: str, cursor: ShardCursor, policy: RetryPolicy) -> None:
        self.consumer_arn = consumer_arn
        self.shard_id = cursor.shard_id
        self.base = position_key(cursor)  # the buffer and the stream hold every record after this position
        self.last_used = time.monotonic()
        self.calls = 0  # SubscribeToShard calls made
        self.events_received = 0
        self.done = False  # the stream ended (5 minutes, shard end, error or close) and its thread is finishing
        self.error: Optional[BaseException] = None
        self._client = client
        self._starting = starting_position(cursor)
        self._policy = policy
        self._cond = threading.Condition()
        self._events: Deque[Dict[str, Any]] = deque()
        self._waiters: List[Future] = []
        self._closed = threading.Event()
        self._stream: Any = None
        self._thread = threading.Thread(target=self._run, name=f"kinesis-subscription-{self.shard_id}", daemon=True)
        self._thread.start()

    # The reader's side.
    def matches(self, cursor: ShardCursor) -> bool:
        """True if reading from ``cursor`` can continue on this subscription.

        That is when the cursor is where the subscription stands, or at a record of the first
        buffered event (a checkpoint in the middle of an event: the reader skips what it emitted).
        """
        key = position_key(cursor)
        if key == self.base:
            return True
        with self._cond:
            head = self._events[0] if self._events else None
        if head is None or key[:2] != self.base[:2] or cursor.sequence_number is None:
            return False
        return any(r.get("SequenceNumber") == cursor.sequence_number for r in head.get("Records") or ())

    def ready(self) -> Future:
        """A future done once an event is buffered or the subscription ended."""
        future: Future = Future()
        with self._cond:
            if self._events or self.done:
                future.set_result(None)
            else:
                self._waiters.append(future)
        return future

    def peek(self) -> Optional[Dict[str, Any]]:
        """The first buffered event (left in the buffer until :meth:`commit`), or ``None``."""
        self.last_used = time.monotonic()
        with self._cond:
            return self._events[0] if self._events else None

    def commit(self, cursor: ShardCursor) -> None:
        """The first buffered event was emitted completely: drop it; the subscription now stands at ``cursor``."""
        with self._cond:
            if self._events:
                self._events.popleft()
            self.base = position_key(cursor)
            self._cond.notify_all()

    def close(self) -> None:
        """End the subscription: its connection is shut so that Kinesis releases the (consumer, shard) lease."""
        self._closed.set()
        with self._cond:
            stream = self._stream
            self._cond.notify_all()
        if stream is not None:
            _shut(stream)
        self._finish(None)

    # The subscription's thread.
    def _run(self) -> None:
        attempts = self._policy.attempts(f"SubscribeToShard {self.consumer_arn} shard {self.shard_id}",
                                         self._closed.wait)
        try:
            attempts.call(self._read_events, recover=self._recover, give_up=None)
            self._finish(None)
        except BaseException as e:  # noqa: BLE001 - handed to the reader
            self._finish(None if self._closed.is_set() else e)
        finally:
            with self._cond:
                stream, self._stream = self._stream, None
            if stream is not None:
                _shut(stream)

    def _recover(self, error: BaseException) -> bool:
        """Before the first event: an AT_TIMESTAMP past the service's clock starts at LATEST instead; after it
        (or once closed) every error goes to the reader, which resubscribes from its cursor or fails."""
        if self.events_received or self._closed.is_set():
            raise error
        if timestamp_refused(error, self._starting["Type"]):
            _LOG.info("SubscribeToShard %s shard %s: the timestamp is past the service's clock; starting at LATEST",
                      self.consumer_arn, self.shard_id)
            self._starting = {"Type": LATEST}
            return True
        return False

    def _read_events(self) -> None:
        if self._closed.is_set():
            return
        self.calls += 1
        response = self._client.subscribe_to_shard(
            ConsumerARN=self.consumer_arn, ShardId=self.shard_id, StartingPosition=self._starting
        )
        with self._cond:
            self._stream = response["EventStream"]
        if self._closed.is_set():
            return
        for event in self._stream:  # ends after 5 minutes, at the shard's end, or when closed
            body = event.get("SubscribeToShardEvent")
            if body is None:
                continue
            if not self._put(body) or body.get("ContinuationSequenceNumber") is None:
                return

    def _put(self, event: Dict[str, Any]) -> bool:
        deadline = time.monotonic() + STALLED_SECONDS
        with self._cond:
            while len(self._events) >= EVENTS_BUFFERED and not self._closed.is_set():
                if time.monotonic() >= deadline:
                    return False  # stalled: end this subscription (a later read subscribes again)
                self._cond.wait(1.0)
            if self._closed.is_set():
                return False
            self._events.append(event)
            self.events_received += 1
            self._wake()
        return True

    def _finish(self, error: Optional[BaseException]) -> None:
        with self._cond:
            if not self.done:
                self.done = True
                self.error = error
            self._wake()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for future in waiters:
            try:
                future.set_result(None)
            except InvalidStateError:
                pass  # the reader cancelled it


def _shut(event_stream: Any) -> None:
    """Close an event stream's connection for good (a plain close may leave the socket to the pool)."""
    raw = getattr(event_stream, "_raw_stream", None)
    sock = getattr(getattr(raw, "_connection", None), "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    try:
        event_stream.close()
    except Exception:  # noqa: BLE001 - best effort
        pass


class Subscriptions:
    """The subscriptions of one DoFn instance, by (consumer, shard): a resumed restriction continues on them."""

    def __init__(self, policy: Optional[RetryPolicy] = None) -> None:
        self._policy = policy
        self._by_key: Dict[Tuple[str, str], Subscription] = {}

    def get(self, client: Any, consumer_arn: str, cursor: ShardCursor) -> Tuple[Subscription, bool]:
        """The subscription to read ``cursor``'s shard from the cursor on, and whether it was just opened."""
        key = (consumer_arn, cursor.shard_id)
        current = self._by_key.get(key)
        if current is not None and current.matches(cursor):
            current.last_used = time.monotonic()
            return current, False
        if current is not None:
            current.close()
        opened = Subscription(client, consumer_arn, cursor, self._policy or SUBSCRIBE_POLICY)
        self._by_key[key] = opened
        return opened, True

    def current(self, consumer_arn: str, shard_id: str) -> Optional[Subscription]:
        """The subscription of the shard, if any."""
        return self._by_key.get((consumer_arn, shard_id))

    def close(self, consumer_arn: str, shard_id: Optional[str] = None) -> None:
        """Close the consumer's subscription on ``shard_id``, or all of the consumer's subscriptions."""
        for key in [k for k in self._by_key if k[0] == consumer_arn and shard_id in (None, k[1])]:
            self._by_key.pop(key).close()

    def close_idle(self, seconds: float) -> None:
        """Close subscriptions no ``process()`` call used for ``seconds`` (their restriction went elsewhere)."""
        now = time.monotonic()
        for key in [k for k, s in self._by_key.items() if now - s.last_used > seconds]:
            self._by_key.pop(key).close()

    def close_all(self) -> None:
        """Close every subscription (teardown)."""
        for subscription in self._by_key.values():
            subscription.close()
        self._by_key.clear()
