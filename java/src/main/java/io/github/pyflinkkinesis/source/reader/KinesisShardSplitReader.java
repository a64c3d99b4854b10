package io.github.pyflinkkinesis.source.reader;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

import org.apache.flink.connector.base.source.reader.RecordsBySplits;
import org.apache.flink.connector.base.source.reader.RecordsWithSplitIds;
import org.apache.flink.connector.base.source.reader.splitreader.SplitReader;
import org.apache.flink.connector.base.source.reader.splitreader.SplitsAddition;
import org.apache.flink.connector.base.source.reader.splitreader.SplitsChange;
import org.apache.flink.connector.base.source.reader.splitreader.SplitsRemoval;
import org.apache.flink.metrics.MetricGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pyflinkkinesis.deagg.KplDeaggregator;
import io.github.pyflinkkinesis.deagg.UserRecord;
import io.github.pyflinkkinesis.source.KinesisErrors;
import io.github.pyflinkkinesis.source.KinesisSourceConfig;
import io.github.pyflinkkinesis.source.split.KinesisShardSplit;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.GetRecordsRequest;
import software.amazon.awssdk.services.kinesis.model.GetRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.InvalidArgumentException;
import software.amazon.awssdk.services.kinesis.model.Record;

/**
 * Polls a reader's shards with GetRecords, one shard per {@link #fetch()}, round robin.
 *
 * <p>Each shard is called at most 5 times a second (every attempt counts), and no sooner than
 * {@code source.reader.empty-records-fetch-interval} after an empty answer at the tip of the shard.
 * Throttling, 5xx answers and connection errors wait with exponential backoff and jitter; an expired
 * iterator is rebuilt from the last fetched record; other errors fail, naming the stream and shard.
 * A shard ends when GetRecords returns no next iterator.
 */
public final class KinesisShardSplitReader implements SplitReader<KinesisRecord, KinesisShardSplit> {
    private static final Logger LOG = LoggerFactory.getLogger(KinesisShardSplitReader.class);

    /** Kinesis allows 5 GetRecords calls per second per shard. */
    static final long MIN_CALL_INTERVAL_MS = 200;
    /** Longest wait inside one fetch() when no shard may be called yet. */
    private static final long MAX_IDLE_WAIT_MS = 500;

    private final KinesisClient client;
    private final MetricGroup metrics;
    private final int maxRecordCount;
    private final long emptyFetchIntervalMs;
    private final LongSupplier clock;
    private final Map<String, ShardCursor> cursors = new LinkedHashMap<>();
    private final Set<String> paused = new HashSet<>();
    private final List<String> finishedWithoutReading = new ArrayList<>();
    private final WakeUpSignal wakeUp = new WakeUpSignal();
    private int nextIndex;

    /**
     * @param metrics where each shard's {@code millisBehindLatest} gauge goes (in groups
     *     {@code stream} and {@code shard})
     */
    public KinesisShardSplitReader(KinesisClient client, KinesisSourceConfig config, MetricGroup metrics) {
        this(client, config, metrics, System::currentTimeMillis);
    }

    KinesisShardSplitReader(KinesisClient client, KinesisSourceConfig config, MetricGroup metrics, LongSupplier clock) {
        this.client = client;
        this.metrics = metrics;
        this.maxRecordCount = config.maxRecordCount();
        this.emptyFetchIntervalMs = Math.max(MIN_CALL_INTERVAL_MS, config.emptyFetchInterval().toMillis());
        this.clock = clock;
    }

    @Override
    public RecordsWithSplitIds<KinesisRecord> fetch() throws IOException {
        RecordsBySplits.Builder<KinesisRecord> batch = new RecordsBySplits.Builder<>();
        if (!finishedWithoutReading.isEmpty()) {
            batch.addFinishedSplits(finishedWithoutReading);
            finishedWithoutReading.clear();
            return batch.build();
        }
        ShardCursor cursor = nextCallableShard();
        if (cursor != null) {
            poll(cursor, batch);
        }
        return batch.build();
    }

    /** The next shard (round robin) that may be called now; waits a little if none may. */
    private ShardCursor nextCallableShard() {
        List<ShardCursor> active = new ArrayList<>();
        for (ShardCursor cursor : cursors.values()) {
            if (!paused.contains(cursor.splitId)) {
                active.add(cursor);
            }
        }
        long now = clock.getAsLong();
        long earliest = Long.MAX_VALUE;
        for (int i = 0; i < active.size(); i++) {
            ShardCursor cursor = active.get((nextIndex + i) % active.size());
            if (cursor.nextCallAtMillis <= now) {
                nextIndex = (nextIndex + i + 1) % active.size();
                return cursor;
            }
            earliest = Math.min(earliest, cursor.nextCallAtMillis);
        }
        wakeUp.await(earliest == Long.MAX_VALUE ? MAX_IDLE_WAIT_MS : Math.min(MAX_IDLE_WAIT_MS, earliest - now));
        return null;
    }

    private void poll(ShardCursor cursor, RecordsBySplits.Builder<KinesisRecord> batch) throws IOException {
        long startedAt = clock.getAsLong();
        cursor.nextCallAtMillis = startedAt + MIN_CALL_INTERVAL_MS;
        GetRecordsResponse response;
        try {
            if (cursor.iterator == null) {
                cursor.iterator = client.getShardIterator(cursor.iteratorRequest()).shardIterator();
            }
            GetRecordsRequest.Builder request = GetRecordsRequest.builder()
                    .shardIterator(cursor.iterator).limit(maxRecordCount);
            if (cursor.split.streamIsArn()) {
                request.streamARN(cursor.split.stream());
            }
            response = client.getRecords(request.build());
        } catch (SdkException e) {
            onError(cursor, e, startedAt);
            return;
        }
        cursor.failures = 0;
        List<KinesisRecord> records = convert(cursor, response.records());
        batch.addAll(cursor.splitId, records);
        cursor.iterator = response.nextShardIterator();
        Long behind = response.millisBehindLatest();
        if (behind != null) {
            cursor.millisBehindLatest = behind;
        }
        if (response.records().isEmpty() && (behind == null || behind == 0)) {
            // caught up: wait longer before asking again; an empty answer from behind the tip is just a gap
            cursor.nextCallAtMillis = startedAt + emptyFetchIntervalMs;
        }
        if (cursor.iterator == null) {
            LOG.info("Shard {} of stream '{}' was read to its end", cursor.split.shardId(), cursor.split.streamName());
            cursors.remove(cursor.splitId);
            batch.addFinishedSplit(cursor.splitId);
        }
    }

    private void onError(ShardCursor cursor, SdkException error, long startedAt) throws IOException {
        KinesisErrors.Kind kind = KinesisErrors.classify(error);
        String where = "stream '" + cursor.split.streamName() + "' shard " + cursor.split.shardId();
        if (error instanceof InvalidArgumentException && cursor.iterator == null && cursor.startsAtTimestamp()) {
            // The service refuses AT_TIMESTAMP iterators for times past its own clock (e.g. LATEST pinned
            // by a job manager whose clock runs ahead): wait until the time has come.
            LOG.warn("Kinesis refused an AT_TIMESTAMP iterator for {}, trying again: {}", where,
                    KinesisErrors.describe(error));
            kind = KinesisErrors.Kind.THROTTLED;
        }
        switch (kind) {
            case EXPIRED_ITERATOR:
                LOG.info("Shard iterator of {} expired; rebuilding it from the last fetched record", where);
                cursor.iterator = null;
                return;
            case THROTTLED:
            case TRANSIENT:
                cursor.failures++;
                if (kind == KinesisErrors.Kind.TRANSIENT && cursor.failures >= KinesisErrors.MAX_TRANSIENT_ATTEMPTS) {
                    throw new IOException("Reading Kinesis " + where + " failed " + cursor.failures + " times in a row: "
                            + KinesisErrors.describe(error), error);
                }
                long backoff = KinesisErrors.backoffMillis(cursor.failures);
                cursor.nextCallAtMillis = startedAt + Math.max(MIN_CALL_INTERVAL_MS, backoff);
                LOG.debug("Kinesis call for {} failed ({}), retrying in {} ms", where, KinesisErrors.describe(error), backoff);
                return;
            default:
                throw new IOException("Reading Kinesis " + where + " failed: " + KinesisErrors.describe(error), error);
        }
    }

    /** The records to emit: KPL aggregates split up, already emitted and too early records dropped. */
    static List<KinesisRecord> convert(ShardCursor cursor, List<Record> fetched) {
        List<KinesisRecord> records = new ArrayList<>(fetched.size());
        for (Record record : fetched) {
            String sequence = record.sequenceNumber();
            Instant arrival = record.approximateArrivalTimestamp();
            long arrivalMillis = arrival == null ? 0L : arrival.toEpochMilli();
            boolean accepted = cursor.acceptArrival(arrivalMillis);
            byte[] data = record.data().asByteArrayUnsafe();
            List<UserRecord> subRecords = accepted && KplDeaggregator.hasMagic(data)
                    ? KplDeaggregator.deaggregate(data) : null;
            if (!accepted) {
                // arrived before the AT_TIMESTAMP start: never emitted
            } else if (subRecords == null) {
                records.add(new KinesisRecord(data, record.partitionKey(), sequence, null, arrivalMillis, true));
            } else {
                for (int i = 0; i < subRecords.size(); i++) {
                    UserRecord sub = subRecords.get(i);
                    if (!cursor.alreadyEmitted(sequence, sub.subSequenceNumber())) {
                        records.add(new KinesisRecord(sub.data(), sub.partitionKey(), sequence, sub.subSequenceNumber(),
                                arrivalMillis, i == subRecords.size() - 1));
                    }
                }
            }
            cursor.fetched(sequence);
        }
        return records;
    }

    @Override
    public void handleSplitsChanges(SplitsChange<KinesisShardSplit> splitsChanges) {
        if (splitsChanges instanceof SplitsAddition) {
            for (KinesisShardSplit split : splitsChanges.splits()) {
                if (split.isFinished()) {
                    finishedWithoutReading.add(split.splitId());
                } else {
                    cursors.put(split.splitId(), ShardCursor.withGauge(split, metrics));
                }
            }
        } else if (splitsChanges instanceof SplitsRemoval) {
            for (KinesisShardSplit split : splitsChanges.splits()) {
                cursors.remove(split.splitId());
            }
        }
    }

    @Override
    public void pauseOrResumeSplits(Collection<KinesisShardSplit> toPause, Collection<KinesisShardSplit> toResume) {
        toPause.forEach(split -> paused.add(split.splitId()));
        toResume.forEach(split -> paused.remove(split.splitId()));
    }

    @Override
    public void wakeUp() {
        wakeUp.signal();
    }

    @Override
    public void close() {
        client.close();
    }
}
