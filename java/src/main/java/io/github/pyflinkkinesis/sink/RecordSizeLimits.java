package io.github.pyflinkkinesis.sink;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.github.pyflinkkinesis.aws.retry.KinesisErrors;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.model.DescribeStreamSummaryRequest;
import software.amazon.awssdk.services.kinesis.model.DescribeStreamSummaryResponse;
import software.amazon.awssdk.services.kinesis.model.ResourceNotFoundException;
import software.amazon.awssdk.services.kinesis.model.StreamDescriptionSummary;

/**
 * The largest record each stream takes ({@code sink.max-record-size}), as the Beam writer decides it: the
 * configured size if set, else the stream's {@code MaxRecordSizeInKiB} from DescribeStreamSummary where the
 * service reports it, else 1 MiB. A record of up to 1 MiB fits every stream, so the stream is asked only for a
 * larger record, once (the writer's task thread waits for that one answer); a stream that does not exist yet,
 * or an answer that did not come, is asked again for its next large record. Each limit keeps where it came
 * from, for the oversize error.
 */
final class RecordSizeLimits {
    /** A stream's limit in bytes and where the figure came from. */
    static final class Limit {
        final long bytes;
        final String source;

        Limit(long bytes, String source) {
            this.bytes = bytes;
            this.source = source;
        }
    }

    /** How long the writer waits for DescribeStreamSummary. */
    static final Duration ASK_TIMEOUT = Duration.ofSeconds(30);
    static final String NOT_REPORTED = "the Kinesis default: the stream reports no MaxRecordSizeInKiB";

    private final KinesisAsyncClient client;
    private final Integer configured;
    private final Map<String, Limit> limits = new ConcurrentHashMap<>();

    /** Asks through {@code client}; {@code configured}: {@code sink.max-record-size}, or {@code null}. */
    RecordSizeLimits(KinesisAsyncClient client, Integer configured) {
        this.client = client;
        this.configured = configured;
    }

    /**
     * Checks {@code entry} against its stream's limit.
     *
     * @throws OversizedRecordException naming the limit and where it came from
     */
    void check(KinesisSinkEntry entry) {
        if (entry.sizeInBytes() <= KinesisSinkEntry.MAX_RECORD_BYTES && configured == null) {
            return;
        }
        Limit limit = limit(entry.stream());
        if (entry.sizeInBytes() > limit.bytes) {
            throw new OversizedRecordException(entry.stream(), entry.partitionKey(), entry.sizeInBytes(),
                    limit.bytes, limit.source);
        }
    }

    /** The limit of {@code stream}. */
    Limit limit(String stream) {
        if (configured != null) {
            return new Limit(configured, KinesisSinkConfig.MAX_RECORD_SIZE);
        }
        Limit known = limits.get(stream);
        return known != null ? known : ask(stream);
    }

    private Limit ask(String stream) {
        DescribeStreamSummaryRequest.Builder request = DescribeStreamSummaryRequest.builder();
        if (stream.startsWith("arn:")) {
            request.streamARN(stream);
        } else {
            request.streamName(stream);
        }
        StreamDescriptionSummary summary;
        try {
            CompletableFuture<DescribeStreamSummaryResponse> answer;
            try {
                answer = client.describeStreamSummary(request.build());
            } catch (RuntimeException e) {
                answer = CompletableFuture.failedFuture(e);
            }
            summary = answer.get(ASK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).streamDescriptionSummary();
        } catch (ExecutionException e) {
            Throwable cause = KinesisErrors.unwrap(e);
            if (cause instanceof AwsServiceException && !(cause instanceof ResourceNotFoundException)) {
                // not allowed (IAM) or refused: the default, kept; a missing stream is asked again later
                return keep(stream, new Limit(KinesisSinkEntry.MAX_RECORD_BYTES, "the Kinesis default: "
                        + "DescribeStreamSummary answered " + KinesisErrors.describe(cause)));
            }
            return new Limit(KinesisSinkEntry.MAX_RECORD_BYTES,
                    "the Kinesis default: DescribeStreamSummary failed: " + KinesisErrors.describe(cause));
        } catch (TimeoutException e) {
            return new Limit(KinesisSinkEntry.MAX_RECORD_BYTES, "the Kinesis default: DescribeStreamSummary did not"
                    + " answer within " + ASK_TIMEOUT.toSeconds() + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KinesisSinkException("Kinesis sink: interrupted while asking DescribeStreamSummary of stream "
                    + KinesisSinkEntry.quote(stream) + " for its record size limit", e);
        }
        Integer kib = summary.maxRecordSizeInKiB();
        if (kib != null && kib > 0) {
            return keep(stream, new Limit(kib * 1024L, "the stream's MaxRecordSizeInKiB " + kib
                    + " (DescribeStreamSummary)"));
        }
        return keep(stream, new Limit(KinesisSinkEntry.MAX_RECORD_BYTES, NOT_REPORTED));
    }

    private Limit keep(String stream, Limit limit) {
        limits.put(stream, limit);
        return limit;
    }
}
