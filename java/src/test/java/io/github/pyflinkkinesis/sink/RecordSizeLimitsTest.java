package io.github.pyflinkkinesis.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.flink.types.Row;
import org.junit.jupiter.api.Test;

/**
 * {@code sink.max-record-size}: each stream's limit is the configured size, else its {@code MaxRecordSizeInKiB}
 * (DescribeStreamSummary, asked once and only for a record over 1 MiB), else 1 MiB; PutRecords calls stay within
 * {@code sink.flush-buffer.size} unless one larger record goes alone.
 */
class RecordSizeLimitsTest extends WriterTestBase {
    private static final int MIB = 1024 * 1024;

    private static KinesisSinkEntry entry(String key, int dataBytes) {
        return KinesisSinkEntry.of("orders", key, null, new byte[dataBytes]);
    }

    @Test
    void withoutTheFieldOneMebibyteStaysTheLimitAndTheErrorSaysWhereItCameFrom() {
        RecordSizeLimits limits = new RecordSizeLimits(kinesis, null);
        limits.check(entry("k", MIB - 1));
        assertEquals(0, kinesis.describeCalls.get(), "a record of up to 1 MiB fits every stream: nothing asked");
        OversizedRecordException e = assertThrows(OversizedRecordException.class, () -> limits.check(entry("big", MIB)));
        assertEquals("Kinesis sink: a record for stream 'orders' with partition key 'big' is 1048579 bytes (data +"
                + " UTF-8 partition key), over Kinesis' limit of 1048576 bytes (the Kinesis default: the stream"
                + " reports no MaxRecordSizeInKiB); set sink.skip-oversized-records=true to skip such records",
                e.getMessage());
        assertEquals(1, kinesis.describeCalls.get());
    }

    @Test
    void aStreamReportingTenMebibytesTakesAFiveMebibyteRecordAndIsAskedOnce() {
        kinesis.maxRecordSizeInKiB = 10240;
        RecordSizeLimits limits = new RecordSizeLimits(kinesis, null);
        limits.check(entry("a", 5 * MIB));
        limits.check(entry("b", 10 * MIB - 1));
        assertEquals(1, kinesis.describeCalls.get());
        kinesis.maxRecordSizeInKiB = 2048;
        RecordSizeLimits two = new RecordSizeLimits(kinesis, null);
        OversizedRecordException e = assertThrows(OversizedRecordException.class, () -> two.check(entry("c", 2 * MIB)));
        assertTrue(e.getMessage().contains("limit of 2097152 bytes (the stream's MaxRecordSizeInKiB 2048"
                + " (DescribeStreamSummary))"), e.getMessage());
    }

    @Test
    void theConfiguredSizeWinsWithoutAsking() {
        kinesis.maxRecordSizeInKiB = 10240;
        RecordSizeLimits limits = new RecordSizeLimits(kinesis, 2 * MIB);
        limits.check(entry("a", 2 * MIB - 1));
        OversizedRecordException e = assertThrows(OversizedRecordException.class,
                () -> limits.check(entry("b", 2 * MIB)));
        assertTrue(e.getMessage().contains("limit of 2097152 bytes (sink.max-record-size)"), e.getMessage());
        assertEquals(0, kinesis.describeCalls.get());
    }

    @Test
    void aFiveMebibyteRecordGoesAloneInItsCallAndTheOthersInCallsOfAtMostTheFlushSize() throws Exception {
        kinesis.maxRecordSizeInKiB = 10240;
        writer(5, 50);
        for (int i = 0; i < 6; i++) {
            writer.write(Row.of("orders", "k" + i, null, new byte[MIB - 10]), TestWriterContext.NO_CONTEXT);
        }
        writer.write(Row.of("orders", "big", null, new byte[5 * MIB]), TestWriterContext.NO_CONTEXT);
        writer.write(Row.of("orders", "last", null, new byte[10]), TestWriterContext.NO_CONTEXT);
        writer.flush(true);

        assertEquals(8, kinesis.delivered.size());
        synchronized (kinesis.calls) {
            for (FakeKinesis.Call call : kinesis.calls) {
                boolean big = call.records.stream().anyMatch(r -> r.partitionKey().equals("big"));
                assertTrue(big ? call.records.size() == 1 : call.bytes() <= 5 * MIB,
                        "a call of " + call.records.size() + " records, " + call.bytes() + " bytes");
            }
        }
    }

    @Test
    void theWriterRefusesARecordOverItsStreamsLimitOrSkipsIt() throws Exception {
        writer(5, 50, KinesisSinkConfig.SKIP_OVERSIZED, "true");
        writer.write(Row.of("orders", "big", null, new byte[2 * MIB]), TestWriterContext.NO_CONTEXT);
        writer.write(Row.of("orders", "small", null, new byte[1]), TestWriterContext.NO_CONTEXT);
        writer.flush(true);
        assertEquals(1, kinesis.delivered.size());
        assertEquals("small", kinesis.delivered.get(0).record.partitionKey());
        assertEquals(1, context.counter(PutRecordsSender.OVERSIZED_METRIC));
    }
}
