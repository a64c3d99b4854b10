package io.github.pyflinkkinesis.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.apache.flink.connector.base.sink.writer.BufferedRequestState;
import org.apache.flink.types.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.github.pyflinkkinesis.aws.retry.RetryRule;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.kinesis.model.AccessDeniedException;
import software.amazon.awssdk.services.kinesis.model.InvalidArgumentException;
import software.amazon.awssdk.services.kinesis.model.KinesisException;
import software.amazon.awssdk.services.kinesis.model.ProvisionedThroughputExceededException;
import software.amazon.awssdk.services.kinesis.model.ResourceNotFoundException;
import software.amazon.awssdk.services.sts.model.StsException;

/** The writer against a scripted client, on a real Flink mailbox. */
class KinesisSinkWriterTest extends WriterTestBase {
    private KinesisSinkWriter writer(String... keyValues) {
        return writer(5, 50, keyValues);
    }

    private void write(String stream, String key, byte[] data) throws Exception {
        Row row = Row.of(stream, key, null, data);
        written.add(row);
        writer.write(row, TestWriterContext.NO_CONTEXT);
    }

    private static String key(Row row) {
        return row.getField(0) + "|" + row.getField(1) + "|" + row.getField(2) + "|"
                + Base64.getEncoder().encodeToString((byte[]) row.getField(3));
    }

    /** Every written record was accepted exactly once, byte for byte. */
    private void assertDeliveredOnce() {
        assertDeliveredOnce(kinesis);
    }

    private void assertDeliveredOnce(FakeKinesis endpoint) {
        Map<String, Long> delivered;
        synchronized (endpoint.delivered) {
            delivered = endpoint.delivered.stream()
                    .collect(Collectors.groupingBy(FakeKinesis.Delivered::key, Collectors.counting()));
        }
        Map<String, Long> expected = written.stream()
                .collect(Collectors.groupingBy(KinesisSinkWriterTest::key, Collectors.counting()));
        if (!expected.equals(delivered)) {
            List<String> wrong = expected.keySet().stream().filter(k -> !expected.get(k).equals(delivered.get(k)))
                    .limit(3).map(k -> k + " x" + delivered.get(k)).collect(Collectors.toList());
            fail(written.size() + " written, " + endpoint.delivered.size() + " delivered; e.g. " + wrong);
        }
    }

    private static byte[] randomBytes(Random random, int n) {
        byte[] data = new byte[n];
        random.nextBytes(data);
        return data;
    }

    private static AwsServiceException kinesisError(AwsServiceException.Builder builder, String code, int status) {
        return builder.message(code).statusCode(status)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage("injected " + code)
                        .serviceName("Kinesis").build())
                .build();
    }

    @Test
    void partialFailuresRetryOnlyTheFailedEntries() throws Exception {
        Set<String> failedOnce = ConcurrentHashMap.newKeySet();
        kinesis.failRecord = record -> {
            int i = Integer.parseInt(record.partitionKey().substring(1));
            if (i % 3 == 0 && failedOnce.add(record.partitionKey())) {
                return i % 2 == 0 ? "ProvisionedThroughputExceededException" : "InternalFailure";
            }
            return null;
        };
        writer();
        Random random = new Random(1);
        for (int i = 0; i < 1000; i++) {
            write("orders", "k" + i, randomBytes(random, random.nextInt(200)));
        }
        writer.flush(true);

        assertDeliveredOnce();
        assertEquals(334, failedOnce.size());
        Map<String, Integer> sends = new HashMap<>();
        synchronized (kinesis.calls) {
            kinesis.calls.forEach(c -> c.records.forEach(r -> sends.merge(r.partitionKey(), 1, Integer::sum)));
        }
        Set<String> resent = sends.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey)
                .collect(Collectors.toSet());
        assertEquals(failedOnce, resent, "exactly the failed entries are sent again");
        assertTrue(sends.values().stream().allMatch(n -> n <= 2));
        assertEquals(334, context.counter("numRecordsSendErrors"));
    }

    static Stream<Arguments> retryableCallErrors() {
        return Stream.of(
                Arguments.of(kinesisError(ProvisionedThroughputExceededException.builder(),
                        "ProvisionedThroughputExceededException", 400)),
                Arguments.of(kinesisError(KinesisException.builder(), "InternalFailure", 500)),
                Arguments.of(kinesisError(KinesisException.builder(), "ThrottlingException", 400)),
                Arguments.of(SdkClientException.builder().message("Unable to execute HTTP request")
                        .cause(new IOException("Connection reset by peer")).build()),
                Arguments.of(ApiCallAttemptTimeoutException.builder().message("attempt timed out").build()));
    }

    @ParameterizedTest
    @MethodSource("retryableCallErrors")
    void retryableCallErrorsAreRetriedWithGrowingBackoff(Throwable error) throws Exception {
        AtomicInteger call = new AtomicInteger();
        kinesis.failCall = c -> call.getAndIncrement() < 3 ? error : null;
        writer(40, 1000);
        for (int i = 0; i < 10; i++) {
            write("orders", "k" + i, new byte[] {(byte) i});
        }
        writer.flush(true);

        assertDeliveredOnce();
        List<FakeKinesis.Call> calls = new ArrayList<>(kinesis.calls);
        assertEquals(4, calls.size());
        for (int i = 1; i < calls.size(); i++) {
            long gapMillis = (calls.get(i).nanos - calls.get(i - 1).nanos) / 1_000_000;
            long leastMillis = (40L << (i - 1)) / 2; // jitter keeps at least half of each step
            assertTrue(gapMillis >= leastMillis, "retry " + i + " came after " + gapMillis + " ms");
        }
    }

    static Stream<Arguments> fatalCallErrors() {
        return Stream.of(
                Arguments.of(kinesisError(ResourceNotFoundException.builder(), "ResourceNotFoundException", 400),
                        "the stream does not exist"),
                Arguments.of(kinesisError(AccessDeniedException.builder(), "AccessDeniedException", 400),
                        "access denied"),
                Arguments.of(kinesisError(KinesisException.builder(), "UnrecognizedClientException", 400),
                        "access denied"),
                Arguments.of(StsException.builder().statusCode(403).awsErrorDetails(AwsErrorDetails.builder()
                        .errorCode("AccessDenied").serviceName("STS").errorMessage("not authorized").build()).build(),
                        "access denied"),
                Arguments.of(SdkClientException.builder()
                        .message("Unable to load credentials from any of the providers in the chain").build(),
                        "the client could not send the request"),
                Arguments.of(kinesisError(InvalidArgumentException.builder(), "InvalidArgumentException", 400),
                        "cannot be retried"),
                Arguments.of(new IllegalStateException("a bug"), "cannot be retried"));
    }

    @ParameterizedTest
    @MethodSource("fatalCallErrors")
    void fatalCallErrorsFailTheJobNamingTheStream(Throwable error, String reason) throws Exception {
        kinesis.failCall = c -> error;
        writer();
        write("orders", "k1", new byte[] {1});
        KinesisSinkException e = assertThrows(KinesisSinkException.class, () -> writer.flush(true));
        assertTrue(e.getMessage().contains("stream 'orders'"), e.getMessage());
        assertTrue(e.getMessage().contains(reason), e.getMessage());
        assertEquals(1, kinesis.calls.size(), "not retried");
    }

    @Test
    void unknownRecordErrorCodeFailsNamingStreamAndKey() throws Exception {
        kinesis.failRecord = r -> r.partitionKey().equals("k2") ? "KMSAccessDeniedException" : null;
        writer();
        for (int i = 0; i < 3; i++) {
            write("orders", "k" + i, new byte[] {1});
        }
        KinesisSinkException e = assertThrows(KinesisSinkException.class, () -> writer.flush(true));
        assertTrue(e.getMessage().contains("partition key 'k2' to stream 'orders'"), e.getMessage());
        assertTrue(e.getMessage().contains("KMSAccessDeniedException"), e.getMessage());
    }

    @Test
    void failOnErrorMakesThrottlingFatal() throws Exception {
        kinesis.failCall = c -> kinesisError(ProvisionedThroughputExceededException.builder(),
                "ProvisionedThroughputExceededException", 400);
        writer(KinesisSinkConfig.FAIL_ON_ERROR, "true");
        write("orders", "k1", new byte[] {1});
        KinesisSinkException e = assertThrows(KinesisSinkException.class, () -> writer.flush(true));
        assertTrue(e.getMessage().contains("stream 'orders'") && e.getMessage().contains("sink.fail-on-error"),
                e.getMessage());
    }

    @Test
    void failuresLongerThanTheTotalRetryTimeFailTheJobNamingCallStreamAndLastError() throws Exception {
        kinesis.failCall = c -> kinesisError(ProvisionedThroughputExceededException.builder(),
                "ProvisionedThroughputExceededException", 400);
        writer(KinesisSinkConfig.MAX_RETRY_TIME, "300 ms");
        write("orders", "k1", new byte[] {1});
        long start = System.nanoTime();
        KinesisSinkException e = assertThrows(KinesisSinkException.class, () -> writer.flush(true));
        assertTrue((System.nanoTime() - start) / 1_000_000 >= 300, "retried for the total retry time");
        assertTrue(kinesis.calls.size() > 2, "retried " + kinesis.calls.size() + " times");
        assertTrue(e.getMessage().startsWith("Kinesis PutRecords to stream 'orders' failed for ")
                && e.getMessage().contains("longer than sink.max-retry-time (0.3 s); last error: "
                + "ProvisionedThroughputExceededException (HTTP 400)"), e.getMessage());
    }

    @Test
    void eachCallCarriesOneStreamWithinTheCountLimit() throws Exception {
        writer();
        String arn = "arn:aws:kinesis:us-east-1:000000000000:stream/third";
        List<String> streams = List.of("first", "second", arn);
        for (int i = 0; i < 1200; i++) {
            write("first", "first#" + i, new byte[0]);
        }
        writer.flush(true);
        for (int i = 0; i < 1500; i++) {
            String stream = streams.get(i % 3);
            write(stream, stream + "#more" + i, new byte[] {(byte) i, 0, (byte) 0xff});
        }
        writer.flush(true);

        assertDeliveredOnce();
        synchronized (kinesis.calls) {
            for (FakeKinesis.Call call : kinesis.calls) {
                assertTrue(call.records.size() <= 500, "a call of " + call.records.size() + " records");
                assertTrue(call.records.stream().allMatch(r -> r.partitionKey().startsWith(call.stream + "#")),
                        "a call mixing streams");
            }
            assertTrue(kinesis.calls.stream().anyMatch(c -> c.records.size() == 500), "full batches are sent");
            assertTrue(kinesis.calls.stream().anyMatch(c -> c.stream.equals(arn)), "ARNs are passed as such");
        }
    }

    @Test
    void eachCallStaysWithinFiveMebibytes() throws Exception {
        writer();
        Random random = new Random(2);
        for (int i = 0; i < 12; i++) {
            write("orders", "k" + i, randomBytes(random, 600 * 1024));
        }
        writer.flush(true);

        assertDeliveredOnce();
        assertTrue(kinesis.calls.size() >= 2);
        synchronized (kinesis.calls) {
            for (FakeKinesis.Call call : kinesis.calls) {
                assertTrue(call.bytes() <= 5 * 1024 * 1024, "a call of " + call.bytes() + " bytes");
            }
        }
    }

    @Test
    void oversizedRecordFailsNamingStreamAndKey() throws Exception {
        writer();
        OversizedRecordException e = assertThrows(OversizedRecordException.class,
                () -> write("orders", "big", new byte[1024 * 1024]));
        assertTrue(e.getMessage().contains("stream 'orders' with partition key 'big'"), e.getMessage());
    }

    @Test
    void oversizedRecordIsSkippedAndCountedWhenConfigured() throws Exception {
        writer(KinesisSinkConfig.SKIP_OVERSIZED, "true");
        write("orders", "a", new byte[] {1});
        writer.write(Row.of("orders", "big", null, new byte[1024 * 1024]), TestWriterContext.NO_CONTEXT);
        write("orders", "b", new byte[1024 * 1024 - 1]);
        writer.flush(true);

        assertDeliveredOnce();
        assertEquals(1, context.counter(PutRecordsSender.OVERSIZED_METRIC));
        assertFalse(kinesis.calls.stream().anyMatch(c -> c.records.stream().anyMatch(r -> r.partitionKey().equals("big"))));
    }

    @Test
    void bufferedPlusInFlightStayWithinMaxBuffered() throws Exception {
        kinesis.answerDelayMillis = 2;
        writer(KinesisSinkConfig.MAX_BUFFERED, "100", KinesisSinkConfig.BATCH_MAX_SIZE, "10");
        int most = 0;
        for (int i = 0; i < 1000; i++) {
            write("orders", "k" + i, new byte[] {(byte) i});
            most = Math.max(most, writer.outstandingRecords());
        }
        writer.flush(true);

        assertDeliveredOnce();
        assertTrue(most <= 100, "outstanding records reached " + most);
    }

    @Test
    void severalCallsAreInFlightUpToTheLimit() throws Exception {
        kinesis.answerDelayMillis = 100;
        writer(KinesisSinkConfig.MAX_INFLIGHT, "4", KinesisSinkConfig.BATCH_MAX_SIZE, "10");
        for (int i = 0; i < 200; i++) {
            write("orders", "k" + i, new byte[] {(byte) i});
        }
        writer.flush(true);

        assertDeliveredOnce();
        assertEquals(4, kinesis.mostOpenCalls.get());
        // Slow start: the first call alone, the next ones only after it was answered, then more at once.
        assertEquals(List.of(1, 1), kinesis.calls.subList(0, 2).stream().map(c -> c.open).collect(Collectors.toList()));
    }

    @Test
    void bufferIsFlushedWhenTheTimeoutFires() throws Exception {
        writer(KinesisSinkConfig.FLUSH_TIMEOUT, "1 s");
        for (int i = 0; i < 3; i++) {
            write("orders", "k" + i, new byte[] {(byte) i});
        }
        assertTrue(kinesis.calls.isEmpty(), "a small buffer waits");
        long start = context.time.getCurrentProcessingTime();
        context.time.setCurrentTime(start + 999);
        assertTrue(kinesis.calls.isEmpty(), "not before the timeout");
        context.time.setCurrentTime(start + 1000);
        assertEquals(1, kinesis.calls.size());
        assertEquals(3, kinesis.calls.get(0).records.size());
        writer.flush(true);
        assertDeliveredOnce();
    }

    @Test
    void bufferedRecordsSurviveInStateAndAreSentAfterRestore() throws Exception {
        writer();
        Random random = new Random(3);
        write("orders", "k0", randomBytes(random, 100));
        write("clicks", "k1", randomBytes(random, 0));
        Row hashed = Row.of("orders", "k2", "340282366920938463463374607431768211455", randomBytes(random, 10));
        written.add(hashed);
        writer.write(hashed, TestWriterContext.NO_CONTEXT);
        writer.flush(false); // what a checkpoint does: wait for calls in flight, keep the buffer
        List<BufferedRequestState<KinesisSinkEntry>> state = writer.snapshotState(1);
        assertTrue(kinesis.calls.isEmpty());

        KinesisSinkStateSerializer serializer = new KinesisSinkStateSerializer();
        byte[] bytes = serializer.serialize(state.get(0));
        BufferedRequestState<KinesisSinkEntry> restored = serializer.deserialize(serializer.getVersion(), bytes);
        writer.close();
        writer = null;

        FakeKinesis other = new FakeKinesis();
        KinesisSinkWriter restoredWriter = new KinesisSinkWriter(new TestWriterContext(),
                KinesisSinkConfig.of(Map.of()), other, new RetryRule(5, 50, Duration.ofMinutes(1), "sink.max-retry-time"), List.of(restored));
        try {
            restoredWriter.flush(true);
        } finally {
            restoredWriter.close();
        }
        assertDeliveredOnce(other);
        assertTrue(other.calls.stream().anyMatch(c -> c.records.stream()
                .anyMatch(r -> "340282366920938463463374607431768211455".equals(r.explicitHashKey()))));
        assertEquals("k2".getBytes(StandardCharsets.UTF_8).length + 10,
                restored.getBufferedRequestEntries().stream()
                        .filter(w -> w.getRequestEntry().partitionKey().equals("k2")).findFirst().get().getSize());
    }
}
