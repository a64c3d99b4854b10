package io.github.pyflinkkinesis.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.flink.types.Row;
import org.junit.jupiter.api.Test;

import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.services.kinesis.model.ProvisionedThroughputExceededException;

/** {@code sink.fail-on-throttling}: the first throttled record or call fails the job instead of being retried. */
class FailOnThrottlingTest extends WriterTestBase {
    private static final String THROTTLED = "ProvisionedThroughputExceededException";

    private void write(String key) throws Exception {
        writer.write(Row.of("orders", key, null, new byte[] {1, 2}), TestWriterContext.NO_CONTEXT);
    }

    @Test
    void aThrottledRecordFailsNamingTheStreamAndTheShardTheServiceNames() throws Exception {
        kinesis.failRecord = r -> r.partitionKey().equals("hot") ? THROTTLED : null;
        kinesis.recordErrorMessage = "Rate exceeded for shard shardId-000000000003 in stream orders under account 1.";
        writer(5, 50, KinesisSinkConfig.FAIL_ON_THROTTLING, "true");
        write("cold");
        write("hot");
        KinesisSinkException e = assertThrows(KinesisSinkException.class, () -> writer.flush(true));
        assertTrue(e.getMessage().startsWith("Kinesis sink: shard shardId-000000000003 of stream 'orders' throttled"
                + " a record with partition key 'hot' and sink.fail-on-throttling is true"), e.getMessage());
        assertEquals(1, kinesis.calls.size(), "not retried");
    }

    @Test
    void aThrottledAggregateNamesTheShardItWasPackedFor() throws Exception {
        kinesis.failRecord = r -> THROTTLED;
        kinesis.recordErrorMessage = "Rate exceeded";
        writer(5, 50, KinesisSinkConfig.FAIL_ON_THROTTLING, "true", KinesisSinkConfig.AGGREGATION_ENABLED, "true");
        write("a");
        write("b");
        KinesisSinkException e = assertThrows(KinesisSinkException.class, () -> writer.flush(true));
        assertTrue(e.getMessage().startsWith("Kinesis sink: shard shardId-000000000000 of stream 'orders'"),
                e.getMessage());
    }

    @Test
    void aThrottledCallFailsNamingTheStream() throws Exception {
        kinesis.failCall = c -> ProvisionedThroughputExceededException.builder().message("Rate exceeded for stream")
                .statusCode(400).awsErrorDetails(AwsErrorDetails.builder().errorCode(THROTTLED)
                        .errorMessage("Rate exceeded for stream orders").serviceName("Kinesis").build()).build();
        writer(5, 50, KinesisSinkConfig.FAIL_ON_THROTTLING, "true");
        write("k");
        KinesisSinkException e = assertThrows(KinesisSinkException.class, () -> writer.flush(true));
        assertTrue(e.getMessage().startsWith("Kinesis sink: PutRecords to stream 'orders' was throttled and"
                + " sink.fail-on-throttling is true"), e.getMessage());
        assertEquals(1, kinesis.calls.size(), "not retried");
    }

    @Test
    void withoutItAThrottledRecordIsRetried() throws Exception {
        kinesis.failRecord = r -> kinesis.calls.size() == 1 ? THROTTLED : null;
        writer(5, 50);
        write("hot");
        writer.flush(true);
        assertEquals(1, kinesis.delivered.size());
        assertEquals(2, kinesis.calls.size());
    }
}
