package io.github.pyflinkkinesis.source;

import java.util.concurrent.ThreadLocalRandom;

import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.kinesis.model.ExpiredNextTokenException;
import software.amazon.awssdk.services.kinesis.model.ExpiredIteratorException;
import software.amazon.awssdk.services.kinesis.model.KmsThrottlingException;
import software.amazon.awssdk.services.kinesis.model.LimitExceededException;
import software.amazon.awssdk.services.kinesis.model.ProvisionedThroughputExceededException;
import software.amazon.awssdk.services.kinesis.model.ResourceInUseException;

/** How the source reacts to a failed Kinesis call, and how long it waits before the next attempt. */
public final class KinesisErrors {
    /** What a failure means for the caller. */
    public enum Kind {
        /** Throttled: retry later, without limit. */
        THROTTLED,
        /** A 5xx answer, a connection problem or a stream in transition: retry a bounded number of times. */
        TRANSIENT,
        /** The shard iterator expired: build a new one from the position. */
        EXPIRED_ITERATOR,
        /** Anything else (stream missing, access denied, bad argument): fail. */
        FATAL
    }

    /** Consecutive transient failures of one call before the source gives up. */
    public static final int MAX_TRANSIENT_ATTEMPTS = 20;

    static final long BASE_DELAY_MS = 100;
    static final long MAX_DELAY_MS = 10_000;

    private KinesisErrors() {
    }

    public static Kind classify(Throwable error) {
        if (error instanceof ExpiredIteratorException) {
            return Kind.EXPIRED_ITERATOR;
        }
        if (error instanceof ProvisionedThroughputExceededException || error instanceof LimitExceededException
                || error instanceof KmsThrottlingException) {
            return Kind.THROTTLED;
        }
        if (error instanceof ResourceInUseException || error instanceof ExpiredNextTokenException) {
            // ResourceInUse: the stream is being created or resharded, it will be usable shortly;
            // ExpiredNextToken: a paginated listing must start again
            return Kind.TRANSIENT;
        }
        if (error instanceof AwsServiceException) {
            AwsServiceException service = (AwsServiceException) error;
            if (service.isThrottlingException()) {
                return Kind.THROTTLED;
            }
            return service.statusCode() >= 500 ? Kind.TRANSIENT : Kind.FATAL;
        }
        if (error instanceof SdkClientException) {
            return Kind.TRANSIENT;
        }
        return Kind.FATAL;
    }

    /** A Kinesis call that can fail. */
    @FunctionalInterface
    public interface Call<T> {
        T run();
    }

    /**
     * {@code call}, tried again after throttling and transient errors (with {@link #backoffMillis}), at
     * most {@link #MAX_TRANSIENT_ATTEMPTS} times in all.
     *
     * @throws SdkException the first fatal error, or the last one once the attempts are used up
     */
    public static <T> T retried(Call<T> call) throws InterruptedException {
        int failures = 0;
        while (true) {
            try {
                return call.run();
            } catch (SdkException e) {
                failures++;
                if (classify(e) == Kind.FATAL || failures >= MAX_TRANSIENT_ATTEMPTS) {
                    throw e;
                }
                Thread.sleep(backoffMillis(failures));
            }
        }
    }

    /**
     * The wait before attempt {@code attempt + 1} after {@code attempt} consecutive failures:
     * exponential from 100 ms, capped at 10 s, with "equal jitter" (half fixed, half random).
     */
    public static long backoffMillis(int attempt) {
        long ceiling = BASE_DELAY_MS << Math.min(Math.max(attempt - 1, 0), 20);
        long delay = Math.min(MAX_DELAY_MS, ceiling);
        return delay / 2 + ThreadLocalRandom.current().nextLong(delay / 2 + 1);
    }

    /** A short description of {@code error} for logs and messages, without request ids or payloads. */
    public static String describe(Throwable error) {
        if (error instanceof AwsServiceException) {
            AwsServiceException service = (AwsServiceException) error;
            String code = service.awsErrorDetails() == null ? null : service.awsErrorDetails().errorCode();
            String message = service.awsErrorDetails() == null ? null : service.awsErrorDetails().errorMessage();
            return (code == null ? error.getClass().getSimpleName() : code) + " (HTTP " + service.statusCode() + ")"
                    + (message == null ? "" : ": " + message);
        }
        return error.getClass().getSimpleName() + ": " + error.getMessage();
    }
}
