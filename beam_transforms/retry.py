"""The one retry layer of the Beam transforms' Kinesis calls, for reads and writes alike.

Which errors are worth retrying, how long to wait between attempts (:class:`RetryPolicy`), and the
attempts of one operation (:class:`Attempts`): it warns once, naming the operation (stream and shard),
when the endpoint stops answering, and gives up after the policy's total time. The transforms' boto3
clients make one attempt per call (:func:`pyflink_kinesis.spec.boto.transform_client`), so botocore's own
retries never multiply these, and a rate limit applied per attempt sees every call.
"""

from __future__ import annotations

import logging
import random
import sys
import time
from dataclasses import dataclass
from typing import Callable, Optional, Type, Union

from beam_transforms.settings import DEFAULT_MAX_RETRY_TIME

_LOG = logging.getLogger(__name__)

# Whole-call error codes (the ``__type`` of a 4xx/5xx answer) that mean "try again later".
RETRYABLE_CALL_ERRORS = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "LimitExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "KMSThrottlingException",
        "InternalFailure",
        "InternalError",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
# Per-entry ``ErrorCode`` values of a partially failed PutRecords that are retried.
# Anything else (KMS access denied, disabled key, ...) fails at once: retrying cannot help.
RETRYABLE_ENTRY_ERRORS = frozenset(
    {"ProvisionedThroughputExceededException", "InternalFailure", "KMSThrottlingException", "ServiceUnavailable"}
)
# Whole-call refusals of a request's content: one bad record refuses its whole PutRecords call.
REJECTED_CALL_ERRORS = frozenset(
    {"InvalidArgumentException", "ValidationException", "SerializationException", "ParamValidationError"}
)


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


def call_error_code(error: BaseException) -> str:
    """A short name for a whole-call failure: the service error code or the exception's class."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code:
            return str(code)
    return type(error).__name__


def is_unreachable(error: BaseException) -> bool:
    """True when the endpoint did not answer: connection refused, reset or closed, connect or read timeout."""
    from botocore.exceptions import ConnectionError, HTTPClientError

    return isinstance(error, (HTTPClientError, ConnectionError))


def is_retryable_call_error(error: BaseException) -> bool:
    """True for throttling, 5xx answers, timeouts and connection errors of a whole call."""
    from botocore.exceptions import ClientError

    if is_unreachable(error):
        return True
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return call_error_code(error) in RETRYABLE_CALL_ERRORS or int(status) >= 500
    return False


def is_rejected_call(error: BaseException) -> bool:
    """True when the service (or botocore's own parameter check) refused a call for its content."""
    return call_error_code(error) in REJECTED_CALL_ERRORS


class Attempts:
    """The attempts of one operation (e.g. one GetRecords, one PutRecords batch) under a :class:`RetryPolicy`.

    Args:
        policy: Backoff and bounds.
        what: The operation as logs and errors name it, e.g. ``"GetRecords stream s shard x"``.
        sleep: The sleep function (tests may pass a fake).
        rng: Random source for the jitter.
    """

    def __init__(self, policy: RetryPolicy, what: str, sleep: Callable[[float], None] = time.sleep,
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
            why = call_error_code(error) if isinstance(error, BaseException) else error
            _LOG.info("%s: %s; retrying in %.2f s", self.what, why, delay)
        return delay

    def retry(self, error: BaseException, give_up: Type[Exception]) -> None:
        """Sleep before the next attempt; re-raise ``error`` if retrying cannot help; raise ``give_up`` when
        the budget is spent."""
        if not is_retryable_call_error(error):
            raise error
        delay = self.delay_after(error)
        if delay is None:
            raise give_up(self.exhausted(error)) from error
        self._sleep(delay)

    def exhausted(self, error: BaseException) -> str:
        """The message of giving up after ``error``."""
        bound = (f"max_retry_time {self.policy.max_elapsed:.0f} s" if self.policy.max_attempts is None
                 else f"max_retry_time {self.policy.max_elapsed:.0f} s, max_attempts {self.policy.max_attempts}")
        why = "the endpoint did not answer" if is_unreachable(error) else call_error_code(error)
        return (f"{self.what}: giving up after {self.count} attempts in {self.elapsed:.1f} s ({bound}): "
                f"{why}: {error}")


def attempts_limit(policy: RetryPolicy) -> int:
    """``policy.max_attempts``, with ``sys.maxsize`` for "bounded by time only"."""
    return policy.max_attempts if policy.max_attempts is not None else sys.maxsize
