package io.github.pyflinkkinesis.aws.retry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;

import org.junit.jupiter.api.Test;

import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.kinesis.model.GetShardIteratorRequest;
import software.amazon.awssdk.services.kinesis.model.KinesisException;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;
import software.amazon.awssdk.services.sts.model.StsException;

/** The classifier against the shared list pyflink_kinesis/spec/error_codes.txt, which pytest asserts too. */
class KinesisErrorsTest {
    /** The source file itself, read here independently of the jar resource that ErrorCodes parses. */
    private static final Path SHARED_LIST = Paths.get("..", "pyflink_kinesis", "spec", "error_codes.txt");

    static AwsServiceException error(String code, int status, String message) {
        return KinesisException.builder().statusCode(status).awsErrorDetails(AwsErrorDetails.builder()
                .errorCode(code).errorMessage(message).serviceName("Kinesis").build()).build();
    }

    /** code -> {kind, scopes} as the file's columns say. */
    private static Map<String, String[]> sharedList() throws IOException {
        Map<String, String[]> codes = new LinkedHashMap<>();
        for (String line : Files.readAllLines(SHARED_LIST, StandardCharsets.UTF_8)) {
            String text = line.replaceFirst("#.*", "").trim();
            if (!text.isEmpty()) {
                String[] fields = text.split("\\s+");
                codes.put(fields[0], new String[] {fields[1], fields[2]});
            }
        }
        return codes;
    }

    private static ErrorKind kindNamed(String name) {
        switch (name) {
            case "throttled": return ErrorKind.THROTTLED;
            case "transient": return ErrorKind.TRANSIENT;
            case "expired-iterator": return ErrorKind.EXPIRED_ITERATOR;
            case "rejected": return ErrorKind.REJECTED;
            default: throw new AssertionError("unknown kind in " + SHARED_LIST + ": " + name);
        }
    }

    @Test
    void everyCodeOfTheSharedListIsClassifiedAsItSaysInEachScope() throws IOException {
        Map<String, String[]> shared = sharedList();
        assertTrue(shared.size() >= 20, "the shared list was read: " + shared.keySet());
        assertEquals(shared.keySet(), ErrorCodes.all().keySet(), "the jar's resource is the shared list");
        for (Map.Entry<String, String[]> entry : shared.entrySet()) {
            String code = entry.getKey();
            ErrorKind kind = kindNamed(entry.getValue()[0]);
            List<String> scopes = List.of(entry.getValue()[1].split(","));
            // A 400 answer, so that nothing but the code decides (5xx answers are transient anyway).
            ErrorKind asCall = KinesisErrors.classify(error(code, 400, "any text"));
            assertEquals(scopes.contains("call") ? kind : ErrorKind.FATAL, asCall, code + " as a call's error");
            ErrorKind asEntry = KinesisErrors.classifyEntry(code);
            assertEquals(scopes.contains("entry") ? kind : ErrorKind.FATAL, asEntry, code + " as an entry's ErrorCode");
        }
    }

    @Test
    void unlistedCodesGoByStatusAndTheSdksThrottlingSignal() {
        assertEquals(ErrorKind.TRANSIENT, KinesisErrors.classify(error("SomethingNew", 503, null)));
        assertEquals(ErrorKind.FATAL, KinesisErrors.classify(error("ResourceNotFoundException", 400, null)));
        assertEquals(ErrorKind.THROTTLED, KinesisErrors.classify(error("SlowDown", 429, null)));
        assertEquals(ErrorKind.FATAL, KinesisErrors.classifyEntry("KMSAccessDeniedException"));
        assertEquals(ErrorKind.FATAL, KinesisErrors.classifyEntry(null));
    }

    @Test
    void messageTextNeverDecides() {
        // Words that a text match would take for throttling or a transient error: the code decides.
        assertEquals(ErrorKind.FATAL, KinesisErrors.classify(error("ResourceNotFoundException", 400,
                "Throttling internal failure: service unavailable, try again")));
        assertEquals(ErrorKind.FATAL, KinesisErrors.classifyEntry("InternalThrottlingButUnknown"));
        assertEquals(ErrorKind.FATAL, KinesisErrors.classify(SdkClientException.create("connection reset, timed out")));
        assertFalse(KinesisErrors.isAccessDenied(
                SdkClientException.create("Unable to load credentials from any of the providers")));
    }

    @Test
    void clientSideFailuresAreTransientOnlyWhenTheNetworkCausedThem() {
        assertEquals(ErrorKind.TRANSIENT, KinesisErrors.classify(SdkClientException.builder()
                .message("Unable to execute HTTP request").cause(new IOException("Connection refused")).build()));
        assertEquals(ErrorKind.TRANSIENT, KinesisErrors.classify(
                new CompletionException(ApiCallAttemptTimeoutException.create(1000))));
        assertEquals(ErrorKind.FATAL, KinesisErrors.classify(new IllegalStateException("a bug")));
    }

    @Test
    void anAtTimestampRefusalIsKnownByCodeAndIteratorTypeWhateverItsWording() {
        GetShardIteratorRequest atTimestamp = GetShardIteratorRequest.builder().streamName("s").shardId("x")
                .shardIteratorType(ShardIteratorType.AT_TIMESTAMP).timestamp(Instant.ofEpochMilli(1)).build();
        GetShardIteratorRequest trimHorizon = atTimestamp.toBuilder()
                .shardIteratorType(ShardIteratorType.TRIM_HORIZON).timestamp(null).build();
        for (String wording : new String[] {
                "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. "
                        + "timestampInMillis: 1893456000000, currentTimestampInMillis: 1764806400000",
                "Timestamp is in the future", null}) {
            AwsServiceException refused = error("InvalidArgumentException", 400, wording);
            assertTrue(KinesisErrors.isTimestampPastServiceClock(refused, atTimestamp), wording);
            assertFalse(KinesisErrors.isTimestampPastServiceClock(refused, trimHorizon), wording);
        }
        assertFalse(KinesisErrors.isTimestampPastServiceClock(
                error("ValidationException", 400, "timestamp in the future"), atTimestamp));
    }

    @Test
    void accessDeniedIsKnownByStatusCodeOrService() {
        assertTrue(KinesisErrors.isAccessDenied(error("AccessDeniedException", 400, null)));
        assertTrue(KinesisErrors.isAccessDenied(error("UnrecognizedClientException", 400, null)));
        assertTrue(KinesisErrors.isAccessDenied(error("Whatever", 403, null)));
        assertTrue(KinesisErrors.isAccessDenied(StsException.builder().statusCode(400).awsErrorDetails(
                AwsErrorDetails.builder().errorCode("RegionDisabledException").serviceName("STS").build()).build()));
        assertFalse(KinesisErrors.isAccessDenied(error("InvalidArgumentException", 400, "access denied")));
    }

    @Test
    void describeNamesCodeStatusAndMessage() {
        assertEquals("ResourceNotFoundException (HTTP 400): Stream s not found",
                KinesisErrors.describe(error("ResourceNotFoundException", 400, "Stream s not found")));
    }
}
