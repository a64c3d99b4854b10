package io.github.pyflinkkinesis.sink;

import java.io.IOException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.kinesis.model.ResourceNotFoundException;

/**
 * Which PutRecords failures are worth retrying, and the job-failing message for the others.
 *
 * <p>Retried: throttling, 5xx, and client-side I/O errors and timeouts (no answer from the endpoint).
 * Fatal: everything else, e.g. a missing stream, denied access, invalid arguments, credentials that
 * cannot be loaded: retrying cannot fix them, so the job fails with a message naming the stream.
 */
final class PutRecordsErrors {
    private static final Set<String> RETRYABLE_CODES = new HashSet<>(Arrays.asList(
            "ProvisionedThroughputExceededException", "LimitExceededException", "KMSThrottlingException",
            "ThrottlingException", "Throttling", "RequestLimitExceeded", "TooManyRequestsException",
            "InternalFailure", "InternalFailureException", "InternalServerError", "ServiceUnavailable",
            "ServiceUnavailableException", "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"));

    private PutRecordsErrors() {}

    /** The exception a failed future carries, without its CompletionException wrappers. */
    static Throwable unwrap(Throwable error) {
        Throwable t = error;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** True if a whole PutRecords call that failed with {@code error} may succeed when sent again. */
    static boolean isRetryable(Throwable error) {
        Throwable t = unwrap(error);
        if (t instanceof AwsServiceException) {
            AwsServiceException e = (AwsServiceException) t;
            return e.isThrottlingException() || e.statusCode() >= 500 || isRetryableCode(errorCode(e));
        }
        if (t instanceof ApiCallTimeoutException || t instanceof ApiCallAttemptTimeoutException) {
            return true;
        }
        if (t instanceof SdkClientException || t instanceof IOException || t instanceof TimeoutException) {
            // Client-side: retry what the network did (I/O, timeouts), not what the client refused to do.
            for (Throwable c = t; c != null; c = c.getCause()) {
                if (c instanceof IOException || c instanceof TimeoutException
                        || c.getClass().getName().endsWith("ReadTimeoutException")) {
                    return true;
                }
                if (c.getCause() == c) {
                    break;
                }
            }
        }
        return false;
    }

    /** True for the per-record error codes of a partial failure that a retry can fix. */
    static boolean isRetryableCode(String code) {
        if (code == null) {
            return false;
        }
        String lower = code.toLowerCase(Locale.ROOT);
        return RETRYABLE_CODES.contains(code) || lower.contains("throttl") || lower.contains("internal");
    }

    /** The exception that fails the job for a call to {@code stream} that ended in {@code error}. */
    static KinesisSinkException fatal(String stream, Throwable error) {
        Throwable t = unwrap(error);
        String what;
        if (t instanceof ResourceNotFoundException) {
            what = "the stream does not exist";
        } else if (isAccessDenied(t)) {
            what = "access denied";
        } else if (isRetryable(t)) {
            what = "the request failed and " + KinesisSinkConfig.FAIL_ON_ERROR + " is true";
        } else {
            what = "the request was rejected and cannot be retried";
        }
        return new KinesisSinkException("Kinesis sink: cannot write to stream " + KinesisSinkEntry.quote(stream)
                + ": " + what + " (" + describe(t) + ")", t);
    }

    private static boolean isAccessDenied(Throwable t) {
        if (t instanceof AwsServiceException) {
            AwsServiceException e = (AwsServiceException) t;
            String code = String.valueOf(errorCode(e)).toLowerCase(Locale.ROOT);
            return e.statusCode() == 401 || e.statusCode() == 403 || code.contains("accessdenied")
                    || code.contains("unrecognizedclient") || code.contains("signature") || code.contains("token")
                    || "sts".equalsIgnoreCase(serviceName(e));
        }
        String message = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
        return t instanceof SdkClientException && message.contains("credentials");
    }

    private static String errorCode(AwsServiceException e) {
        return e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
    }

    private static String serviceName(AwsServiceException e) {
        return e.awsErrorDetails() == null ? null : e.awsErrorDetails().serviceName();
    }

    /** Class, error code and message of the cause; the SDK puts no secrets in these. */
    static String describe(Throwable t) {
        if (t instanceof AwsServiceException && ((AwsServiceException) t).awsErrorDetails() != null) {
            AwsServiceException e = (AwsServiceException) t;
            return e.getClass().getSimpleName() + ", " + errorCode(e) + ", HTTP " + e.statusCode() + ": "
                    + e.awsErrorDetails().errorMessage();
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }
}
