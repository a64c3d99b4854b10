package io.github.pyflinkkinesis.sink;

import java.io.Serializable;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;

/**
 * One record on its way to Kinesis: the target stream and the fields of a PutRecords entry.
 *
 * <p>Validated when built, so a bad record fails the job where it enters the sink, naming its stream
 * and partition key, rather than as an opaque error of a whole PutRecords call later. It keeps when it entered
 * the sink (for {@code sink.record-ttl}); a record restored from a checkpoint entered when it was restored.
 */
public final class KinesisSinkEntry implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Kinesis' limit on one record (data plus the UTF-8 partition key) of a stream that has not raised it. */
    public static final int MAX_RECORD_BYTES = ShardLimits.DEFAULT_MAX_RECORD_BYTES;
    /** Where the limit of {@link #of} comes from, for its error. */
    static final String NO_STREAM_TAKES_MORE = "no stream takes more: MaxRecordSizeInKiB is at most 10240";
    static final int MAX_PARTITION_KEY_CHARS = 256;
    static final int MAX_STREAM_CHARS = 2048;
    private static final BigInteger HASH_KEY_LIMIT = BigInteger.ONE.shiftLeft(128);

    private final String stream;
    private final String partitionKey;
    private final String explicitHashKey;
    private final byte[] data;
    private final int sizeInBytes;
    /** When it entered the sink, in the writer's clock's milliseconds; not part of its value. */
    private final long enteredAt;

    private KinesisSinkEntry(String stream, String partitionKey, String explicitHashKey, byte[] data, int keyBytes,
            long enteredAt) {
        this.stream = stream;
        this.partitionKey = partitionKey;
        this.explicitHashKey = explicitHashKey;
        this.data = data;
        this.sizeInBytes = data.length + keyBytes;
        this.enteredAt = enteredAt;
    }

    /** A validated entry that entered the sink now (the system clock): see {@link #of(String, String, String, byte[], long)}. */
    public static KinesisSinkEntry of(String stream, String partitionKey, String explicitHashKey, byte[] data) {
        return of(stream, partitionKey, explicitHashKey, data, System.currentTimeMillis());
    }

    /**
     * A validated entry.
     *
     * @param stream the target stream's name or ARN
     * @param partitionKey 1 to 256 Unicode characters
     * @param explicitHashKey {@code null}, or a decimal number below 2^128 that picks the shard
     * @param data the payload (not copied)
     * @param enteredAt when it entered the sink, in milliseconds of the clock its writer measures ages by
     * @throws OversizedRecordException if data plus the UTF-8 partition key exceed 10 MiB (no stream takes more;
     *     each stream's own limit is checked by {@link RecordSizeLimits})
     * @throws IllegalArgumentException for any other invalid field, naming the stream and key
     */
    public static KinesisSinkEntry of(String stream, String partitionKey, String explicitHashKey, byte[] data,
            long enteredAt) {
        if (stream == null || stream.isEmpty()) {
            throw new IllegalArgumentException("Kinesis sink: a record has no stream (partition key "
                    + quote(partitionKey) + ")");
        }
        if (stream.length() > MAX_STREAM_CHARS) {
            throw new IllegalArgumentException("Kinesis sink: stream name or ARN longer than " + MAX_STREAM_CHARS
                    + " characters: " + quote(stream.substring(0, 64) + "..."));
        }
        if (partitionKey == null || partitionKey.isEmpty()) {
            throw new IllegalArgumentException("Kinesis sink: a record for stream " + quote(stream)
                    + " has an empty partition key (expected 1 to 256 characters)");
        }
        int keyChars = partitionKey.codePointCount(0, partitionKey.length());
        if (keyChars > MAX_PARTITION_KEY_CHARS) {
            throw new IllegalArgumentException("Kinesis sink: a record for stream " + quote(stream)
                    + " has a partition key of " + keyChars + " characters (at most 256): "
                    + quote(partitionKey.substring(0, 32) + "..."));
        }
        if (explicitHashKey != null) {
            checkHashKey(stream, partitionKey, explicitHashKey);
        }
        if (data == null) {
            throw new IllegalArgumentException("Kinesis sink: a record for stream " + quote(stream)
                    + " with partition key " + quote(partitionKey) + " has no data");
        }
        int keyBytes = partitionKey.getBytes(StandardCharsets.UTF_8).length;
        long size = (long) data.length + keyBytes;
        if (size > ShardLimits.MAX_RECORD_SIZE_LIMIT) {
            throw new OversizedRecordException(stream, partitionKey, size, ShardLimits.MAX_RECORD_SIZE_LIMIT,
                    NO_STREAM_TAKES_MORE);
        }
        return new KinesisSinkEntry(stream, partitionKey, explicitHashKey, data, keyBytes, enteredAt);
    }

    /** Kinesis accepts "0" or a decimal number without leading zeros, below 2^128. */
    private static void checkHashKey(String stream, String partitionKey, String hashKey) {
        boolean digits = !hashKey.isEmpty() && hashKey.length() <= 39
                && (hashKey.length() == 1 || hashKey.charAt(0) != '0');
        for (int i = 0; digits && i < hashKey.length(); i++) {
            char c = hashKey.charAt(i);
            digits = c >= '0' && c <= '9';
        }
        if (!digits || new BigInteger(hashKey).compareTo(HASH_KEY_LIMIT) >= 0) {
            throw new IllegalArgumentException("Kinesis sink: a record for stream " + quote(stream)
                    + " with partition key " + quote(partitionKey) + " has an invalid explicit hash key "
                    + quote(hashKey.length() > 48 ? hashKey.substring(0, 48) + "..." : hashKey)
                    + ": expected a decimal number from 0 to 2^128-1 without leading zeros");
        }
    }

    static String quote(String s) {
        return s == null ? "null" : "'" + s + "'";
    }

    public String stream() {
        return stream;
    }

    public String partitionKey() {
        return partitionKey;
    }

    /** The explicit hash key, or {@code null}. */
    public String explicitHashKey() {
        return explicitHashKey;
    }

    public byte[] data() {
        return data;
    }

    /** When it entered the sink (milliseconds of its writer's clock). */
    long enteredAt() {
        return enteredAt;
    }

    /** What counts against Kinesis' per-record and per-request limits: data plus UTF-8 partition key. */
    public int sizeInBytes() {
        return sizeInBytes;
    }

    PutRecordsRequestEntry toRequestEntry() {
        return PutRecordsRequestEntry.builder()
                .partitionKey(partitionKey)
                .explicitHashKey(explicitHashKey)
                .data(SdkBytes.fromByteArrayUnsafe(data))
                .build();
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof KinesisSinkEntry)) {
            return false;
        }
        KinesisSinkEntry other = (KinesisSinkEntry) o;
        return stream.equals(other.stream) && partitionKey.equals(other.partitionKey)
                && Objects.equals(explicitHashKey, other.explicitHashKey) && Arrays.equals(data, other.data);
    }

    @Override
    public int hashCode() {
        return Objects.hash(stream, partitionKey, explicitHashKey, Arrays.hashCode(data));
    }

    /** Never shows the payload. */
    @Override
    public String toString() {
        return "KinesisSinkEntry{stream=" + stream + ", partitionKey=" + partitionKey
                + (explicitHashKey == null ? "" : ", explicitHashKey=" + explicitHashKey)
                + ", bytes=" + data.length + "}";
    }
}
