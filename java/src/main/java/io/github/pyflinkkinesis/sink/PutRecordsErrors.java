package io.github.pyflinkkinesis.sink;

import io.github.pyflinkkinesis.aws.retry.KinesisErrors;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.kinesis.model.ResourceNotFoundException;

/** The job-failing message of a PutRecords call that cannot be retried; {@link KinesisErrors} classifies. */
final class PutRecordsErrors {
    private PutRecordsErrors() {}

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
