package io.github.pyflinkkinesis.aws.retry;

import java.util.Locale;

/** What a failed Kinesis call (or one failed PutRecords entry) means for the caller. */
public enum ErrorKind {
    /** Throttled: retry with backoff within the total retry time. */
    THROTTLED,
    /** A 5xx answer, a connection problem or a stream in transition: retry with backoff within the total retry time. */
    TRANSIENT,
    /** The shard iterator expired: build a new one from the position. */
    EXPIRED_ITERATOR,
    /** The request's content was refused (bad argument, validation): never retried as it is. */
    REJECTED,
    /** Anything else (stream missing, access denied, an unknown error): fail. */
    FATAL;

    /** True for the kinds that are retried with backoff. */
    public boolean retryable() {
        return this == THROTTLED || this == TRANSIENT;
    }

    /** The kind named {@code name} in error_codes.txt (e.g. {@code expired-iterator}). */
    static ErrorKind fromFileName(String name) {
        return valueOf(name.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
    }
}
