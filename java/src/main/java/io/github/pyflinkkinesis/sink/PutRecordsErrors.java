package io.github.pyflinkkinesis.sink;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.github.pyflinkkinesis.aws.retry.KinesisErrors;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.kinesis.model.ResourceNotFoundException;

/** The job-failing message of a PutRecords call that cannot be retried; {@link KinesisErrors} classifies. */
final class PutRecordsErrors {
    /** How the service names the shard in a throttled entry's message ("Rate exceeded for shard ..."). */
    private static final Pattern SHARD = Pattern.compile("shardId-[0-9]+");

    private PutRecordsErrors() {}

    /**
     * The exception that fails the job, with {@code sink.fail-on-throttling}, for a record of {@code stream} with
     * partition key {@code partitionKey} throttled with {@code message}: it names the shard the service's message
     * names, else {@code predictedShardId} (the shard an aggregate was packed for), else says neither is known.
     */
    static KinesisSinkException throttled(String stream, String partitionKey, String predictedShardId,
            String code, String message) {
        Matcher named = SHARD.matcher(message == null ? "" : message);
        String shard = named.find() ? named.group() : predictedShardId;
        return new KinesisSinkException("Kinesis sink: " + (shard == null ? "a shard (not named by the service)"
                : "shard " + shard) + " of stream '" + stream + "' throttled a record with partition key '"
                + partitionKey + "' and " + KinesisSinkConfig.FAIL_ON_THROTTLING + " is true: " + code + ": "
                + message, null);
    }

    /** The exception that fails the job for a call to {@code stream} that ended in {@code error}. */
    static KinesisSinkException fatal(String stream, Throwable error) {
        Throwable t = KinesisErrors.unwrap(error);
        String what;
        if (t instanceof ResourceNotFoundException) {
            what = "the stream does not exist";
        } else if (KinesisErrors.isAccessDenied(t)) {
            what = "access denied";
        } else if (KinesisErrors.classify(t).retryable()) {
            what = "the request failed and " + KinesisSinkConfig.FAIL_ON_ERROR + " is true";
        } else if (t instanceof SdkClientException) {
            what = "the client could not send the request (no credentials, or a bad client setting?)";
        } else {
            what = "the request was rejected and cannot be retried";
        }
        return new KinesisSinkException("Kinesis sink: cannot write to stream " + KinesisSinkEntry.quote(stream)
                + ": " + what + " (" + KinesisErrors.describe(t) + ")", t);
    }
}
