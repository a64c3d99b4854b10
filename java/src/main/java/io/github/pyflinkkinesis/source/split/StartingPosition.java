package io.github.pyflinkkinesis.source.split;

import java.io.Serializable;
import java.util.Objects;

/**
 * Where reading a shard (re)starts. Immutable.
 *
 * <p>{@link Kind#AFTER_RECORD} carries the last emitted record: its sequence number and, when that
 * record was a sub-record of a KPL aggregate that was only partly emitted, its sub-sequence number.
 * {@link Kind#SHARD_END} marks a shard read to its end.
 */
public final class StartingPosition implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The kinds of position, with stable codes for serializers. */
    public enum Kind {
        TRIM_HORIZON(0),
        AT_TIMESTAMP(1),
        AFTER_RECORD(2),
        SHARD_END(3);

        final int code;

        Kind(int code) {
            this.code = code;
        }

        static Kind ofCode(int code) {
            for (Kind kind : values()) {
                if (kind.code == code) {
                    return kind;
                }
            }
            throw new IllegalArgumentException("unknown starting position code " + code);
        }
    }

    private static final StartingPosition TRIM_HORIZON = new StartingPosition(Kind.TRIM_HORIZON, 0, null, null);
    private static final StartingPosition SHARD_END = new StartingPosition(Kind.SHARD_END, 0, null, null);

    private final Kind kind;
    private final long timestampMillis;
    private final String sequenceNumber;
    private final Long subSequenceNumber;

    private StartingPosition(Kind kind, long timestampMillis, String sequenceNumber, Long subSequenceNumber) {
        this.kind = kind;
        this.timestampMillis = timestampMillis;
        this.sequenceNumber = sequenceNumber;
        this.subSequenceNumber = subSequenceNumber;
    }

    public static StartingPosition trimHorizon() {
        return TRIM_HORIZON;
    }

    /** The first record whose arrival time is at or after {@code timestampMillis} (epoch ms). */
    public static StartingPosition atTimestamp(long timestampMillis) {
        return new StartingPosition(Kind.AT_TIMESTAMP, timestampMillis, null, null);
    }

    /** Just after the whole record {@code sequenceNumber}. */
    public static StartingPosition afterRecord(String sequenceNumber) {
        return afterSubRecord(sequenceNumber, null);
    }

    /**
     * Just after sub-record {@code subSequenceNumber} of the aggregate {@code sequenceNumber}; a null
     * sub-sequence number means after the whole record.
     */
    public static StartingPosition afterSubRecord(String sequenceNumber, Long subSequenceNumber) {
        Objects.requireNonNull(sequenceNumber, "sequenceNumber");
        return new StartingPosition(Kind.AFTER_RECORD, 0, sequenceNumber, subSequenceNumber);
    }

    public static StartingPosition shardEnd() {
        return SHARD_END;
    }

    public Kind kind() {
        return kind;
    }

    /** Epoch milliseconds; meaningful for {@link Kind#AT_TIMESTAMP} only. */
    public long timestampMillis() {
        return timestampMillis;
    }

    /** The last emitted record's sequence number; null unless {@link Kind#AFTER_RECORD}. */
    public String sequenceNumber() {
        return sequenceNumber;
    }

    /** The last emitted sub-record of a partly emitted aggregate, or null. */
    public Long subSequenceNumber() {
        return subSequenceNumber;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof StartingPosition)) {
            return false;
        }
        StartingPosition that = (StartingPosition) o;
        return kind == that.kind
                && timestampMillis == that.timestampMillis
                && Objects.equals(sequenceNumber, that.sequenceNumber)
                && Objects.equals(subSequenceNumber, that.subSequenceNumber);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, timestampMillis, sequenceNumber, subSequenceNumber);
    }

    @Override
    public String toString() {
        switch (kind) {
            case AT_TIMESTAMP:
                return "AT_TIMESTAMP(" + timestampMillis + ")";
            case AFTER_RECORD:
                return "AFTER(" + sequenceNumber + (subSequenceNumber == null ? "" : "/" + subSequenceNumber) + ")";
            default:
                return kind.name();
        }
    }
}
