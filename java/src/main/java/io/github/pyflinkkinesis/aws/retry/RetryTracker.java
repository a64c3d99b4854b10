package io.github.pyflinkkinesis.aws.retry;

/**
 * One caller's run of consecutive failures under a {@link RetryRule}: how long to wait before the next
 * attempt, and when to give up. Thread-safe: the sink's answers arrive on the SDK's threads.
 */
public final class RetryTracker {
    private final RetryRule rule;
    private int failures;
    private long failingSinceMillis;

    RetryTracker(RetryRule rule) {
        this.rule = rule;
    }

    /**
     * Counts a retryable failure at {@code nowMillis}; returns the wait before the next attempt, or -1
     * when failures have gone on for longer than the total retry time (then the caller fails).
     */
    public synchronized long onFailure(long nowMillis) {
        if (failures == 0) {
            failingSinceMillis = nowMillis;
        }
        failures++;
        if (nowMillis - failingSinceMillis > rule.maxRetryMillis()) {
            return -1;
        }
        return rule.delayMillis(failures);
    }

    /** A call succeeded: the next failure starts a new run. */
    public synchronized void reset() {
        failures = 0;
    }

    /** Part of a call succeeded: the total retry time starts again, the backoff keeps its step. */
    public synchronized void progressed(long nowMillis) {
        if (failures > 0) {
            failingSinceMillis = nowMillis;
        }
    }

    public synchronized int failures() {
        return failures;
    }

    /**
     * The message of the error that fails the job, e.g. {@code Kinesis GetRecords for stream 'a' shard
     * shardId-0 failed for 301 s (40 attempts), longer than source.max-retry-time (300 s); last error: ...}.
     *
     * @param call the call and what it was for, e.g. {@code PutRecords to stream 'orders'}
     */
    public synchronized String givingUp(String call, Throwable lastError, long nowMillis) {
        return "Kinesis " + call + " failed for " + seconds(nowMillis - failingSinceMillis) + " (" + failures
                + " attempts), longer than " + rule.key() + " (" + seconds(rule.maxRetryMillis()) + "); last error: "
                + KinesisErrors.describe(lastError);
    }

    private static String seconds(long millis) {
        return millis % 1000 == 0 ? millis / 1000 + " s" : String.format(java.util.Locale.ROOT, "%.1f s", millis / 1000.0);
    }
}
