package io.github.pyflinkkinesis.aws.retry;

import java.io.Serializable;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

import org.apache.flink.util.FlinkRuntimeException;

import software.amazon.awssdk.core.exception.SdkException;

/**
 * The one retry rule of the connector: retryable failures ({@link ErrorKind#retryable()}) are tried again
 * after an exponential backoff with "equal jitter" (half of each step fixed, half random), until failures
 * have gone on for longer than the total retry time; then the caller fails, naming the call and the last
 * error, and Flink's restart strategy takes over. Immutable; {@link #tracker()} follows one caller.
 */
public final class RetryRule implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The first backoff step and the largest one. */
    public static final long BASE_DELAY_MS = 100;
    public static final long MAX_DELAY_MS = 5_000;
    /**
     * The default total retry time: long enough to ride out an outage of a few minutes, as the Beam
     * transforms' max_retry_time (300 s).
     */
    public static final Duration DEFAULT_MAX_RETRY_TIME = Duration.ofMinutes(5);

    private final long baseDelayMillis;
    private final long maxDelayMillis;
    private final long maxRetryMillis;
    private final String key;

    /**
     * @param maxRetryTime how long failures may go on before the caller gives up
     * @param key the configuration key that set it, named in the error
     */
    public RetryRule(Duration maxRetryTime, String key) {
        this(BASE_DELAY_MS, MAX_DELAY_MS, maxRetryTime, key);
    }

    /** With other backoff steps: for tests that should not wait long. */
    public RetryRule(long baseDelayMillis, long maxDelayMillis, Duration maxRetryTime, String key) {
        if (baseDelayMillis <= 0 || maxDelayMillis < baseDelayMillis || maxRetryTime.isNegative()) {
            throw new IllegalArgumentException("RetryRule: expected 0 < base <= max delay and a total time >= 0");
        }
        this.baseDelayMillis = baseDelayMillis;
        this.maxDelayMillis = maxDelayMillis;
        this.maxRetryMillis = maxRetryTime.toMillis();
        this.key = key;
    }

    /** The wait after {@code failures} consecutive failures (1 for the first): half to all of the step. */
    public long delayMillis(int failures) {
        long step = Math.min(maxDelayMillis, baseDelayMillis << Math.min(Math.max(failures - 1, 0), 20));
        return step / 2 + ThreadLocalRandom.current().nextLong(step / 2 + 1);
    }

    /** A new tracker of one caller's consecutive failures. */
    public RetryTracker tracker() {
        return new RetryTracker(this);
    }

    /** A blocking Kinesis call that can fail. */
    @FunctionalInterface
    public interface Call<T> {
        T run();
    }

    /**
     * Runs {@code call}, tried again after retryable errors ({@link KinesisErrors#classify}) until failures
     * have gone on for longer than the total retry time.
     *
     * @param what the call and what it was for, named in the error, e.g. {@code ListShards for stream 'a'}
     * @throws SdkException the first error that is not retryable, unchanged, for the caller to interpret
     * @throws FlinkRuntimeException once the total retry time is over, with {@link RetryTracker#givingUp}'s message
     */
    public <T> T call(String what, Call<T> call) throws InterruptedException {
        RetryTracker retries = tracker();
        while (true) {
            try {
                return call.run();
            } catch (SdkException e) {
                if (!KinesisErrors.classify(e).retryable()) {
                    throw e;
                }
                long now = System.currentTimeMillis();
                long delay = retries.onFailure(now);
                if (delay < 0) {
                    throw new FlinkRuntimeException(retries.givingUp(what, e, now), e);
                }
                Thread.sleep(delay);
            }
        }
    }

    public long maxRetryMillis() {
        return maxRetryMillis;
    }

    /** The configuration key that sets the total retry time. */
    public String key() {
        return key;
    }

    @Override
    public String toString() {
        return "RetryRule{" + key + "=" + maxRetryMillis + " ms, backoff " + baseDelayMillis + ".." + maxDelayMillis
                + " ms}";
    }
}
