package io.github.pyflinkkinesis.source.split;

import java.io.Serializable;
import java.math.BigInteger;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

import org.apache.flink.api.connector.source.SourceSplit;

/**
 * One shard of one stream, with where to start reading it. Immutable.
 *
 * <p>{@code stream} is the stream as the user named it (name or ARN); requests address it that way.
 * Serializable for source events only; checkpoints use {@link KinesisShardSplitSerializer}.
 */
public final class KinesisShardSplit implements SourceSplit, Serializable {
    private static final long serialVersionUID = 1L;

    private final String stream;
    private final String shardId;
    private final List<String> parentShardIds;
    private final StartingPosition startingPosition;
    /** The stream's creation time (epoch millis) when the split was made; 0 when unknown (a version 1 checkpoint). */
    private final long streamCreationMillis;
    /**
     * The shard's hash key range (inclusive), or {@code null} when not known (a checkpoint of version 2 or older):
     * user records of a KPL aggregate outside it are dropped, as the KCL drops them.
     */
    private final BigInteger startingHashKey;
    private final BigInteger endingHashKey;

    /** A split of a stream whose creation time is not known. */
    public KinesisShardSplit(String stream, String shardId, List<String> parentShardIds,
                             StartingPosition startingPosition) {
        this(stream, shardId, parentShardIds, startingPosition, 0L);
    }

    public KinesisShardSplit(String stream, String shardId, List<String> parentShardIds,
                             StartingPosition startingPosition, long streamCreationMillis) {
        this(stream, shardId, parentShardIds, startingPosition, streamCreationMillis, null, null);
    }

    /** A split with its shard's hash key range ({@code null}s: not known). */
    public KinesisShardSplit(String stream, String shardId, List<String> parentShardIds,
                             StartingPosition startingPosition, long streamCreationMillis,
                             BigInteger startingHashKey, BigInteger endingHashKey) {
        if ((startingHashKey == null) != (endingHashKey == null)) {
            throw new IllegalArgumentException("a shard's hash key range needs both ends, got " + startingHashKey
                    + " and " + endingHashKey);
        }
        this.startingHashKey = startingHashKey;
        this.endingHashKey = endingHashKey;
        this.streamCreationMillis = streamCreationMillis;
        this.stream = Objects.requireNonNull(stream, "stream");
        this.shardId = Objects.requireNonNull(shardId, "shardId");
        this.parentShardIds = List.copyOf(parentShardIds);
        this.startingPosition = Objects.requireNonNull(startingPosition, "startingPosition");
    }

    /** The split id of a shard: stream name and shard id, unique within a source. */
    public static String splitId(String stream, String shardId) {
        return streamName(stream) + "/" + shardId;
    }

    /** The stream's name: {@code stream} itself, or the part after {@code stream/} of an ARN. */
    public static String streamName(String stream) {
        if (stream.startsWith("arn:")) {
            int slash = stream.indexOf(":stream/");
            if (slash >= 0) {
                return stream.substring(slash + ":stream/".length());
            }
        }
        return stream;
    }

    @Override
    public String splitId() {
        return splitId(stream, shardId);
    }

    public String stream() {
        return stream;
    }

    public String streamName() {
        return streamName(stream);
    }

    public boolean streamIsArn() {
        return stream.startsWith("arn:");
    }

    public String shardId() {
        return shardId;
    }

    public List<String> parentShardIds() {
        return parentShardIds;
    }

    /** The split ids of this shard's parents. */
    public List<String> parentSplitIds() {
        return parentShardIds.stream().map(p -> splitId(stream, p)).collect(Collectors.toList());
    }

    public StartingPosition startingPosition() {
        return startingPosition;
    }

    public KinesisShardSplit withStartingPosition(StartingPosition position) {
        return new KinesisShardSplit(stream, shardId, parentShardIds, position, streamCreationMillis,
                startingHashKey, endingHashKey);
    }

    /** The first hash key of the shard's range, or {@code null} when not known. */
    public BigInteger startingHashKey() {
        return startingHashKey;
    }

    /** The last hash key of the shard's range, or {@code null} when not known. */
    public BigInteger endingHashKey() {
        return endingHashKey;
    }

    /** True unless the shard's hash key range is known and does not hold {@code hashKey}. */
    public boolean mayHold(BigInteger hashKey) {
        return startingHashKey == null
                || (startingHashKey.compareTo(hashKey) <= 0 && hashKey.compareTo(endingHashKey) <= 0);
    }

    /**
     * The creation time (epoch millis) of the stream this split belongs to, 0 when unknown: a recreated stream has
     * the same name and shard ids but another creation time.
     */
    public long streamCreationMillis() {
        return streamCreationMillis;
    }

    public KinesisShardSplit withStreamCreationMillis(long creationMillis) {
        return new KinesisShardSplit(stream, shardId, parentShardIds, startingPosition, creationMillis,
                startingHashKey, endingHashKey);
    }

    public boolean isFinished() {
        return startingPosition.kind() == StartingPosition.Kind.SHARD_END;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof KinesisShardSplit)) {
            return false;
        }
        KinesisShardSplit that = (KinesisShardSplit) o;
        return stream.equals(that.stream) && shardId.equals(that.shardId)
                && parentShardIds.equals(that.parentShardIds) && startingPosition.equals(that.startingPosition)
                && streamCreationMillis == that.streamCreationMillis
                && Objects.equals(startingHashKey, that.startingHashKey)
                && Objects.equals(endingHashKey, that.endingHashKey);
    }

    @Override
    public int hashCode() {
        return Objects.hash(stream, shardId, parentShardIds, startingPosition, streamCreationMillis, startingHashKey,
                endingHashKey);
    }

    @Override
    public String toString() {
        return "KinesisShardSplit{" + splitId() + ", parents=" + parentShardIds + ", " + startingPosition + "}";
    }
}
