"""Retry policy for Kinesis writes: which errors are worth retrying, and how long to wait between attempts."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Optional

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


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded by attempts and by total time.

    Attempt ``n`` (1-based) that failed is followed by a sleep drawn uniformly from
    ``[0, min(max_backoff, initial_backoff * 2 ** (n - 1))]`` ("full jitter"), unless
    ``max_attempts`` calls were made or the sleep would end after ``max_elapsed``
    seconds since the first attempt; then the write fails.

    Attributes:
        max_attempts: Calls per record, the first one included (>= 1).
        initial_backoff: Upper bound of the first sleep, in seconds.
        max_backoff: Upper bound of any one sleep, in seconds.
        max_elapsed: Seconds after the first attempt at which no retry is started any more.
    """

    max_attempts: int = 10
    initial_backoff: float = 0.1
    max_backoff: float = 5.0
    max_elapsed: float = 120.0

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int) or self.max_attempts < 1:
            raise ValueError(f"max_attempts must be a whole number >= 1, got {self.max_attempts!r}")
        for name in ("initial_backoff", "max_backoff", "max_elapsed"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value < 0:
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
        if attempt >= self.max_attempts:
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


def is_retryable_call_error(error: BaseException) -> bool:
    """True for throttling, 5xx answers, timeouts and connection errors of a whole PutRecords call."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(error, (HTTPClientError, ConnectionError)):
        return True  # connection refused/reset/closed, read/connect timeouts
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return call_error_code(error) in RETRYABLE_CALL_ERRORS or int(status) >= 500
    return False
