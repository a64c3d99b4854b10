"""Enhanced fan-out (EFO) for ``ReadFromKinesis``: stream consumers and SubscribeToShard subscriptions.

A *consumer* is registered on a stream once (RegisterStreamConsumer with the stream's ARN from
DescribeStreamSummary, then DescribeStreamConsumer until it is ACTIVE) or reused when it already
exists. The reader then reads each shard through a :class:`Subscription`: one SubscribeToShard call
whose events a daemon thread reads into a small buffer (at most :data:`EVENTS_BUFFERED` events;
the thread blocks while it is full). The reader's thread takes the events from the buffer, adapted
to the shape of a GetRecords answer (:func:`as_response`), so claiming, de-aggregation, the
watermark and ``stop_when_caught_up`` are the polling reader's own code.

A subscription serves one starting position. It may be reused by a later ``process()`` call of the
same DoFn instance (a resumed checkpoint) only if that call starts exactly where the subscription
stands (:meth:`Subscription.matches`); otherwise it is closed and a new one starts from the cursor.
Before its first event a subscription retries, with backoff, ``ResourceInUseException`` (another
subscription of the consumer on the shard is still active: Kinesis, and the emulator, release it a
few seconds after the previous connection closed) and throttling; its outcome is kept for the reader
to decide (resubscribe, fall back to GetRecords, or fail).

:class:`FanOut` is what the reader's splittable DoFn keeps for enhanced fan-out: the consumers,
the subscriptions, and which shards are read with GetRecords instead. The reader asks it whether a
shard is subscribed, for a future done at the shard's next event, and for that event.

Metrics cannot be incremented on the subscription threads (Beam's metric container is per
``process()`` thread): :class:`FanOut` counts, on the reader's thread, what the subscriptions report.
"""

from __future__ import annotations

import ipaddress
import itertools
import logging
import socket
import threading
import time
from collections import deque
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple
from urllib.parse import urlsplit

from beam_transforms.settings import CONSUMER_LIFECYCLES, CONSUMER_NAME, JOB_MANAGED, SELF_MANAGED, ReadSettings

from .restriction import AT_TIMESTAMP, LATEST, ShardCursor
from .shards import Backoff, KinesisReadError, error_code, is_retryable

_LOG = logging.getLogger(__name__)

IN_USE = "ResourceInUseException"
NOT_FOUND = "ResourceNotFoundException"
# The NextShardIterator of an event adapted as a GetRecords answer: "the shard goes on" (never sent to Kinesis).
SUBSCRIBED = "<subscribed>"
EVENTS_BUFFERED = 4
CONSUMER_TIMEOUT = 120.0  # seconds to wait for a consumer to become ACTIVE
CONSUMER_POLL = 0.2
# A subscription whose buffer stays full this long (no process() call takes its events) stops reading;
# Kinesis ends every subscription after 5 minutes anyway. Its buffered events stay usable.
STALLED_SECONDS = 300.0
# Errors of a subscription that a new subscription may fix (besides throttling and 5xx).
_TRANSIENT_EVENT_ERRORS = frozenset({"InternalFailure", "InternalFailureException", "ServiceUnavailable"})


def subscribe_backoff() -> Backoff:
    """The backoff of one subscription's SubscribeToShard attempts before its first event (about 20 s in all)."""
    return Backoff(base=0.5, cap=4.0, max_attempts=8)


def is_transient(error: BaseException) -> bool:
    """Throttling, 5xx, dropped or timed-out connections: errors a new subscription may not meet."""
    if is_retryable(error) or error_code(error) in _TRANSIENT_EVENT_ERRORS:
        return True
    try:
        from urllib3.exceptions import HTTPError as Urllib3Error
    except ImportError:  # pragma: no cover - botocore depends on urllib3
        return isinstance(error, OSError)
    return isinstance(error, (Urllib3Error, OSError))


# ---------------------------------------------------------------- the emulator's event stream


def _is_loopback(url: Optional[str]) -> bool:
    host = urlsplit(url or "").hostname
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tolerate_missing_initial_response(client: Any) -> bool:
    """Let a client of a *local emulator* (loopback endpoint) read SubscribeToShard; True if it was changed.

    Why: botocore reads the first message of an event stream as the ``initial-response`` and fails
    ("First event was not of type initial-response") when it is not. Kinesis sends one; the local
    emulator (kinesis-local 0.6.2) starts with the first SubscribeToShardEvent. For a loopback
    endpoint only, the client's JSON response parser (a private attribute of botocore's endpoint)
    is replaced by one that puts such a first event back in front of the stream. Clients of real
    AWS endpoints are left exactly as boto3 made them.
    """
    if not _is_loopback(getattr(getattr(client, "meta", None), "endpoint_url", None)):
        return False
    endpoint = getattr(client, "_endpoint", None)
    if endpoint is None or not hasattr(endpoint, "_response_parser_factory"):
        _LOG.warning("cannot adapt the local endpoint's SubscribeToShard parsing (botocore changed?)")
        return False
    factory = _emulator_parser_factory()
    if not isinstance(endpoint._response_parser_factory, factory):
        endpoint._response_parser_factory = factory()
    return True


_FACTORY: List[type] = []


def _emulator_parser_factory() -> type:
    """A botocore ResponseParserFactory whose JSON parser accepts a missing ``initial-response`` (built once)."""
    if _FACTORY:
        return _FACTORY[0]
    from botocore import parsers

    class EmulatorJSONParser(parsers.JSONParser):
        """botocore's JSON parser, but an event stream may lack its ``initial-response`` message."""

        def _handle_event_stream(self, response: Any, shape: Any, event_name: str) -> Dict[str, Any]:
            event_stream = self._create_event_stream(response, shape.members[event_name])
            raw_events = event_stream._event_generator
            first = next(raw_events, None)
            if first is not None and first.headers.get(":event-type") == "initial-response":
                parsed = self._handle_json_body(first.payload, shape)
            else:
                parsed = {}
                if first is not None:
                    event_stream._event_generator = itertools.chain([first], raw_events)
            parsed[event_name] = event_stream
            return parsed

    class Factory(parsers.ResponseParserFactory):
        def create_parser(self, protocol_name: str) -> Any:
            if protocol_name == "json":
                return EmulatorJSONParser()
            return super().create_parser(protocol_name)

    _FACTORY.append(Factory)
    return Factory


# ---------------------------------------------------------------- consumers


@dataclass(frozen=True)
class StreamConsumer:
    """A registered (ACTIVE) consumer of one stream."""

    stream: str
    stream_arn: str
    name: str
    arn: str


def describe_stream_arn(client: Any, stream: str, consumer: str, backoff: Backoff) -> str:
    """The stream's ARN from DescribeStreamSummary; a missing stream fails naming ``consumer``."""
    try:
        summary = backoff.call(f"DescribeStreamSummary stream {stream}", client.describe_stream_summary,
                               StreamName=stream)
    except Exception as e:  # noqa: BLE001
        if error_code(e) == NOT_FOUND:
            raise KinesisReadError(
                f"enhanced fan-out consumer {consumer}: stream {stream} does not exist ({e})"
            ) from e
        raise
    return str(summary["StreamDescriptionSummary"]["StreamARN"])


def _describe(client: Any, backoff: Backoff, what: str, **kwargs: Any) -> Optional[Dict[str, Any]]:
    try:
        return backoff.call(f"DescribeStreamConsumer {what}", client.describe_stream_consumer,
                            **kwargs)["ConsumerDescription"]
    except Exception as e:  # noqa: BLE001
        if error_code(e) == NOT_FOUND:
            return None
        raise


def resolve_consumer(
    client: Any,
    stream: str,
    backoff: Backoff,
    name: Optional[str] = None,
    arn: Optional[str] = None,
    timeout: float = CONSUMER_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> StreamConsumer:
    """The ACTIVE consumer ``name`` of ``stream`` (registered if missing), or the existing consumer ``arn``.

    Waits (at most ``timeout`` seconds) while it is CREATING, or DELETING before it can be registered again.
    """
    label = repr(name) if name is not None else str(arn)
    stream_arn = describe_stream_arn(client, stream, label, backoff)
    what = f"enhanced fan-out consumer {label} of stream {stream}"
    lookup = {"ConsumerARN": arn} if arn is not None else {"StreamARN": stream_arn, "ConsumerName": name}
    deadline = clock() + timeout
    while True:
        description = _describe(client, backoff, what, **lookup)
        if description is None and arn is not None:
            raise KinesisReadError(f"{what} does not exist")
        if description is None:
            try:
                backoff.call(f"RegisterStreamConsumer {what}", client.register_stream_consumer,
                             StreamARN=stream_arn, ConsumerName=name)
                _LOG.info("%s: registered", what)
            except Exception as e:  # noqa: BLE001
                if error_code(e) != IN_USE:  # IN_USE: registered meanwhile, or still being deleted
                    raise KinesisReadError(f"{what}: RegisterStreamConsumer failed: {e}") from e
            status = "not registered"
        else:
            if description.get("StreamARN", stream_arn) != stream_arn:
                raise KinesisReadError(f"{what} belongs to another stream ({description['StreamARN']})")
            status = description["ConsumerStatus"]
            if status == "ACTIVE":
                return StreamConsumer(stream, stream_arn, description["ConsumerName"], description["ConsumerARN"])
        if clock() >= deadline:
            raise KinesisReadError(f"{what} is not ACTIVE after {timeout:.0f} s (it is {status})")
        sleep(CONSUMER_POLL)


def deregister_consumer(client: Any, consumer: StreamConsumer, backoff: Backoff) -> None:
    """DeregisterStreamConsumer; a consumer already gone is fine."""
    what = f"enhanced fan-out consumer {consumer.name!r} of stream {consumer.stream}"
    try:
        backoff.call(f"DeregisterStreamConsumer {what}", client.deregister_stream_consumer, ConsumerARN=consumer.arn)
    except Exception as e:  # noqa: BLE001
        if error_code(e) != NOT_FOUND:
            raise
    _LOG.info("%s: deregistered", what)


# ---------------------------------------------------------------- subscriptions


def position_key(cursor: ShardCursor) -> Tuple[Any, ...]:
    """Where a cursor stands, as far as where reading continues is concerned."""
    return (cursor.start_type, cursor.start_timestamp, cursor.sequence_number, cursor.sub_sequence_number)


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
        client: The boto3 client (its endpoint adapted by :func:`tolerate_missing_initial_response` if local).
        consumer_arn: The consumer.
        cursor: Where the subscription starts: right after this cursor.
        backoff: Retries before the first event (``ResourceInUseException``, throttling, 5xx).
    """

    def __init__(self, client: Any, consumer_arn: str, cursor: ShardCursor, backoff: Backoff) -> None:
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
        self._backoff = backoff
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
        attempt = 0
        try:
            while not self._closed.is_set():
                try:
                    self._read_events()
                    break
                except Exception as e:  # noqa: BLE001 - classified below
                    if self.events_received or self._closed.is_set():
                        raise
                    code = error_code(e)
                    if code == "InvalidArgumentException" and self._starting["Type"] == AT_TIMESTAMP \
                            and "future" in str(e):
                        self._starting = {"Type": LATEST}  # the pinned LATEST is ahead of the service's clock
                        continue
                    if not (code == IN_USE or is_transient(e)) or attempt + 1 >= self._backoff.max_attempts:
                        raise
                    delay = self._backoff.delay(attempt)
                    _LOG.info("SubscribeToShard %s shard %s: %s; retrying in %.2f s", self.consumer_arn,
                              self.shard_id, code or type(e).__name__, delay)
                    self._closed.wait(delay)
                    attempt += 1
            self._finish(None)
        except BaseException as e:  # noqa: BLE001 - handed to the reader
            self._finish(None if self._closed.is_set() else e)
        finally:
            with self._cond:
                stream, self._stream = self._stream, None
            if stream is not None:
                _shut(stream)

    def _read_events(self) -> None:
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

    def __init__(self, backoff_factory: Optional[Callable[[], Backoff]] = None) -> None:
        self._backoff_factory = backoff_factory
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
        opened = Subscription(client, consumer_arn, cursor, (self._backoff_factory or subscribe_backoff)())
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



# ---------------------------------------------------------------- the reader's side

MAX_RESUBSCRIPTIONS = 10  # subscriptions in a row that may end without an event before the read fails


class FanOut:
    """Enhanced fan-out for one reader DoFn instance; the restriction tracker still owns every position.

    Args:
        client: The reader's boto3 client.
        settings: The read settings (consumer name or ARN, lifecycle, checkpoint interval).
        backoff: Retries of the consumer calls.
        count: ``count(name)`` increments the reader's counter ``name`` (``efo_events``, ``efo_subscriptions``,
            ``efo_resubscriptions``, ``efo_fallbacks``, ``efo_closed_shards_polled``); called on the reader's thread.
    """

    def __init__(self, client: Any, settings: ReadSettings, backoff: Backoff, count: Callable[[str], None]) -> None:
        self._client = client
        self._settings = settings
        self._backoff = backoff
        self._count = count
        self._consumers: Dict[str, StreamConsumer] = {}
        self._subscriptions = Subscriptions()
        self._polling: set = set()  # (stream, shard) read with GetRecords: closed, or held by another subscription
        self._closed: Dict[str, set] = {}  # per stream, the shards the last ListShards showed closed
        self._failures: Dict[Tuple[str, str], int] = {}  # subscriptions in a row that ended without an event

    def begin(self, stream: str) -> bool:
        """A ``process()`` call starts on ``stream``: close idle subscriptions; True if ListShards must run now."""
        self._subscriptions.close_idle(max(60.0, 3 * self._settings.checkpoint_interval))
        return stream not in self._closed

    def listed(self, stream: str, closed: set) -> None:
        """ListShards showed these shards of ``stream`` closed (see :meth:`caught_up`)."""
        self._closed[stream] = closed

    def subscribes(self, stream: str, shard_id: str) -> bool:
        """True if the shard is read by a subscription (it did not switch to GetRecords)."""
        return (stream, shard_id) not in self._polling

    def ready(self, stream: str, cursor: ShardCursor) -> Future:
        """The shard's subscription from the cursor on (reused or opened): a future done at its next event."""
        subscription, opened = self._subscriptions.get(self._client, self._consumer(stream).arn, cursor)
        if opened:
            self._count("efo_subscriptions")
        return subscription.ready()

    def take(self, stream: str, cursor: ShardCursor) -> Optional[Dict[str, Any]]:
        """The shard's next event as a GetRecords answer; ``None`` when the subscription ended without one.

        An ended subscription is replaced by a new one from the cursor (it lasted its 5 minutes, or met a
        transient error; at most :data:`MAX_RESUBSCRIPTIONS` in a row without an event). One that never got
        an event because another subscription held the shard (``ResourceInUseException`` after its
        retries) switches the shard to GetRecords, from the cursor (``efo_fallbacks``). Any other error
        fails the read, naming the consumer and shard.
        """
        consumer = self._consumer(stream)
        subscription = self._subscriptions.current(consumer.arn, cursor.shard_id)
        if subscription is None:
            return None
        event = subscription.peek()
        if event is not None:
            self._count("efo_events")
            self._failures.pop((stream, cursor.shard_id), None)
            return as_response(event)
        if not subscription.done:
            return None
        self._subscriptions.close(consumer.arn, cursor.shard_id)
        error = subscription.error
        where = f"enhanced fan-out consumer {consumer.name!r} of stream {stream}, shard {cursor.shard_id}"
        if error is not None and not subscription.events_received and error_code(error) == IN_USE:
            _LOG.warning("%s: another subscription holds the shard (%s); reading it with GetRecords instead",
                         where, error)
            self._count("efo_fallbacks")
            self._switch_to_polling(stream, cursor.shard_id)
            return None
        if error is not None and not (subscription.events_received and
                                      (is_transient(error) or error_code(error) == IN_USE)):
            raise KinesisReadError(f"{where}: SubscribeToShard failed: {error}") from error
        failures = self._failures.get((stream, cursor.shard_id), 0) + 1
        if failures > MAX_RESUBSCRIPTIONS:
            raise KinesisReadError(f"{where}: {failures - 1} subscriptions in a row ended without an event")
        self._failures[(stream, cursor.shard_id)] = failures
        _LOG.info("%s: the subscription ended (%s); subscribing again from the last record read", where,
                  error or "expired")
        self._count("efo_resubscriptions")
        return None

    def emitted(self, stream: str, cursor: ShardCursor) -> None:
        """The subscription's first event was emitted completely: drop it; the subscription stands at ``cursor``."""
        subscription = self._subscriptions.current(self._consumer(stream).arn, cursor.shard_id)
        if subscription is not None:
            subscription.commit(cursor)

    def shard_ended(self, stream: str, shard_id: str) -> None:
        """The shard was read to its end (or left the restriction): close its subscription."""
        self._subscriptions.close(self._consumer(stream).arn, shard_id)
        self._polling.discard((stream, shard_id))

    def caught_up(self, stream: str, shard_id: str) -> bool:
        """A subscribed shard sent an empty, caught-up event: if ListShards shows it closed, poll its end
        (True then: the reader forgets what it knew of the shard's subscription).

        Kinesis ends a closed shard's subscription with an event naming its ``ChildShards``. The local
        emulator never does: it sends empty events forever. A shard that ListShards (run every
        ``shard_discovery_interval``) shows with an ``EndingSequenceNumber`` is therefore read from the
        cursor to its end with GetRecords, whose answer at the end has no ``NextShardIterator``.
        """
        if shard_id in self._closed.get(stream, ()):
            _LOG.info("stream %s shard %s is closed: reading its end with GetRecords", stream, shard_id)
            self._count("efo_closed_shards_polled")
            self._switch_to_polling(stream, shard_id)
            return True
        return False

    def release(self, stream: str, shard_ids: Any, failed: Optional[BaseException] = None) -> None:
        """A restriction of ``stream`` ended (or failed): close its shards' subscriptions; deregister a
        job-managed consumer (a job-managed read keeps each stream in one restriction)."""
        consumer = self._consumers.get(stream)
        if consumer is None:
            return
        for shard_id in shard_ids:
            self._subscriptions.close(consumer.arn, shard_id)
        if self._settings.consumer_lifecycle != JOB_MANAGED:
            return
        self._subscriptions.close(consumer.arn)
        self._consumers.pop(stream, None)
        try:
            deregister_consumer(self._client, consumer, self._backoff)
        except Exception as e:  # noqa: BLE001
            if failed is None:
                raise
            _LOG.warning("could not deregister %s after the read failed: %s", consumer.arn, e)

    def close_all(self) -> None:
        """Close every subscription (teardown)."""
        self._subscriptions.close_all()

    def _consumer(self, stream: str) -> StreamConsumer:
        consumer = self._consumers.get(stream)
        if consumer is None:
            settings = self._settings
            consumer = resolve_consumer(self._client, stream, self._backoff, name=settings.consumer_name,
                                        arn=settings.consumer_arn)
            self._consumers[stream] = consumer
        return consumer

    def _switch_to_polling(self, stream: str, shard_id: str) -> None:
        self._subscriptions.close(self._consumer(stream).arn, shard_id)
        self._polling.add((stream, shard_id))


__all__ = [
    "CONSUMER_LIFECYCLES",
    "CONSUMER_NAME",
    "FanOut",
    "JOB_MANAGED",
    "SELF_MANAGED",
    "StreamConsumer",
    "Subscription",
    "Subscriptions",
    "as_response",
    "deregister_consumer",
    "describe_stream_arn",
    "resolve_consumer",
    "starting_position",
    "tolerate_missing_initial_response",
]
