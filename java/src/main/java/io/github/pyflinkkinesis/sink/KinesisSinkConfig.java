package io.github.pyflinkkinesis.sink;

import java.io.Serializable;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.apache.flink.configuration.MemorySize;
import org.apache.flink.util.TimeUtils;

import io.github.pyflinkkinesis.aws.retry.RetryRule;

/**
 * The sink's {@code sink.*} keys (the official connector's names, and ours: {@code sink.max-retry-time},
 * how long PutRecords failures may go on before the job fails), read and validated once.
 * Errors are {@link IllegalArgumentException}s naming the key and what was expected.
 */
public final class KinesisSinkConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final String BATCH_MAX_SIZE = "sink.batch.max-size";
    public static final String MAX_INFLIGHT = "sink.requests.max-inflight";
    public static final String MAX_BUFFERED = "sink.requests.max-buffered";
    public static final String FLUSH_SIZE = "sink.flush-buffer.size";
    public static final String FLUSH_TIMEOUT = "sink.flush-buffer.timeout";
    public static final String SKIP_OVERSIZED = "sink.skip-oversized-records";
    public static final String FAIL_ON_ERROR = "sink.fail-on-error";
    public static final String MAX_RETRY_TIME = "sink.max-retry-time";
    public static final String FAIL_ON_THROTTLING = "sink.fail-on-throttling";
    public static final String AGGREGATION_ENABLED = "sink.aggregation.enabled";
    public static final String AGGREGATION_MAX_COUNT = "sink.aggregation.max-count";
    public static final String AGGREGATION_MAX_SIZE = "sink.aggregation.max-size";
    public static final String RECORD_TTL = "sink.record-ttl";
    public static final String RATE_LIMIT = "sink.rate-limit";
    public static final String MAX_RECORD_SIZE = "sink.max-record-size";
    static final List<String> KEYS = Arrays.asList(BATCH_MAX_SIZE, MAX_INFLIGHT, MAX_BUFFERED, FLUSH_SIZE,
            FLUSH_TIMEOUT, SKIP_OVERSIZED, FAIL_ON_ERROR, MAX_RETRY_TIME, FAIL_ON_THROTTLING, AGGREGATION_ENABLED,
            AGGREGATION_MAX_COUNT, AGGREGATION_MAX_SIZE, RECORD_TTL, RATE_LIMIT, MAX_RECORD_SIZE);

    /** The KPL's defaults: user records and bytes per aggregate. */
    public static final long DEFAULT_AGGREGATION_MAX_COUNT = 4294967295L;
    public static final int DEFAULT_AGGREGATION_MAX_SIZE = 51200;
    /**
     * What packing 500 user records into aggregates may add at most: per user record its protobuf framing and
     * explicit hash key index (under 64 bytes), per aggregate (at most 250: one user record goes plain) magic,
     * MD5, its own partition key (1 KiB of UTF-8 at most) and explicit hash key. A batch of more user records
     * usually adds far less per record (many share an aggregate); what still does not fit a call goes in the next.
     */
    public static final long AGGREGATION_RESERVE = 512 * 1024;
    /** The smallest aggregate size accepted (as on the Beam writer). */
    static final int MIN_AGGREGATION_MAX_SIZE = 64;

    /** PutRecords' limits per call, also the defaults of batch size and flush size. */
    public static final int MAX_BATCH_RECORDS = 500;
    public static final long MAX_BATCH_BYTES = 5L * 1024 * 1024;
    public static final int DEFAULT_MAX_INFLIGHT = 50;
    public static final int DEFAULT_MAX_BUFFERED = 10_000;
    public static final long DEFAULT_FLUSH_TIMEOUT_MS = 5000;

    private final int maxBatchSize;
    private final int maxInFlightRequests;
    private final int maxBufferedRequests;
    private final long maxBatchSizeInBytes;
    private final long maxTimeInBufferMs;
    private final boolean skipOversizedRecords;
    private final boolean failOnError;
    private final long maxRetryTimeMs;
    private final boolean failOnThrottling;
    private final boolean aggregationEnabled;
    private final long aggregationMaxCount;
    private final int aggregationMaxSize;
    /** {@code null}: records are never dropped for their age. */
    private final Long recordTtlMs;
    /** {@code null}: no pacing. */
    private final Integer rateLimitPercent;
    /** {@code null}: each stream's own limit. */
    private final Integer maxRecordSize;

    private KinesisSinkConfig(Map<String, String> p) {
        for (String key : p.keySet()) {
            if (key.startsWith("sink.") && !KEYS.contains(key)) {
                throw new IllegalArgumentException(key + ": not a key of this sink; expected one of " + KEYS
                        + " (stream, partition key and hash key come from each record)");
            }
        }
        maxInFlightRequests = intIn(p, MAX_INFLIGHT, DEFAULT_MAX_INFLIGHT, 1, Integer.MAX_VALUE);
        maxBufferedRequests = intIn(p, MAX_BUFFERED, DEFAULT_MAX_BUFFERED, 2, Integer.MAX_VALUE);
        aggregationEnabled = bool(p, AGGREGATION_ENABLED);
        // Unset, the batch size fits under a small max-buffered (which must exceed it). Aggregating, a batch
        // counts user records: many go into one Kinesis record, so half of max-buffered (two calls in flight).
        maxBatchSize = aggregationEnabled
                ? intIn(p, BATCH_MAX_SIZE, Math.max(1, maxBufferedRequests / 2), 1, Integer.MAX_VALUE)
                : intIn(p, BATCH_MAX_SIZE, Math.min(MAX_BATCH_RECORDS, maxBufferedRequests - 1), 1, MAX_BATCH_RECORDS);
        if (maxBufferedRequests <= maxBatchSize) {
            throw new IllegalArgumentException(MAX_BUFFERED + ": expected more than " + BATCH_MAX_SIZE + " ("
                    + maxBatchSize + "), got " + maxBufferedRequests);
        }
        maxBatchSizeInBytes = bytesIn(p, FLUSH_SIZE, MAX_BATCH_BYTES, KinesisSinkEntry.MAX_RECORD_BYTES,
                MAX_BATCH_BYTES);
        maxTimeInBufferMs = millisIn(p, FLUSH_TIMEOUT, DEFAULT_FLUSH_TIMEOUT_MS);
        skipOversizedRecords = bool(p, SKIP_OVERSIZED);
        failOnError = bool(p, FAIL_ON_ERROR);
        maxRetryTimeMs = millisIn(p, MAX_RETRY_TIME, RetryRule.DEFAULT_MAX_RETRY_TIME.toMillis());
        failOnThrottling = bool(p, FAIL_ON_THROTTLING);
        aggregationMaxCount = longIn(p, AGGREGATION_MAX_COUNT, DEFAULT_AGGREGATION_MAX_COUNT, 1,
                DEFAULT_AGGREGATION_MAX_COUNT);
        aggregationMaxSize = (int) bytesIn(p, AGGREGATION_MAX_SIZE, DEFAULT_AGGREGATION_MAX_SIZE,
                MIN_AGGREGATION_MAX_SIZE, KinesisSinkEntry.MAX_RECORD_BYTES);
        recordTtlMs = p.containsKey(RECORD_TTL) ? millisIn(p, RECORD_TTL, 0) : null;
        rateLimitPercent = p.containsKey(RATE_LIMIT) ? intIn(p, RATE_LIMIT, 0, 1, Integer.MAX_VALUE) : null;
        maxRecordSize = p.containsKey(MAX_RECORD_SIZE)
                ? (int) bytesIn(p, MAX_RECORD_SIZE, 0, 1, ShardLimits.MAX_RECORD_SIZE_LIMIT) : null;
    }

    /** Reads the {@code sink.*} keys of {@code properties}; other keys are ignored here. */
    public static KinesisSinkConfig of(Map<String, String> properties) {
        return new KinesisSinkConfig(Objects.requireNonNull(properties, "properties"));
    }

    private static int intIn(Map<String, String> p, String key, int dflt, int min, int max) {
        return (int) longIn(p, key, dflt, min, max);
    }

    private static long longIn(Map<String, String> p, String key, long dflt, long min, long max) {
        String value = p.get(key);
        if (value == null) {
            return dflt;
        }
        try {
            long n = Long.parseLong(value.trim());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(key + ": expected a whole number from " + min
                + (max == Integer.MAX_VALUE ? " up" : " to " + max) + ", got '" + value + "'");
    }

    private static long bytesIn(Map<String, String> p, String key, long dflt, long min, long max) {
        String value = p.get(key);
        if (value == null) {
            return dflt;
        }
        try {
            long n = MemorySize.parseBytes(value);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (IllegalArgumentException e) {
            // reported below
        }
        throw new IllegalArgumentException(key + ": expected a size from " + min + " to " + max
                + " bytes (e.g. '5242880' or '5 mb'), got '" + value + "'");
    }

    private static long millisIn(Map<String, String> p, String key, long dflt) {
        String value = p.get(key);
        if (value == null) {
            return dflt;
        }
        try {
            Duration d = TimeUtils.parseDuration(value);
            if (d.toMillis() > 0) {
                return d.toMillis();
            }
        } catch (IllegalArgumentException | ArithmeticException e) {
            // reported below
        }
        throw new IllegalArgumentException(key + ": expected a duration of at least 1 ms (milliseconds, or e.g. '5 s'),"
                + " got '" + value + "'");
    }

    private static boolean bool(Map<String, String> p, String key) {
        String value = p.get(key);
        if (value == null || value.trim().equalsIgnoreCase("false")) {
            return false;
        }
        if (value.trim().equalsIgnoreCase("true")) {
            return true;
        }
        throw new IllegalArgumentException(key + ": expected true or false, got '" + value + "'");
    }

    /**
     * Records per PutRecords call (at most 500); with {@code sink.rate-limit}, at most a second's budget of one
     * shard (a larger call to one shard could never pass its pacing). With {@code sink.aggregation.enabled}, user
     * records per batch, any number (default: half of {@code sink.requests.max-buffered}), bounded by the flush size:
     * the call carries their aggregates (at most 500 Kinesis records; user records left over go in a later call).
     */
    public int maxBatchSize() {
        if (rateLimitPercent == null) {
            return maxBatchSize;
        }
        return (int) Math.max(1, Math.min(maxBatchSize, ShardLimits.SHARD_WRITE_RECORDS * rateLimitPercent / 100));
    }

    /** PutRecords calls in flight per writer. */
    public int maxInFlightRequests() {
        return maxInFlightRequests;
    }

    /** Records buffered or in flight per writer before it applies backpressure. */
    public int maxBufferedRequests() {
        return maxBufferedRequests;
    }

    /**
     * Bytes of records per PutRecords call (at most 5 MiB); a buffer this full is flushed. When aggregating, at
     * most {@link #AGGREGATION_RESERVE} less than 5 MiB: the room the aggregates' framing takes in the call.
     */
    public long maxBatchSizeInBytes() {
        return aggregationEnabled ? Math.min(maxBatchSizeInBytes, MAX_BATCH_BYTES - AGGREGATION_RESERVE)
                : maxBatchSizeInBytes;
    }

    /**
     * The largest record the writer may be handed, fixed when it is built (Flink's base writer takes its record
     * and batch byte bounds then): {@code sink.max-record-size}, else the most any stream takes (10 MiB). Each
     * stream's own limit is checked as records come in ({@link RecordSizeLimits}).
     */
    public int largestRecordBytes() {
        return maxRecordSize != null ? maxRecordSize : ShardLimits.MAX_RECORD_SIZE_LIMIT;
    }

    /**
     * The base writer's batch bound: {@link #maxBatchSizeInBytes()}, raised to {@link #largestRecordBytes()} (the
     * base writer needs one record to fit a batch). Each PutRecords call still carries at most
     * {@link #maxBatchSizeInBytes()} bytes of records, unless one record larger than that goes alone.
     */
    public long writerBatchBytes() {
        return Math.max(maxBatchSizeInBytes(), largestRecordBytes());
    }

    /** {@code sink.max-record-size}: the largest record of every stream, or {@code null} (each stream's own). */
    public Integer maxRecordSize() {
        return maxRecordSize;
    }

    /** {@code sink.record-ttl} in milliseconds, or {@code null}: a record is never dropped for its age. */
    public Long recordTtlMs() {
        return recordTtlMs;
    }

    /** {@code sink.rate-limit}: percent of each shard's write limits this writer paces itself at, or {@code null}. */
    public Integer rateLimitPercent() {
        return rateLimitPercent;
    }

    /** The longest a record waits in the buffer before it is sent. */
    public long maxTimeInBufferMs() {
        return maxTimeInBufferMs;
    }

    /** True: records over their stream's limit are skipped and counted; false: they fail the job. */
    public boolean skipOversizedRecords() {
        return skipOversizedRecords;
    }

    /** True: any failed record fails the job instead of being retried. */
    public boolean failOnError() {
        return failOnError;
    }

    /** How PutRecords calls are retried; {@link #MAX_RETRY_TIME} sets its total retry time. */
    public RetryRule retryRule() {
        return new RetryRule(Duration.ofMillis(maxRetryTimeMs), MAX_RETRY_TIME);
    }

    /** True: the first throttled record fails the job, naming its stream and shard, instead of being retried. */
    public boolean failOnThrottling() {
        return failOnThrottling;
    }

    /** True: the user records of a PutRecords call bound for one shard are packed into KPL aggregates. */
    public boolean aggregationEnabled() {
        return aggregationEnabled;
    }

    /** User records per aggregate at most. */
    public long aggregationMaxCount() {
        return aggregationMaxCount;
    }

    /** Bytes of an aggregate's data at most; a user record larger than that goes alone. */
    public int aggregationMaxSize() {
        return aggregationMaxSize;
    }

    @Override
    public String toString() {
        return "KinesisSinkConfig{batch=" + maxBatchSize + ", inflight=" + maxInFlightRequests
                + ", buffered=" + maxBufferedRequests + ", flushBytes=" + maxBatchSizeInBytes
                + ", flushMs=" + maxTimeInBufferMs + ", skipOversized=" + skipOversizedRecords
                + ", failOnError=" + failOnError + ", maxRetryTimeMs=" + maxRetryTimeMs
                + ", failOnThrottling=" + failOnThrottling + ", aggregation=" + aggregationEnabled
                + ", aggregationMaxCount=" + aggregationMaxCount
                + ", aggregationMaxSize=" + aggregationMaxSize + ", recordTtlMs=" + recordTtlMs
                + ", rateLimit=" + rateLimitPercent + ", maxRecordSize=" + maxRecordSize + "}";
    }
}
