"""Enhanced fan-out consumers: the stream's ARN, registering (or finding) a consumer until it is ACTIVE, deregistering.

A consumer is registered on a stream once (RegisterStreamConsumer with the stream's ARN from
DescribeStreamSummary, then DescribeStreamConsumer until it is ACTIVE) or reused when it already exists.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional

from .retry import IN_USE, NOT_FOUND, KinesisReadError, RetryPolicy, call, error_code, propagate

_LOG = logging.getLogger(__name__)

CONSUMER_TIMEOUT = 120.0  # seconds to wait for a consumer to become ACTIVE
CONSUMER_POLL = 0.2


@dataclass(frozen=True)
class StreamConsumer:
    """A registered (ACTIVE) consumer of one stream."""

    stream: str
    stream_arn: str
    name: str
    arn: str


def describe_stream_arn(client: Any, stream: str, consumer: str, policy: RetryPolicy) -> str:
    """The stream's ARN from DescribeStreamSummary; a missing stream fails naming ``consumer``."""
    try:
        summary = call(policy, f"DescribeStreamSummary stream {stream}", client.describe_stream_summary,
                       StreamName=stream)
    except Exception as e:  # noqa: BLE001
        if error_code(e) == NOT_FOUND:
            raise KinesisReadError(
                f"enhanced fan-out consumer {consumer}: stream {stream} does not exist ({e})"
            ) from e
        raise
    return str(summary["StreamDescriptionSummary"]["StreamARN"])


def _describe(client: Any, policy: RetryPolicy, what: str, **kwargs: Any) -> Optional[Dict[str, Any]]:
    try:
        return call(policy, f"DescribeStreamConsumer {what}", client.describe_stream_consumer,
                    **kwargs)["ConsumerDescription"]
    except Exception as e:  # noqa: BLE001
        if error_code(e) == NOT_FOUND:
            return None
        raise


def resolve_consumer(
    client: Any,
    stream: str,
    policy: RetryPolicy,
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
    stream_arn = describe_stream_arn(client, stream, label, policy)
    what = f"enhanced fan-out consumer {label} of stream {stream}"
    lookup = {"ConsumerARN": arn} if arn is not None else {"StreamARN": stream_arn, "ConsumerName": name}
    deadline = clock() + timeout
    while True:
        description = _describe(client, policy, what, **lookup)
        if description is None and arn is not None:
            raise KinesisReadError(f"{what} does not exist")
        if description is None:
            try:
                call(policy, f"RegisterStreamConsumer {what}", client.register_stream_consumer,
                     recover=propagate(IN_USE), StreamARN=stream_arn, ConsumerName=name)
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


def deregister_consumer(client: Any, consumer: StreamConsumer, policy: RetryPolicy) -> None:
    """DeregisterStreamConsumer; a consumer already gone is fine."""
    what = f"enhanced fan-out consumer {consumer.name!r} of stream {consumer.stream}"
    try:
        call(policy, f"DeregisterStreamConsumer {what}", client.deregister_stream_consumer, ConsumerARN=consumer.arn)
    except Exception as e:  # noqa: BLE001
        if error_code(e) != NOT_FOUND:
            raise
    _LOG.info("%s: deregistered", what)
