package io.github.pyflinkkinesis.source;

import java.time.Instant;

import org.apache.flink.util.FlinkRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pyflinkkinesis.aws.retry.KinesisErrors;
import io.github.pyflinkkinesis.aws.retry.RetryRule;
import io.github.pyflinkkinesis.source.split.KinesisShardSplit;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.DescribeStreamSummaryRequest;

/**
 * A stream's creation time, which tells a stream deleted and created again under the same name (same shard ids,
 * other records) from the one a checkpoint's positions were taken in, and what {@code source.stream-recreated}
 * makes of a difference. The enumerator checks its own state, each reader its restored splits.
 */
public final class StreamCreation {
    private static final Logger LOG = LoggerFactory.getLogger(StreamCreation.class);

    /** A creation time that is not known: a version 1 checkpoint. The current one is adopted. */
    public static final long UNKNOWN = 0L;

    private StreamCreation() {
    }

    /**
     * DescribeStreamSummary's StreamCreationTimestamp of {@code stream} (name or ARN), in epoch millis.
     *
     * @throws FlinkRuntimeException naming the stream, at the first fatal error or once the total retry time is over
     */
    public static long lookUp(KinesisClient client, RetryRule rule, String stream) throws InterruptedException {
        String call = "DescribeStreamSummary for stream '" + KinesisShardSplit.streamName(stream) + "'";
        DescribeStreamSummaryRequest request = stream.startsWith("arn:")
                ? DescribeStreamSummaryRequest.builder().streamARN(stream).build()
                : DescribeStreamSummaryRequest.builder().streamName(stream).build();
        try {
            Instant created = rule.call(call,
                    () -> client.describeStreamSummary(request).streamDescriptionSummary().streamCreationTimestamp());
            if (created == null) {
                throw new FlinkRuntimeException("Kinesis " + call + " answered no StreamCreationTimestamp");
            }
            return created.toEpochMilli();
        } catch (SdkException e) {
            throw new FlinkRuntimeException("Kinesis " + call + " failed: " + KinesisErrors.describe(e), e);
        }
    }

    /**
     * Compares the creation time that positions of {@code stream} were taken under with the stream's current one.
     *
     * @return true when the stream was created again and {@code policy} is START_OVER: the positions are to be
     *     dropped; false when they are the same stream's (or the restored time is {@link #UNKNOWN})
     * @throws FlinkRuntimeException with one line naming the stream and both creation times, when the stream was
     *     created again and {@code policy} is FAIL
     */
    public static boolean startsOver(String stream, long restoredMillis, long currentMillis,
                                     KinesisSourceConfig.StreamRecreated policy) {
        if (restoredMillis == UNKNOWN || restoredMillis == currentMillis) {
            return false;
        }
        String name = KinesisShardSplit.streamName(stream);
        String what = "Kinesis stream '" + name + "' was deleted and created again: the checkpoint's positions are of "
                + "the stream created at " + Instant.ofEpochMilli(restoredMillis) + ", the stream now was created at "
                + Instant.ofEpochMilli(currentMillis);
        if (policy == KinesisSourceConfig.StreamRecreated.FAIL) {
            throw new FlinkRuntimeException(what + "; set " + KinesisSourceConfig.STREAM_RECREATED
                    + "=START_OVER to read the new stream from " + KinesisSourceConfig.INIT_POSITION);
        }
        LOG.warn("{}; dropping those positions and reading the new stream from {} ({}=START_OVER)",
                what, KinesisSourceConfig.INIT_POSITION, KinesisSourceConfig.STREAM_RECREATED);
        return true;
    }
}
