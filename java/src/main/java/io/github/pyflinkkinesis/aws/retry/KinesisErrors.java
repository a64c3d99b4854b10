package io.github.pyflinkkinesis.aws.retry;

import java.io.IOException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.kinesis.model.GetShardIteratorRequest;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;
import software.amazon.awssdk.services.kinesis.model.SubscribeToShardRequest;

/**
 * The one classifier of failed Kinesis calls: by exception type, error code (error_codes.txt), HTTP
 * status and the request made; never by an error's message text.
 */
public final class KinesisErrors {
    /** Codes of a refused identity or signature (besides HTTP 401/403). */
    private static final Set<String> ACCESS_CODES = new HashSet<>(Arrays.asList(
            "AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "InvalidSignatureException",
            "SignatureDoesNotMatch", "IncompleteSignature", "MissingAuthenticationToken", "ExpiredTokenException",
            "InvalidClientTokenId", "KMSAccessDeniedException"));

    private KinesisErrors() {
    }

    /** What a whole call that failed with {@code error} means. */
    public static ErrorKind classify(Throwable error) {
        Throwable t = unwrap(error);
        if (t instanceof AwsServiceException) {
            AwsServiceException service = (AwsServiceException) t;
            ErrorKind listed = ErrorCodes.kindOf(errorCode(service), ErrorCodes.Scope.CALL);
            if (listed != null) {
                return listed;
            }
            if (service.isThrottlingException()) {
                return ErrorKind.THROTTLED;
            }
            return service.statusCode() >= 500 ? ErrorKind.TRANSIENT : ErrorKind.FATAL;
        }
        return isNetworkFailure(t) ? ErrorKind.TRANSIENT : ErrorKind.FATAL;
    }

    /** What one PutRecords entry's {@code ErrorCode} means; unlisted codes are fatal. */
    public static ErrorKind classifyEntry(String code) {
        ErrorKind listed = ErrorCodes.kindOf(code, ErrorCodes.Scope.ENTRY);
        return listed == null ? ErrorKind.FATAL : listed;
    }

    /**
     * True when {@code request}, an AT_TIMESTAMP GetShardIterator, was refused with InvalidArgumentException:
     * the service refuses a time past its own clock so (a future startup date, or LATEST pinned by a clock
     * that runs ahead). Nothing after such a time exists yet, so LATEST is the same place.
     */
    public static boolean isTimestampPastServiceClock(Throwable error, GetShardIteratorRequest request) {
        Throwable t = unwrap(error);
        return request.shardIteratorType() == ShardIteratorType.AT_TIMESTAMP && t instanceof AwsServiceException
                && "InvalidArgumentException".equals(errorCode((AwsServiceException) t));
    }

    /**
     * True when {@code request}, a SubscribeToShard at an AT_TIMESTAMP position, was refused with
     * InvalidArgumentException: as {@link #isTimestampPastServiceClock(Throwable, GetShardIteratorRequest)}.
     */
    public static boolean isTimestampPastServiceClock(Throwable error, SubscribeToShardRequest request) {
        Throwable t = unwrap(error);
        return request != null && request.startingPosition() != null
                && request.startingPosition().type() == ShardIteratorType.AT_TIMESTAMP
                && t instanceof AwsServiceException && "InvalidArgumentException".equals(errorCode((AwsServiceException) t));
    }

    /**
     * True for ResourceNotFoundException: what the request names (a stream, a shard, a consumer) does not exist, or
     * no longer does. The caller tells which from the request it made and, where needed, a listing.
     */
    public static boolean isNotFound(Throwable error) {
        Throwable t = unwrap(error);
        return t instanceof AwsServiceException && "ResourceNotFoundException".equals(errorCode((AwsServiceException) t));
    }

    /** True for a refused identity: HTTP 401/403, an access or signature error code, or any STS error. */
    public static boolean isAccessDenied(Throwable error) {
        Throwable t = unwrap(error);
        if (!(t instanceof AwsServiceException)) {
            return false;
        }
        AwsServiceException e = (AwsServiceException) t;
        String service = e.awsErrorDetails() == null ? null : e.awsErrorDetails().serviceName();
        return e.statusCode() == 401 || e.statusCode() == 403 || ACCESS_CODES.contains(errorCode(e))
                || "sts".equalsIgnoreCase(service);
    }

    /**
     * A client-side failure the network caused (I/O, a timeout: no answer), as opposed to one the client
     * caused itself (no credentials, a bad configuration), which a retry cannot fix.
     */
    private static boolean isNetworkFailure(Throwable t) {
        if (t instanceof ApiCallTimeoutException || t instanceof ApiCallAttemptTimeoutException) {
            return true;
        }
        if (!(t instanceof SdkClientException || t instanceof IOException || t instanceof TimeoutException)) {
            return false;
        }
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            // Netty's ReadTimeoutException is neither an IOException nor a java.util.concurrent one.
            if (c instanceof IOException || c instanceof TimeoutException
                    || c.getClass().getName().endsWith("ReadTimeoutException")) {
                return true;
            }
        }
        return false;
    }

    /** The exception a failed future carries, without its CompletionException wrappers. */
    public static Throwable unwrap(Throwable error) {
        Throwable t = error;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** The service's error code, or {@code null}. */
    public static String errorCode(AwsServiceException e) {
        return e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
    }

    /** A short description for logs and messages: code, HTTP status and the service's message; no request ids. */
    public static String describe(Throwable error) {
        Throwable t = unwrap(error);
        if (t instanceof AwsServiceException && ((AwsServiceException) t).awsErrorDetails() != null) {
            AwsServiceException e = (AwsServiceException) t;
            String code = errorCode(e);
            String message = e.awsErrorDetails().errorMessage();
            return (code == null ? t.getClass().getSimpleName() : code) + " (HTTP " + e.statusCode() + ")"
                    + (message == null ? "" : ": " + message);
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }
}
