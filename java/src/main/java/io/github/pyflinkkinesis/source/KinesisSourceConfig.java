package io.github.pyflinkkinesis.source;

import java.io.Serializable;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoField;
import java.time.temporal.TemporalAccessor;
import java.util.Locale;
import java.util.Map;

import org.apache.flink.util.TimeUtils;

import io.github.pyflinkkinesis.aws.retry.RetryRule;

/**
 * The source's {@code source.*} keys, read and validated once. Immutable.
 *
 * <p>Keys and defaults are the official connector's: {@code source.init.position},
 * {@code source.init.timestamp} (+ {@code .format}), {@code source.shard.discovery.interval},
 * {@code source.shard.get-records.max-record-count}, {@code source.reader.empty-records-fetch-interval}.
 * Ours: {@code source.max-retry-time}, how long ListShards, GetShardIterator and GetRecords failures may go
 * on before the job fails.
 */
public final class KinesisSourceConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final String INIT_POSITION = "source.init.position";
    public static final String INIT_TIMESTAMP = "source.init.timestamp";
    public static final String INIT_TIMESTAMP_FORMAT = "source.init.timestamp.format";
    public static final String DISCOVERY_INTERVAL = "source.shard.discovery.interval";
    public static final String MAX_RECORD_COUNT = "source.shard.get-records.max-record-count";
    public static final String EMPTY_FETCH_INTERVAL = "source.reader.empty-records-fetch-interval";
    public static final String MAX_RETRY_TIME = "source.max-retry-time";

    public static final String DEFAULT_TIMESTAMP_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSXXX";
    public static final Duration DEFAULT_DISCOVERY_INTERVAL = Duration.ofSeconds(10);
    public static final Duration DEFAULT_EMPTY_FETCH_INTERVAL = Duration.ofMillis(250);
    /** GetRecords takes at most 10,000 records per call. */
    public static final int MAX_RECORDS_PER_CALL = 10_000;

    /** Where a fresh start begins reading. */
    public enum InitialPosition { LATEST, TRIM_HORIZON, AT_TIMESTAMP }

    private final InitialPosition initialPosition;
    private final long initialTimestampMillis;
    private final Duration discoveryInterval;
    private final int maxRecordCount;
    private final Duration emptyFetchInterval;
    private final RetryRule retryRule;

    private KinesisSourceConfig(InitialPosition initialPosition, long initialTimestampMillis,
                                Duration discoveryInterval, int maxRecordCount, Duration emptyFetchInterval,
                                RetryRule retryRule) {
        this.initialPosition = initialPosition;
        this.initialTimestampMillis = initialTimestampMillis;
        this.discoveryInterval = discoveryInterval;
        this.maxRecordCount = maxRecordCount;
        this.emptyFetchInterval = emptyFetchInterval;
        this.retryRule = retryRule;
    }

    /** Reads the {@code source.*} keys of {@code properties}; other keys are ignored here. */
    public static KinesisSourceConfig of(Map<String, String> properties) {
        String positionValue = properties.getOrDefault(INIT_POSITION, "LATEST").trim().toUpperCase(Locale.ROOT);
        InitialPosition position;
        try {
            position = InitialPosition.valueOf(positionValue);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(INIT_POSITION + ": expected LATEST, TRIM_HORIZON or AT_TIMESTAMP, got '"
                    + properties.get(INIT_POSITION) + "'");
        }
        long timestamp = 0;
        if (position == InitialPosition.AT_TIMESTAMP) {
            String value = properties.get(INIT_TIMESTAMP);
            if (value == null || value.isBlank()) {
                throw new IllegalArgumentException(INIT_TIMESTAMP + " is required when " + INIT_POSITION + " is AT_TIMESTAMP");
            }
            timestamp = parseTimestamp(value, properties.getOrDefault(INIT_TIMESTAMP_FORMAT, DEFAULT_TIMESTAMP_FORMAT));
        }
        Duration discovery = duration(properties, DISCOVERY_INTERVAL, DEFAULT_DISCOVERY_INTERVAL);
        if (discovery.isZero()) {
            throw new IllegalArgumentException(DISCOVERY_INTERVAL + ": expected a duration > 0");
        }
        int maxRecords = maxRecordCount(properties.get(MAX_RECORD_COUNT));
        Duration emptyFetch = duration(properties, EMPTY_FETCH_INTERVAL, DEFAULT_EMPTY_FETCH_INTERVAL);
        Duration maxRetry = duration(properties, MAX_RETRY_TIME, RetryRule.DEFAULT_MAX_RETRY_TIME);
        return new KinesisSourceConfig(position, timestamp, discovery, maxRecords, emptyFetch,
                new RetryRule(maxRetry, MAX_RETRY_TIME));
    }

    /**
     * Epoch milliseconds of {@code value}: a number of epoch seconds (fractions allowed), or a
     * date-time in {@code format} (a {@link DateTimeFormatter} pattern; a time without an offset is UTC).
     */
    public static long parseTimestamp(String value, String format) {
        DateTimeFormatter formatter;
        try {
            formatter = DateTimeFormatter.ofPattern(format, Locale.ROOT);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(INIT_TIMESTAMP_FORMAT + ": not a date-time pattern: '" + format + "'");
        }
        String text = value.trim();
        try {
            double seconds = Double.parseDouble(text);
            if (Double.isFinite(seconds)) {
                return Math.round(seconds * 1000.0);
            }
        } catch (NumberFormatException e) {
            // not epoch seconds: a formatted date-time
        }
        try {
            TemporalAccessor parsed = formatter.parse(text);
            if (parsed.isSupported(ChronoField.OFFSET_SECONDS)) {
                return OffsetDateTime.from(parsed).toInstant().toEpochMilli();
            }
            return LocalDateTime.from(parsed).toInstant(ZoneOffset.UTC).toEpochMilli();
        } catch (DateTimeException e) {
            throw new IllegalArgumentException(INIT_TIMESTAMP + ": expected epoch seconds or a date-time in the format '"
                    + format + "', got '" + value + "'");
        }
    }

    private static Duration duration(Map<String, String> properties, String key, Duration fallback) {
        String value = properties.get(key);
        if (value == null) {
            return fallback;
        }
        try {
            Duration duration = TimeUtils.parseDuration(value);
            if (!duration.isNegative()) {
                return duration;
            }
        } catch (IllegalArgumentException e) {
            // reported below
        }
        throw new IllegalArgumentException(key + ": expected a duration such as '10 s' or '250 ms', got '" + value + "'");
    }

    private static int maxRecordCount(String value) {
        if (value == null) {
            return MAX_RECORDS_PER_CALL;
        }
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= 1 && n <= MAX_RECORDS_PER_CALL) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(MAX_RECORD_COUNT + ": expected a whole number from 1 to "
                + MAX_RECORDS_PER_CALL + ", got '" + value + "'");
    }

    public InitialPosition initialPosition() {
        return initialPosition;
    }

    /** Epoch ms of {@code source.init.timestamp}; meaningful for AT_TIMESTAMP only. */
    public long initialTimestampMillis() {
        return initialTimestampMillis;
    }

    public Duration discoveryInterval() {
        return discoveryInterval;
    }

    public int maxRecordCount() {
        return maxRecordCount;
    }

    public Duration emptyFetchInterval() {
        return emptyFetchInterval;
    }

    /** How the source's calls are retried; {@link #MAX_RETRY_TIME} sets its total retry time. */
    public RetryRule retryRule() {
        return retryRule;
    }

    /** The same keys with another retry rule (tests that should not wait long). */
    public KinesisSourceConfig withRetryRule(RetryRule rule) {
        return new KinesisSourceConfig(initialPosition, initialTimestampMillis, discoveryInterval, maxRecordCount,
                emptyFetchInterval, rule);
    }

    @Override
    public String toString() {
        return "KinesisSourceConfig{" + initialPosition
                + (initialPosition == InitialPosition.AT_TIMESTAMP ? "(" + initialTimestampMillis + ")" : "")
                + ", discovery=" + discoveryInterval + ", maxRecordCount=" + maxRecordCount
                + ", emptyFetchInterval=" + emptyFetchInterval + ", maxRetryTime=" + retryRule.maxRetryMillis() + " ms}";
    }
}
