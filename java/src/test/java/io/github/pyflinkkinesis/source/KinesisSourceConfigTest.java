package io.github.pyflinkkinesis.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;

class KinesisSourceConfigTest {
    private static final long T = 1_700_000_000_123L; // 2023-11-14T22:13:20.123Z

    private static void assertRejected(String key, Map<String, String> properties) {
        IllegalArgumentException error =
                assertThrows(IllegalArgumentException.class, () -> KinesisSourceConfig.of(properties));
        assertTrue(error.getMessage().startsWith(key), error.getMessage());
    }

    @Test
    void defaultsAreTheOfficialConnectorsOnes() {
        KinesisSourceConfig config = KinesisSourceConfig.of(Map.of());
        assertEquals(KinesisSourceConfig.InitialPosition.LATEST, config.initialPosition());
        assertEquals(Duration.ofSeconds(10), config.discoveryInterval());
        assertEquals(10_000, config.maxRecordCount());
        assertEquals(Duration.ofMillis(250), config.emptyFetchInterval());
        assertEquals(300_000, config.retryRule().maxRetryMillis(), "as the Beam transforms' max_retry_time");
    }

    @Test
    void timestampsParseInTheDefaultFormat() {
        String format = KinesisSourceConfig.DEFAULT_TIMESTAMP_FORMAT;
        assertEquals(T, KinesisSourceConfig.parseTimestamp("2023-11-14T22:13:20.123Z", format));
        assertEquals(T, KinesisSourceConfig.parseTimestamp("2023-11-14T23:13:20.123+01:00", format));
    }

    @Test
    void timestampsParseAsEpochSeconds() {
        assertEquals(T, KinesisSourceConfig.parseTimestamp("1700000000.123", KinesisSourceConfig.DEFAULT_TIMESTAMP_FORMAT));
        assertEquals(1_700_000_000_000L, KinesisSourceConfig.parseTimestamp("1700000000", "yyyy"));
    }

    @Test
    void timestampsWithoutAnOffsetAreUtc() {
        assertEquals(1_700_000_000_000L, KinesisSourceConfig.parseTimestamp("2023-11-14 22:13:20", "yyyy-MM-dd HH:mm:ss"));
    }

    @Test
    void atTimestampReadsTheTimestampAndFormatKeys() {
        KinesisSourceConfig config = KinesisSourceConfig.of(Map.of("source.init.position", "at_timestamp",
                "source.init.timestamp", "14.11.2023 22:13:20", "source.init.timestamp.format", "dd.MM.yyyy HH:mm:ss"));
        assertEquals(KinesisSourceConfig.InitialPosition.AT_TIMESTAMP, config.initialPosition());
        assertEquals(1_700_000_000_000L, config.initialTimestampMillis());
    }

    @Test
    void badValuesAreRejectedNamingTheKey() {
        assertRejected("source.init.position", Map.of("source.init.position", "EARLIEST"));
        assertRejected("source.init.timestamp", Map.of("source.init.position", "AT_TIMESTAMP"));
        assertRejected("source.init.timestamp", Map.of("source.init.position", "AT_TIMESTAMP",
                "source.init.timestamp", "yesterday"));
        assertRejected("source.init.timestamp.format", Map.of("source.init.position", "AT_TIMESTAMP",
                "source.init.timestamp", "2023", "source.init.timestamp.format", "yyyy-{{"));
        assertRejected("source.shard.discovery.interval", Map.of("source.shard.discovery.interval", "often"));
        assertRejected("source.shard.discovery.interval", Map.of("source.shard.discovery.interval", "0 s"));
        assertRejected("source.shard.get-records.max-record-count", Map.of("source.shard.get-records.max-record-count", "10001"));
        assertRejected("source.reader.empty-records-fetch-interval", Map.of("source.reader.empty-records-fetch-interval", "-1 s"));
        assertRejected("source.max-retry-time", Map.of("source.max-retry-time", "a while"));
        assertRejected("source.stream-recreated", Map.of("source.stream-recreated", "AGAIN"));
    }

    @Test
    void streamRecreatedIsFailByDefaultOrStartOver() {
        assertEquals(KinesisSourceConfig.StreamRecreated.FAIL, KinesisSourceConfig.of(Map.of()).streamRecreated());
        assertEquals(KinesisSourceConfig.StreamRecreated.START_OVER,
                KinesisSourceConfig.of(Map.of("source.stream-recreated", "start-over")).streamRecreated());
    }

    @Test
    void durationsUseFlinksSyntax() {
        KinesisSourceConfig config = KinesisSourceConfig.of(Map.of("source.shard.discovery.interval", "1 min",
                "source.reader.empty-records-fetch-interval", "50 ms", "source.shard.get-records.max-record-count", "500"));
        assertEquals(Duration.ofMinutes(1), config.discoveryInterval());
        assertEquals(Duration.ofMillis(50), config.emptyFetchInterval());
        assertEquals(500, config.maxRecordCount());
        assertEquals(90_000, KinesisSourceConfig.of(Map.of("source.max-retry-time", "90 s")).retryRule().maxRetryMillis());
    }

    @Test
    void enhancedFanOutKeysAreTheOfficialConnectorsOnes() {
        KinesisSourceConfig polling = KinesisSourceConfig.of(Map.of("source.efo.consumer.name", "ignored"));
        assertEquals(KinesisSourceConfig.ReaderType.POLLING, polling.readerType());
        assertEquals(null, polling.consumerName());

        KinesisSourceConfig efo = KinesisSourceConfig.of(Map.of("source.reader.type", "efo",
                "source.efo.consumer.name", "my-app.v2"));
        assertEquals(KinesisSourceConfig.ReaderType.EFO, efo.readerType());
        assertEquals("my-app.v2", efo.consumerName());
        assertEquals(KinesisSourceConfig.ConsumerLifecycle.JOB_MANAGED, efo.consumerLifecycle());
        assertEquals(Duration.ofSeconds(60), efo.subscriptionTimeout());

        KinesisSourceConfig self = KinesisSourceConfig.of(Map.of("source.reader.type", "EFO",
                "source.efo.consumer.name", "app", "source.efo.lifecycle", "self-managed",
                "source.efo.subscription.timeout", "30 s"));
        assertEquals(KinesisSourceConfig.ConsumerLifecycle.SELF_MANAGED, self.consumerLifecycle());
        assertEquals(Duration.ofSeconds(30), self.subscriptionTimeout());
    }

    @Test
    void badEnhancedFanOutValuesAreRejectedNamingTheKey() {
        assertRejected("source.reader.type: expected POLLING or EFO, got 'FANOUT'",
                Map.of("source.reader.type", "FANOUT"));
        assertRejected("source.efo.consumer.name: source.reader.type EFO needs a consumer name",
                Map.of("source.reader.type", "EFO"));
        assertRejected("source.efo.consumer.name", Map.of("source.reader.type", "EFO", "source.efo.consumer.name", "a b"));
        assertRejected("source.efo.lifecycle: expected JOB_MANAGED or SELF_MANAGED, got 'MINE'",
                Map.of("source.efo.lifecycle", "MINE"));
        assertRejected("source.efo.subscription.timeout", Map.of("source.efo.subscription.timeout", "0 s"));
    }
    @Test
    void consumerArnsGiveTheConsumerPerStreamWithoutLookupOrRegistration() {
        String orders = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders/consumer/app:1700000000";
        String payments = "arn:aws:kinesis:eu-west-1:123456789012:stream/payments/consumer/app:1700000001";
        KinesisSourceConfig config = KinesisSourceConfig.of(Map.of("source.reader.type", "EFO",
                "source.efo.consumer.arn", orders + " , " + payments));
        assertEquals(Map.of("orders", orders, "payments", payments), config.consumerArns());
        assertEquals("app", config.consumerName());
        assertEquals(KinesisSourceConfig.ConsumerLifecycle.SELF_MANAGED, config.consumerLifecycle());
        assertEquals(Map.of(), KinesisSourceConfig.of(Map.of("source.efo.consumer.arn", orders)).consumerArns(),
                "polling: not used");

        assertRejected("source.efo.consumer.arn", Map.of("source.reader.type", "EFO",
                "source.efo.consumer.arn", "arn:aws:kinesis:eu-west-1:123456789012:stream/orders"));
        assertRejected("source.efo.consumer.name", Map.of("source.reader.type", "EFO",
                "source.efo.consumer.arn", orders, "source.efo.consumer.name", "other"));
        assertRejected("source.efo.lifecycle", Map.of("source.reader.type", "EFO",
                "source.efo.consumer.arn", orders, "source.efo.lifecycle", "JOB_MANAGED"));
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> KinesisSource.create(
                Map.of("aws.region", "us-east-1", "source.reader.type", "EFO", "source.efo.consumer.arn", orders),
                java.util.List.of("orders", "payments")));
        assertTrue(missing.getMessage().startsWith("source.efo.consumer.arn: expected one consumer ARN for each stream"),
                missing.getMessage());
    }
}
