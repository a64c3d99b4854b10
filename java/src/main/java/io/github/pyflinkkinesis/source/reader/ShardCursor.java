package io.github.pyflinkkinesis.source.reader;

import java.time.Instant;

import org.apache.flink.metrics.MetricGroup;

import io.github.pyflinkkinesis.aws.retry.RetryTracker;
import io.github.pyflinkkinesis.source.split.KinesisShardSplit;
import io.github.pyflinkkinesis.source.split.StartingPosition;
import software.amazon.awssdk.services.kinesis.model.GetShardIteratorRequest;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;

/**
 * The fetcher's view of one shard: its iterator, where to rebuild the iterator from, which records
 * to drop on the way (already emitted sub-records, records before an AT_TIMESTAMP), and when it may
 * be called next. Used by the fetcher thread only.
 */
final class ShardCursor {
    final KinesisShardSplit split;
    final String splitId;
    String iterator;
    /** Sequence number of the last record fetched; iterators are rebuilt after it. */
    private String lastSequence;
    /** Resume inside this aggregate: drop its sub-records up to {@link #skipThroughSub}. */
    private String skipSequence;
    private long skipThroughSub;
    /** Drop records that arrived before this (epoch ms) until one arrives at or after it. */
    private Long notBeforeMillis;
    long nextCallAtMillis;
    private final RetryTracker retries;
    /** What the last GetRecords answered; -1 before the first. Read by the metrics reporter. */
    volatile long millisBehindLatest = -1;

    ShardCursor(KinesisShardSplit split, RetryTracker retries) {
        this.split = split;
        this.retries = retries;
        this.splitId = split.splitId();
        StartingPosition position = split.startingPosition();
        if (position.kind() == StartingPosition.Kind.AT_TIMESTAMP) {
            notBeforeMillis = position.timestampMillis();
        } else if (position.kind() == StartingPosition.Kind.AFTER_RECORD) {
            if (position.subSequenceNumber() == null) {
                lastSequence = position.sequenceNumber();
            } else {
                skipSequence = position.sequenceNumber();
                skipThroughSub = position.subSequenceNumber();
            }
        }
    }

    /**
     * A cursor for {@code split} whose {@code millisBehindLatest} is a gauge in groups {@code stream} and
     * {@code shard}; {@code retries} follows its consecutive failed calls.
     */
    static ShardCursor withGauge(KinesisShardSplit split, MetricGroup metrics, RetryTracker retries) {
        ShardCursor cursor = new ShardCursor(split, retries);
        metrics.addGroup("stream", split.streamName()).addGroup("shard", split.shardId())
                .gauge("millisBehindLatest", () -> cursor.millisBehindLatest);
        return cursor;
    }

    /** This shard's consecutive failed calls. */
    RetryTracker retries() {
        return retries;
    }

    private GetShardIteratorRequest.Builder shardRequest() {
        GetShardIteratorRequest.Builder request = GetShardIteratorRequest.builder().shardId(split.shardId());
        return split.streamIsArn() ? request.streamARN(split.stream()) : request.streamName(split.stream());
    }

    /** A LATEST iterator request: where an AT_TIMESTAMP start past the service's clock begins. */
    GetShardIteratorRequest latestRequest() {
        return shardRequest().shardIteratorType(ShardIteratorType.LATEST).build();
    }

    /** The request for a fresh iterator at the current position. */
    GetShardIteratorRequest iteratorRequest() {
        GetShardIteratorRequest.Builder request = shardRequest();
        ShardIteratorType type = startType();
        request.shardIteratorType(type).startingSequenceNumber(startSequence());
        if (type == ShardIteratorType.AT_TIMESTAMP) {
            request.timestamp(Instant.ofEpochMilli(notBeforeMillis));
        }
        return request.build();
    }

    /** The SubscribeToShard position that continues where a fresh iterator would. */
    software.amazon.awssdk.services.kinesis.model.StartingPosition subscribePosition() {
        ShardIteratorType type = startType();
        software.amazon.awssdk.services.kinesis.model.StartingPosition.Builder position =
                software.amazon.awssdk.services.kinesis.model.StartingPosition.builder()
                        .type(type.toString()).sequenceNumber(startSequence());
        if (type == ShardIteratorType.AT_TIMESTAMP) {
            position.timestamp(Instant.ofEpochMilli(notBeforeMillis));
        }
        return position.build();
    }

    /** Where reading continues, as a split's starting position (a split handed to another reader). */
    StartingPosition position() {
        switch (startType()) {
            case AFTER_SEQUENCE_NUMBER:
                return StartingPosition.afterRecord(lastSequence);
            case AT_SEQUENCE_NUMBER:
                return StartingPosition.afterSubRecord(skipSequence, skipThroughSub);
            case AT_TIMESTAMP:
                return StartingPosition.atTimestamp(notBeforeMillis);
            default:
                return StartingPosition.trimHorizon();
        }
    }

    private ShardIteratorType startType() {
        if (lastSequence != null) {
            return ShardIteratorType.AFTER_SEQUENCE_NUMBER;
        } else if (skipSequence != null) {
            return ShardIteratorType.AT_SEQUENCE_NUMBER;
        } else if (notBeforeMillis != null) {
            return ShardIteratorType.AT_TIMESTAMP;
        }
        return ShardIteratorType.TRIM_HORIZON;
    }

    private String startSequence() {
        return lastSequence != null ? lastSequence : skipSequence;
    }

    /** True while the next iterator request is AT_TIMESTAMP (nothing fetched since the start). */
    boolean startsAtTimestamp() {
        return lastSequence == null && skipSequence == null && notBeforeMillis != null;
    }

    /**
     * Whether a fetched record that arrived at {@code arrivalMillis} is to be emitted; the first one
     * at or after an AT_TIMESTAMP start lifts the time filter.
     */
    boolean acceptArrival(long arrivalMillis) {
        if (notBeforeMillis == null) {
            return true;
        }
        if (arrivalMillis < notBeforeMillis) {
            return false;
        }
        notBeforeMillis = null;
        return true;
    }

    /** Whether sub-record {@code sub} of record {@code sequence} was emitted before a restart. */
    boolean alreadyEmitted(String sequence, long sub) {
        return sequence.equals(skipSequence) && sub <= skipThroughSub;
    }

    /** Notes that record {@code sequence} was fetched: later iterators start after it. */
    void fetched(String sequence) {
        lastSequence = sequence;
        skipSequence = null;
    }
}
