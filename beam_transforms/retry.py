"""The one retry layer of the Beam transforms' Kinesis calls: reads, writes and enhanced fan-out alike.

One error-code extractor (:func:`error_code`), one classifier (:func:`classify`, by the codes of
``pyflink_kinesis/spec/error_codes.txt``), one backoff (:class:`RetryPolicy`) and one retry loop
(:meth:`Attempts.call`): it warns once, naming the operation (stream and shard), when the endpoint stops
answering, and gives up after the policy's total time. The transforms' boto3 clients make one attempt per
call (:func:`pyflink_kinesis.spec.boto.transform_client`), so botocore's own retries never multiply these,
and a rate limit applied per attempt sees every call.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional, Type, TypeVar, Union

from beam_transforms.settings import DEFAULT_MAX_RETRY_TIME
from pyflink_kinesis.spec.error_codes import (
    CALL,
    ENTRY,
    EXPIRED_ITERATOR,
    REJECTED,
    RETRYABLE_KINDS,
    TRANSIENT,
    kind_of,
)

from .positions import AT_TIMESTAMP

_LOG = logging.getLogger(__name__)
T = TypeVar("T")

# Codes the callers act on by themselves (besides the kinds of ``error_codes.txt``).
INVALID_ARGUMENT = "InvalidArgumentException"
NOT_FOUND = "ResourceNotFoundException"
IN_USE = "ResourceInUseException"
# A recovery hook of :meth:`Attempts.call`: True if it fixed the cause (call again at once), False to let the
# error be classified; it may raise an error of its own.
Recover = Callable[[BaseException], bool]


class KinesisReadError(RuntimeError):
    """Reading from Kinesis failed for good (retries exhausted, or an error that retrying cannot fix)."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded by total time (and optionally by attempts).

    Attempt ``n`` (1-based) that failed is followed by a sleep drawn uniformly from
    ``[0, min(max_backoff, initial_backoff * 2 ** (n - 1))]`` ("full jitter"), unless
    ``max_attempts`` calls were made or the sleep would end after ``max_elapsed``
    seconds since the first attempt; then the operation fails.

    Attributes:
        max_attempts: Calls per operation, the first one included (>= 1); ``None``: bounded by time only.
        initial_backoff: Upper bound of the first sleep, in seconds.
        max_backoff: Upper bound of any one sleep, in seconds.
        max_elapsed: Seconds after the first attempt at which no retry is started any more.
    """

    max_attempts: Optional[int] = None
    initial_backoff: float = 0.1
    max_backoff: float = 5.0
    max_elapsed: float = DEFAULT_MAX_RETRY_TIME

    def __post_init__(self) -> None:
        if self.max_attempts is not None and (isinstance(self.max_attempts, bool)
                                              or not isinstance(self.max_attempts, int) or self.max_attempts < 1):
            raise ValueError(f"max_attempts must be a whole number >= 1 or None, got {self.max_attempts!r}")
        for name in ("initial_backoff", "max_backoff", "max_elapsed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")

    def backoff(self, attempt: int, rng: Optional[random.Random] = None) -> float:
        """Seconds to sleep after failed attempt number ``attempt`` (1-based)."""
        cap = min(self.max_backoff, self.initial_backoff * (2 ** min(attempt - 1, 62)))
        return (rng or random).uniform(0.0, cap)

    def attempts(self, what: str, sleep: Callable[[float], Any] = time.sleep,
                 rng: Optional[random.Random] = None) -> "Attempts":
        """The attempts of one operation under this policy (see :class:`Attempts` for the arguments)."""
        return Attempts(self, what, sleep, rng)

    def next_delay(self, attempt: int, elapsed: float, rng: Optional[random.Random] = None) -> Optional[float]:
        """The sleep before attempt ``attempt + 1``, or ``None`` when the budget is spent.

        Args:
            attempt: How many attempts were made so far.
            elapsed: Seconds since the first attempt started.
            rng: Random source for the jitter (tests pass a seeded one).
        """
        if self.max_attempts is not None and attempt >= self.max_attempts:
            return None
        delay = self.backoff(attempt, rng)
        if elapsed + delay > self.max_elapsed:
            return None
        return delay


def error_code(error: BaseException) -> str:
    """The one name of a whole call's failure: the service's error code, else ``HTTP <status>``, else the
    exception's class (e.g. ``EndpointConnectionError``, ``ParamValidationError``)."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code:
            return str(code)
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status:
            return f"HTTP {status}"
    return type(error).__name__


def is_unreachable(error: BaseException) -> bool:
    """True when the endpoint did not answer: connection refused, reset or closed, connect or read timeout
    (also while an event stream was being read)."""
    from botocore.exceptions import ConnectionError, HTTPClientError
    from urllib3.exceptions import HTTPError as Urllib3Error

    return isinstance(error, (HTTPClientError, ConnectionError, Urllib3Error, OSError))


def classify(error: BaseException) -> Optional[str]:
    """The kind of a whole call's error (a kind of ``error_codes.txt``), or ``None``: not retried.

    Codes listed for calls decide; an unlisted 5xx answer and an endpoint that did not answer are
    transient; botocore's own parameter check is a rejection.
    """
    if is_unreachable(error):
        return TRANSIENT
    kind = kind_of(error_code(error), CALL)
    if kind is not None:
        return kind
    from botocore.exceptions import ClientError, ParamValidationError

    if isinstance(error, ParamValidationError):
        return REJECTED
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return TRANSIENT if int(status) >= 500 else None
    return None


def is_retryable(error: BaseException) -> bool:
    """True for throttling, transient errors (5xx, timeouts) and an endpoint that did not answer."""
    return classify(error) in RETRYABLE_KINDS


def is_rejected(error: BaseException) -> bool:
    """True when the service (or botocore's own parameter check) refused a call for its content."""
    return classify(error) == REJECTED


def is_expired_iterator(error: BaseException) -> bool:
    """True when a shard iterator expired (build a new one from the position)."""
    return classify(error) == EXPIRED_ITERATOR


def is_retryable_entry(code: Optional[str]) -> bool:
    """True for a PutRecords entry ``ErrorCode`` worth resending (throttling, internal failure)."""
    return kind_of(code, ENTRY) in RETRYABLE_KINDS


def timestamp_refused(error: BaseException, iterator_type: Optional[str]) -> bool:
    """True when an ``AT_TIMESTAMP`` request was refused as invalid: its time is past the service's clock.

    Decided by the error code and the request, never by the message's words (the service and kinesalite
    say "timestampInMillis ... cannot be greater than the currentTimestampInMillis", kinesis-local
    "cannot be in the future"). LATEST is then the same place: read from there (GetShardIterator and
    SubscribeToShard alike); records that arrived before the timestamp are dropped by the reader.
    """
    return iterator_type == AT_TIMESTAMP and error_code(error) == INVALID_ARGUMENT


def propagate(*codes: str) -> Recover:
    """A ``recover`` hook that hands errors with these codes to the caller at once (never retried)."""

    def recover(error: BaseException) -> bool:
        if error_code(error) in codes:
            raise error
        return False

    return recover


class Attempts:
    """The attempts of one operation (e.g. one GetRecords, one PutRecords batch) under a :class:`RetryPolicy`.

    Args:
        policy: Backoff and bounds.
        what: The operation as logs and errors name it, e.g. ``"GetRecords stream s shard x"``.
        sleep: The sleep function (tests may pass a fake; a subscription passes its "closed" event's wait).
        rng: Random source for the jitter.
    """

    def __init__(self, policy: RetryPolicy, what: str, sleep: Callable[[float], Any] = time.sleep,
                 rng: Optional[random.Random] = None) -> None:
        self.policy = policy
        self.what = what
        self.count = 0
        self._sleep = sleep
        self._rng = rng
        self._start = time.monotonic()
        self._warned = False

    @property
    def elapsed(self) -> float:
        """Seconds since the first attempt."""
        return time.monotonic() - self._start

    def call(self, fn: Callable[..., T], *args: Any, recover: Optional[Recover] = None,
             give_up: Optional[Type[Exception]] = KinesisReadError, **kwargs: Any) -> T:
        """The one retry loop: ``fn(*args, **kwargs)`` until it answers.

        Args:
            fn: The call (a boto3 client method, or a function making one).
            recover: Asked first about each error: True if it fixed the cause (call again at once).
            give_up: Raised, naming the operation, when the budget is spent; ``None``: the last error is.
            args: Positional arguments of ``fn``.
            kwargs: Keyword arguments of ``fn``.

        Errors retrying cannot help propagate unchanged.
        """
        while True:
            try:
                return fn(*args, **kwargs)
            except Exception as e:  # noqa: BLE001 - classified by retry()
                if recover is not None and recover(e):
                    continue
                self.retry(e, give_up)

    def delay_after(self, error: Union[BaseException, str]) -> Optional[float]:
        """Count a failed attempt; the sleep before the next one, or ``None`` when the budget is spent.

        Args:
            error: The call's error, or what went wrong in words (e.g. entries of a PutRecords that failed).

        The first failure because the endpoint did not answer is logged as a WARNING; later ones at INFO.
        """
        self.count += 1
        delay = self.policy.next_delay(self.count, self.elapsed, self._rng)
        if delay is None:
            return None
        if isinstance(error, BaseException) and is_unreachable(error) and not self._warned:
            self._warned = True
            _LOG.warning("%s: the endpoint did not answer (%s: %s); retrying for up to %.0f s in all",
                         self.what, type(error).__name__, error, self.policy.max_elapsed)
        else:
            why = error_code(error) if isinstance(error, BaseException) else error
            _LOG.info("%s: %s; retrying in %.2f s", self.what, why, delay)
        return delay

    def retry(self, error: BaseException, give_up: Optional[Type[Exception]] = KinesisReadError) -> None:
        """Sleep before the next attempt; re-raise ``error`` if retrying cannot help; when the budget is
        spent raise ``give_up`` (or ``error`` itself if ``give_up`` is ``None``)."""
        if not is_retryable(error):
            raise error
        delay = self.delay_after(error)
        if delay is None:
            if give_up is None:
                raise error
            raise give_up(self.exhausted(error)) from error
        self._sleep(delay)

    def exhausted(self, error: BaseException) -> str:
        """The message of giving up after ``error``."""
        bound = (f"max_retry_time {self.policy.max_elapsed:.0f} s" if self.policy.max_attempts is None
                 else f"max_retry_time {self.policy.max_elapsed:.0f} s, max_attempts {self.policy.max_attempts}")
        why = "the endpoint did not answer" if is_unreachable(error) else error_code(error)
        return (f"{self.what}: giving up after {self.count} attempts in {self.elapsed:.1f} s ({bound}): "
                f"{why}: {error}")


def call(policy: RetryPolicy, what: str, fn: Callable[..., T], *, sleep: Callable[[float], Any] = time.sleep,
         recover: Optional[Recover] = None, give_up: Optional[Type[Exception]] = KinesisReadError,
         **kwargs: Any) -> T:
    """``fn(**kwargs)`` under ``policy`` (see :meth:`Attempts.call`).

    Args:
        policy: Backoff and bounds.
        what: The call as logs and errors name it, e.g. ``"ListShards stream s"``.
        fn: The boto3 client method.
        sleep: The sleep function (tests may pass a fake).
        recover: Asked first about each error: True if it fixed the cause (call again at once).
        give_up: Raised when the budget is spent (``None``: the last error is).
        kwargs: The call's arguments.

    Raises:
        KinesisReadError: The retries were spent (the default ``give_up``).
    """
    return policy.attempts(what, sleep).call(fn, recover=recover, give_up=give_up, **kwargs)
