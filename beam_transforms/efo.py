"""Enhanced fan-out (EFO) for ``ReadFromKinesis``: what the reader's splittable DoFn keeps for it.

:class:`FanOut` holds the consumers (:mod:`.consumers`), the subscriptions (:mod:`.subscription`), and
which shards are read with GetRecords instead. The reader asks it whether a shard is subscribed, for a
future done at the shard's next event, and for that event. The event streams of an endpoint declared an
emulator (``aws.emulator``) are read through :func:`tolerate_missing_initial_response` (:mod:`.emulator_events`).

Metrics cannot be incremented on the subscription threads (Beam's metric container is per
``process()`` thread): :class:`FanOut` counts, on the reader's thread, what the subscriptions report.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from typing import Any, Callable, Dict, Optional, Tuple

from beam_transforms.settings import CONSUMER_LIFECYCLES, CONSUMER_NAME, JOB_MANAGED, SELF_MANAGED, ReadSettings

from .consumers import (
    CONSUMER_POLL,
    CONSUMER_TIMEOUT,
    StreamConsumer,
    deregister_consumer,
    describe_stream_arn,
    resolve_consumer,
)
from .emulator_events import tolerate_missing_initial_response
from .fetch import gone
from .positions import ShardCursor, position_key
from .retry import IN_USE, NOT_FOUND, KinesisReadError, RetryPolicy, error_code, is_retryable
from .subscription import (
    EVENTS_BUFFERED,
    STALLED_SECONDS,
    SUBSCRIBE_POLICY,
    SUBSCRIBED,
    Subscription,
    Subscriptions,
    as_response,
    starting_position,
)

_LOG = logging.getLogger(__name__)

MAX_RESUBSCRIPTIONS = 10  # subscriptions in a row that may end without an event before the read fails


class FanOut:
    """Enhanced fan-out for one reader DoFn instance; the restriction tracker still owns every position.

    Args:
        client: The reader's boto3 client.
        settings: The read settings (consumer name or ARN, lifecycle, checkpoint interval).
        policy: Retries of the consumer calls.
        count: ``count(name)`` increments the reader's counter ``name`` (``efo_events``, ``efo_subscriptions``,
            ``efo_resubscriptions``, ``efo_fallbacks``, ``efo_closed_shards_polled``); called on the reader's thread.
    """

    def __init__(self, client: Any, settings: ReadSettings, policy: RetryPolicy, count: Callable[[str], None]) -> None:
        self._client = client
        self._settings = settings
        self._policy = policy
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
        transient error; at most :data:`MAX_RESUBSCRIPTIONS` in a row without an event). ``ResourceNotFoundException``
        gives a :func:`~.fetch.gone` answer, as GetRecords does. One that never got
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
        if error is not None and error_code(error) == NOT_FOUND:
            return gone(error)  # the shard expired, or the consumer or stream is gone: the reader tells which
        if error is not None and not (subscription.events_received and is_retryable(error)):
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
            deregister_consumer(self._client, consumer, self._policy)
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
            consumer = resolve_consumer(self._client, stream, self._policy, name=settings.consumer_name,
                                        arn=settings.consumer_arn)
            self._consumers[stream] = consumer
        return consumer

    def _switch_to_polling(self, stream: str, shard_id: str) -> None:
        self._subscriptions.close(self._consumer(stream).arn, shard_id)
        self._polling.add((stream, shard_id))


__all__ = [
    "CONSUMER_LIFECYCLES",
    "CONSUMER_NAME",
    "CONSUMER_POLL",
    "CONSUMER_TIMEOUT",
    "EVENTS_BUFFERED",
    "FanOut",
    "IN_USE",
    "JOB_MANAGED",
    "NOT_FOUND",
    "SELF_MANAGED",
    "STALLED_SECONDS",
    "SUBSCRIBED",
    "SUBSCRIBE_POLICY",
    "StreamConsumer",
    "Subscription",
    "Subscriptions",
    "as_response",
    "deregister_consumer",
    "describe_stream_arn",
    "position_key",
    "resolve_consumer",
    "starting_position",
    "tolerate_missing_initial_response",
]
