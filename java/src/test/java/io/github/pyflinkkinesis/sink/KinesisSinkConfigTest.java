package io.github.pyflinkkinesis.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class KinesisSinkConfigTest {
    private static final Map<String, String> AWS = Map.of("aws.region", "us-east-1",
            "aws.endpoint", "https://127.0.0.1:4567", "aws.credentials.provider.basic.accesskeyid", "x",
            "aws.credentials.provider.basic.secretkey", "y");

    @Test
    void defaultsAreTheOfficialConnectors() {
        KinesisSinkConfig config = KinesisSink.create(AWS).config();
        assertEquals(500, config.maxBatchSize());
        assertEquals(50, config.maxInFlightRequests());
        assertEquals(10_000, config.maxBufferedRequests());
        assertEquals(5L * 1024 * 1024, config.maxBatchSizeInBytes());
        assertEquals(5000, config.maxTimeInBufferMs());
        assertFalse(config.skipOversizedRecords());
        assertFalse(config.failOnError());
        assertEquals(300_000, config.retryRule().maxRetryMillis(), "as the Beam transforms' max_retry_time");
        assertEquals(KinesisSinkConfig.MAX_RETRY_TIME, config.retryRule().key());
    }

    @Test
    void valuesAreParsed() {
        KinesisSinkConfig config = KinesisSinkConfig.of(Map.of(
                KinesisSinkConfig.BATCH_MAX_SIZE, "100", KinesisSinkConfig.MAX_INFLIGHT, "4",
                KinesisSinkConfig.MAX_BUFFERED, "1000", KinesisSinkConfig.FLUSH_SIZE, "2 mb",
                KinesisSinkConfig.FLUSH_TIMEOUT, "250 ms", KinesisSinkConfig.SKIP_OVERSIZED, "TRUE",
                KinesisSinkConfig.FAIL_ON_ERROR, "true", KinesisSinkConfig.MAX_RETRY_TIME, "2 min"));
        assertEquals(100, config.maxBatchSize());
        assertEquals(4, config.maxInFlightRequests());
        assertEquals(1000, config.maxBufferedRequests());
        assertEquals(2L * 1024 * 1024, config.maxBatchSizeInBytes());
        assertEquals(250, config.maxTimeInBufferMs());
        assertTrue(config.skipOversizedRecords());
        assertTrue(config.failOnError());
        assertEquals(120_000, config.retryRule().maxRetryMillis());
        assertEquals(5000, KinesisSinkConfig.of(Map.of(KinesisSinkConfig.FLUSH_TIMEOUT, "5000")).maxTimeInBufferMs());
    }

    @Test
    void aSmallMaxBufferedLowersTheDefaultBatchSize() {
        KinesisSinkConfig config = KinesisSinkConfig.of(Map.of(KinesisSinkConfig.MAX_BUFFERED, "100"));
        assertEquals(99, config.maxBatchSize());
    }

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
        "sink.batch.max-size; 501; from 1 to 500",
        "sink.batch.max-size; 0; from 1 to 500",
        "sink.batch.max-size; ten; from 1 to 500",
        "sink.requests.max-inflight; 0; from 1 up",
        "sink.requests.max-buffered; 1; from 2 up",
        "sink.flush-buffer.size; 6 mb; from 1048576 to 5242880 bytes",
        "sink.flush-buffer.size; 1000; from 1048576 to 5242880 bytes",
        "sink.flush-buffer.timeout; 0; at least 1 ms",
        "sink.flush-buffer.timeout; soon; at least 1 ms",
        "sink.max-retry-time; never; at least 1 ms",
        "sink.skip-oversized-records; yes; true or false",
        "sink.fail-on-error; 1; true or false",
        "sink.record-ttl; 0; at least 1 ms",
        "sink.rate-limit; 0; from 1 up",
        "sink.max-record-size; 11 mb; from 1 to 10485760 bytes",
        "sink.partitioner; random; not a key of this sink",
    })
    void badValuesNameTheKey(String key, String value, String expected) {
        Map<String, String> properties = new HashMap<>(AWS);
        properties.put(key, value);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KinesisSink.create(properties));
        assertTrue(e.getMessage().startsWith(key + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void theProducerKeysAreUnsetByDefaultAndTheWriterTakesRecordsUpToTenMebibytes() {
        KinesisSinkConfig config = KinesisSinkConfig.of(Map.of());
        assertEquals(null, config.recordTtlMs());
        assertEquals(null, config.rateLimitPercent());
        assertEquals(null, config.maxRecordSize());
        assertEquals(10 * 1024 * 1024, config.largestRecordBytes(), "each stream's own limit is checked on the way in");
        assertEquals(10L * 1024 * 1024, config.writerBatchBytes(), "the base writer needs the largest record to fit");
        assertEquals(5L * 1024 * 1024, config.maxBatchSizeInBytes(), "what a call carries");
    }

    @Test
    void theProducerKeysAreParsed() {
        KinesisSinkConfig config = KinesisSinkConfig.of(Map.of(KinesisSinkConfig.RECORD_TTL, "1500",
                KinesisSinkConfig.RATE_LIMIT, "20", KinesisSinkConfig.MAX_RECORD_SIZE, "1 mb"));
        assertEquals(1500L, config.recordTtlMs());
        assertEquals(20, config.rateLimitPercent());
        assertEquals(200, config.maxBatchSize(), "a call holds at most a second's budget of one shard");
        assertEquals(1024 * 1024, config.maxRecordSize());
        assertEquals(5L * 1024 * 1024, config.writerBatchBytes());
        assertEquals(500, KinesisSinkConfig.of(Map.of(KinesisSinkConfig.RATE_LIMIT, "150")).maxBatchSize());
    }

    @Test
    void maxBufferedMustExceedAnExplicitBatchSize() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KinesisSinkConfig.of(Map.of(
                KinesisSinkConfig.MAX_BUFFERED, "500", KinesisSinkConfig.BATCH_MAX_SIZE, "500")));
        assertEquals("sink.requests.max-buffered: expected more than sink.batch.max-size (500), got 500", e.getMessage());
    }

    @Test
    void aggregatingABatchCountsUserRecordsBeyondACallsFiveHundred() {
        assertEquals(5000, KinesisSinkConfig.of(Map.of(KinesisSinkConfig.AGGREGATION_ENABLED, "true")).maxBatchSize(),
                "half of max-buffered by default");
        assertEquals(8000, KinesisSinkConfig.of(Map.of(KinesisSinkConfig.AGGREGATION_ENABLED, "true",
                KinesisSinkConfig.BATCH_MAX_SIZE, "8000")).maxBatchSize());
        IllegalArgumentException plain = assertThrows(IllegalArgumentException.class, () -> KinesisSinkConfig.of(
                Map.of(KinesisSinkConfig.BATCH_MAX_SIZE, "501")));
        assertEquals("sink.batch.max-size: expected a whole number from 1 to 500, got '501'", plain.getMessage());
        IllegalArgumentException buffered = assertThrows(IllegalArgumentException.class, () -> KinesisSinkConfig.of(
                Map.of(KinesisSinkConfig.AGGREGATION_ENABLED, "true", KinesisSinkConfig.BATCH_MAX_SIZE, "10000")));
        assertEquals("sink.requests.max-buffered: expected more than sink.batch.max-size (10000), got 10000",
                buffered.getMessage());
    }

    @Test
    void awsKeysAreValidatedToo() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KinesisSink.create(Map.of(KinesisSinkConfig.BATCH_MAX_SIZE, "10")));
        assertTrue(e.getMessage().contains("aws.region"), e.getMessage());
    }
}
