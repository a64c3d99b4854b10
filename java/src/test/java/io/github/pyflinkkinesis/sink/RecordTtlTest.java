package io.github.pyflinkkinesis.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Collectors;

import org.apache.flink.types.Row;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code sink.record-ttl}: a record not written within it since it entered the sink is dropped before its next
 * call and counted; nothing else is lost; with {@code sink.fail-on-error} the job fails instead. Ages are
 * measured on the writer's processing time, which these tests move by hand (no timer is due: the flush timeout
 * is an hour).
 */
class RecordTtlTest extends WriterTestBase {
    private static final String THROTTLED = "ProvisionedThroughputExceededException";

    @BeforeEach
    void startAtZero() {
        setTime(0); // the test clock starts at Long.MIN_VALUE
    }

    private void write(String key) throws Exception {
        writer.write(Row.of("orders", key, null, key.getBytes()), TestWriterContext.NO_CONTEXT);
    }

    /** Moves the writer's processing time (no timer is due before an hour). */
    private void setTime(long millis) {
        try {
            context.time.setCurrentTime(millis);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private List<String> deliveredKeys() {
        synchronized (kinesis.delivered) {
            return kinesis.delivered.stream().map(d -> d.record.partitionKey()).collect(Collectors.toList());
        }
    }

    @Test
    void aRecordHeldBehindAThrottledShardPastTheTtlIsDroppedAndCountedTheOthersAreWritten() throws Exception {
        kinesis.failRecord = r -> {
            if (!r.partitionKey().equals("hot")) {
                return null;
            }
            setTime(2_000); // the throttled record is 2 s old when it could be sent again
            return THROTTLED;
        };
        writer(5, 50, KinesisSinkConfig.RECORD_TTL, "1 s", KinesisSinkConfig.FLUSH_TIMEOUT, "1 h");
        try (LogCapture log = new LogCapture(PutRecordsSender.class)) {
            write("cold");
            write("hot");
            writer.flush(true);
            assertEquals(List.of("WARN Kinesis sink: dropped 1 record(s) for stream 'orders' not written within"
                    + " sink.record-ttl (1000 ms)"), log.lines(), "the warning names the stream");
        }

        assertEquals(List.of("cold"), deliveredKeys());
        assertEquals(1, context.counter(PutRecordsSender.EXPIRED_METRIC));
        assertEquals(1, kinesis.calls.size(), "the expired record is not sent again");
        assertEquals(0, writer.outstandingRecords());
    }

    @Test
    void recordsWithinTheTtlAreSentOnlyTheExpiredOnesDropped() throws Exception {
        writer(5, 50, KinesisSinkConfig.RECORD_TTL, "1 s", KinesisSinkConfig.FLUSH_TIMEOUT, "1 h");
        write("old");
        setTime(1_500);
        write("new");
        writer.flush(true);

        assertEquals(List.of("new"), deliveredKeys());
        assertEquals(1, context.counter(PutRecordsSender.EXPIRED_METRIC));
    }

    @Test
    void withFailOnErrorAnExpiredRecordFailsTheJobNamingTheStream() throws Exception {
        writer(5, 50, KinesisSinkConfig.RECORD_TTL, "1 s", KinesisSinkConfig.FLUSH_TIMEOUT, "1 h",
                KinesisSinkConfig.FAIL_ON_ERROR, "true");
        write("late");
        setTime(1_000);
        KinesisSinkException e = assertThrows(KinesisSinkException.class, () -> writer.flush(true));
        assertEquals("Kinesis sink: 1 record(s) for stream 'orders' not written within sink.record-ttl (1000 ms)"
                + " and sink.fail-on-error is true", e.getMessage());
        assertTrue(kinesis.calls.isEmpty());
        assertEquals(0, context.counter(PutRecordsSender.EXPIRED_METRIC));
    }

    @Test
    void withoutATtlNothingIsDroppedForItsAge() throws Exception {
        writer(5, 50, KinesisSinkConfig.FLUSH_TIMEOUT, "1 h");
        write("old");
        setTime(3_600_000 - 1);
        writer.flush(true);

        assertEquals(List.of("old"), deliveredKeys());
    }
}
