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
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.flink.util.TimeUtils;

import io.github.pyflinkkinesis.aws.retry.RetryRule;

/**
 * The source's {@code source.*} keys, read and validated once. Immutable.
 *
 * <p>Keys and defaults are the official connector's: {@code source.init.position},
 * {@code source.init.timestamp} (+ {@code .format}), {@code source.shard.discovery.interval},
 * {@code source.shard.get-records.max-record-count}, {@code source.reader.empty-records-fetch-interval},
 * {@code source.reader.type} and the enhanced fan-out keys {@code source.efo.consumer.name},
 * {@code source.efo.lifecycle}, {@code source.efo.subscription.timeout}.
 * Ours: {@code source.max-retry-time}, how long Kinesis call failures (ListShards, GetShardIterator,
 * GetRecords, the consumer calls and SubscribeToShard) may go on before the job fails;
 * {@code source.efo.consumer.arn}, a registered consumer's ARN per stream; {@code source.stream-recreated}, what a
 * restore does when a stream was deleted and created again since the checkpoint (FAIL or START_OVER).
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
    public static final String READER_TYPE = "source.reader.type";
    public static final String EFO_CONSUMER_NAME = "source.efo.consumer.name";
    public static final String EFO_LIFECYCLE = "source.efo.lifecycle";
    public static final String EFO_SUBSCRIPTION_TIMEOUT = "source.efo.subscription.timeout";
    /** Ours: the consumer's ARN on each stream (comma-separated): nothing is looked up or registered. */
    public static final String EFO_CONSUMER_ARN = "source.efo.consumer.arn";
    /** Ours: what a restore does when a stream's creation time differs from the checkpoint's. */
    public static final String STREAM_RECREATED = "source.stream-recreated";

    public static final String DEFAULT_TIMESTAMP_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSXXX";
    public static final Duration DEFAULT_DISCOVERY_INTERVAL = Duration.ofSeconds(10);
    public static final Duration DEFAULT_EMPTY_FETCH_INTERVAL = Duration.ofMillis(250);
    /** The default of {@code source.efo.subscription.timeout} (the official connector's). */
    public static final Duration DEFAULT_SUBSCRIPTION_TIMEOUT = Duration.ofSeconds(60);
    /** GetRecords takes at most 10,000 records per call. */
    public static final int MAX_RECORDS_PER_CALL = 10_000;

    /** Where a fresh start begins reading. */
    public enum InitialPosition { LATEST, TRIM_HORIZON, AT_TIMESTAMP }

    /** How shards are read: GetRecords, or enhanced fan-out (SubscribeToShard). */
    public enum ReaderType { POLLING, EFO }

    /** Who registers the enhanced fan-out consumer: the job (and deregisters it when it ends), or the user. */
    public enum ConsumerLifecycle { JOB_MANAGED, SELF_MANAGED }

    /** A stream created again since the checkpoint: fail the job, or drop its positions and start over. */
    public enum StreamRecreated { FAIL, START_OVER }

    /** RegisterStreamConsumer's constraint on consumer names. */
    private static final Pattern CONSUMER_NAME = Pattern.compile("[a-zA-Z0-9_.-]{1,128}");
    /** A stream consumer's ARN: groups stream name and consumer name. */
    private static final Pattern CONSUMER_ARN =
            Pattern.compile("arn:[^:]+:kinesis:[^:]*:[^:]*:stream/([^/]+)/consumer/([a-zA-Z0-9_.-]{1,128}):\\d+");

    private final InitialPosition initialPosition;
    private final long initialTimestampMillis;
    private final Duration discoveryInterval;
    private final int maxRecordCount;
    private final Duration emptyFetchInterval;
    private final RetryRule retryRule;
    private final ReaderType readerType;
    private final String consumerName;
    private final ConsumerLifecycle consumerLifecycle;
    private final Duration subscriptionTimeout;
    private final Map<String, String> consumerArns;
    private final StreamRecreated streamRecreated;

    private KinesisSourceConfig(InitialPosition initialPosition, long initialTimestampMillis,
                                Duration discoveryInterval, int maxRecordCount, Duration emptyFetchInterval,
                                RetryRule retryRule, Efo efo, StreamRecreated streamRecreated) {
        this.initialPosition = initialPosition;
        this.initialTimestampMillis = initialTimestampMillis;
        this.discoveryInterval = discoveryInterval;
        this.maxRecordCount = maxRecordCount;
        this.emptyFetchInterval = emptyFetchInterval;
        this.retryRule = retryRule;
        this.readerType = efo.readerType;
        this.consumerName = efo.consumerName;
        this.consumerLifecycle = efo.consumerLifecycle;
        this.subscriptionTimeout = efo.subscriptionTimeout;
        this.consumerArns = efo.consumerArns;
        this.streamRecreated = streamRecreated;
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
                new RetryRule(maxRetry, MAX_RETRY_TIME), Efo.of(properties),
                choice(properties, STREAM_RECREATED, StreamRecreated.FAIL, StreamRecreated.class));
    }

    /** The enhanced fan-out keys, read together. */
    private static final class Efo implements Serializable {
        private static final long serialVersionUID = 1L;

        final ReaderType readerType;
        final String consumerName;
        final ConsumerLifecycle consumerLifecycle;
        final Duration subscriptionTimeout;
        final Map<String, String> consumerArns;

        private Efo(ReaderType readerType, String consumerName, ConsumerLifecycle lifecycle, Duration subscriptionTimeout,
                    Map<String, String> consumerArns) {
            this.readerType = readerType;
            this.consumerName = consumerName;
            this.consumerLifecycle = lifecycle;
            this.subscriptionTimeout = subscriptionTimeout;
            this.consumerArns = Map.copyOf(consumerArns);
        }

        static Efo of(Map<String, String> properties) {
            ReaderType readerType = choice(properties, READER_TYPE, ReaderType.POLLING, ReaderType.class);
            Map<String, String> arns = consumerArns(properties.get(EFO_CONSUMER_ARN));
            String consumerName = properties.get(EFO_CONSUMER_NAME);
            if (!arns.isEmpty()) {
                String named = arnConsumerName(arns.values().iterator().next());
                if (consumerName != null && !consumerName.equals(named)) {
                    throw new IllegalArgumentException(EFO_CONSUMER_NAME + ": '" + consumerName + "' is not the consumer "
                            + EFO_CONSUMER_ARN + " names ('" + named + "'): leave it unset or make them agree");
                }
                consumerName = named;
                if ("JOB_MANAGED".equalsIgnoreCase(String.valueOf(properties.get(EFO_LIFECYCLE)).trim().replace('-', '_'))) {
                    throw new IllegalArgumentException(EFO_LIFECYCLE + ": JOB_MANAGED registers the consumer itself; with "
                            + EFO_CONSUMER_ARN + " the consumer is yours: leave it unset or set SELF_MANAGED");
                }
            }
            if (readerType == ReaderType.EFO && (consumerName == null || !CONSUMER_NAME.matcher(consumerName).matches())) {
                throw new IllegalArgumentException(EFO_CONSUMER_NAME + ": " + READER_TYPE + " EFO needs a consumer name "
                        + "of 1 to 128 letters, digits, '_', '.' or '-', got "
                        + (consumerName == null ? "none" : "'" + consumerName + "'"));
            }
            ConsumerLifecycle lifecycle = arns.isEmpty()
                    ? choice(properties, EFO_LIFECYCLE, ConsumerLifecycle.JOB_MANAGED, ConsumerLifecycle.class)
                    : ConsumerLifecycle.SELF_MANAGED;
            Duration subscriptionTimeout = duration(properties, EFO_SUBSCRIPTION_TIMEOUT, DEFAULT_SUBSCRIPTION_TIMEOUT);
            if (subscriptionTimeout.isZero()) {
                throw new IllegalArgumentException(EFO_SUBSCRIPTION_TIMEOUT + ": expected a duration > 0");
            }
            return new Efo(readerType, readerType == ReaderType.EFO ? consumerName : null, lifecycle, subscriptionTimeout,
                    readerType == ReaderType.EFO ? arns : Map.of());
        }

        /** Stream name to consumer ARN, from a comma-separated list of consumer ARNs (null: none). */
        private static Map<String, String> consumerArns(String value) {
            Map<String, String> arns = new LinkedHashMap<>();
            if (value == null || value.isBlank()) {
                return arns;
            }
            String consumer = null;
            for (String part : value.split(",")) {
                String arn = part.trim();
                Matcher matcher = CONSUMER_ARN.matcher(arn);
                if (!matcher.matches()) {
                    throw new IllegalArgumentException(EFO_CONSUMER_ARN + ": expected stream consumer ARNs such as "
                            + "'arn:aws:kinesis:us-east-1:123456789012:stream/orders/consumer/app:1700000000', "
                            + "comma-separated, got '" + arn + "'");
                }
                if (consumer != null && !consumer.equals(matcher.group(2))) {
                    throw new IllegalArgumentException(EFO_CONSUMER_ARN + ": expected one consumer name on every stream, got '"
                            + consumer + "' and '" + matcher.group(2) + "'");
                }
                consumer = matcher.group(2);
                if (arns.put(matcher.group(1), arn) != null) {
                    throw new IllegalArgumentException(EFO_CONSUMER_ARN + ": stream '" + matcher.group(1)
                            + "' has more than one consumer ARN");
                }
            }
            return arns;
        }

        private static String arnConsumerName(String arn) {
            Matcher matcher = CONSUMER_ARN.matcher(arn);
            return matcher.matches() ? matcher.group(2) : null;
        }
    }

    /** The enum constant named by {@code key} (any case, '-' for '_'), or {@code fallback} when unset. */
    private static <E extends Enum<E>> E choice(Map<String, String> properties, String key, E fallback, Class<E> type) {
        String value = properties.get(key);
        if (value == null) {
            return fallback;
        }
        try {
            return Enum.valueOf(type, value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            StringBuilder expected = new StringBuilder();
            for (E constant : type.getEnumConstants()) {
                expected.append(expected.length() == 0 ? "" : " or ").append(constant.name());
            }
            throw new IllegalArgumentException(key + ": expected " + expected + ", got '" + value + "'");
        }
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

    public ReaderType readerType() {
        return readerType;
    }

    /** The enhanced fan-out consumer's name; null unless the reader type is EFO. */
    public String consumerName() {
        return consumerName;
    }

    public ConsumerLifecycle consumerLifecycle() {
        return consumerLifecycle;
    }

    /**
     * The consumer's ARN per stream name from {@code source.efo.consumer.arn}; empty when unset (the enumerator
     * looks the consumer up) or when the reader type is not EFO.
     */
    public Map<String, String> consumerArns() {
        return consumerArns;
    }

    /** How long a SubscribeToShard call may take to deliver its first event before it is tried again. */
    /** What a restore does when a stream was created again since the checkpoint. */
    public StreamRecreated streamRecreated() {
        return streamRecreated;
    }

    public Duration subscriptionTimeout() {
        return subscriptionTimeout;
    }

    @Override
    public String toString() {
        return "KinesisSourceConfig{" + initialPosition
                + (initialPosition == InitialPosition.AT_TIMESTAMP ? "(" + initialTimestampMillis + ")" : "")
                + ", discovery=" + discoveryInterval + ", maxRecordCount=" + maxRecordCount
                + ", emptyFetchInterval=" + emptyFetchInterval + ", maxRetryTime=" + retryRule.maxRetryMillis() + " ms, "
                + readerType + (readerType == ReaderType.EFO ? "(" + consumerName + ", " + consumerLifecycle
                        + ", subscriptionTimeout=" + subscriptionTimeout + ")" : "")
                + ", streamRecreated=" + streamRecreated + "}";
    }
}
