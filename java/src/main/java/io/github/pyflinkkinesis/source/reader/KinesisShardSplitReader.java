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
import io.github.pyflinkkinesis.aws.retry.ErrorKind;
import io.github.pyflinkkinesis.aws.retry.KinesisErrors;
import io.github.pyflinkkinesis.aws.retry.RetryRule;
import io.github.pyflinkkinesis.source.KinesisSourceConfig;
import io.github.pyflinkkinesis.source.split.KinesisShardSplit;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.GetRecordsRequest;
import software.amazon.awssdk.services.kinesis.model.GetRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.GetShardIteratorRequest;
import software.amazon.awssdk.services.kinesis.model.Record;

/**
 * Polls a reader's shards with GetRecords, one shard per {@link #fetch()}, round robin.
 *
 * <p>Each shard is called at most 5 times a second (every attempt counts), and no sooner than
 * {@code source.reader.empty-records-fetch-interval} after an empty answer at the tip of the shard.
 * Failures follow the connector's {@link RetryRule}: throttling, 5xx answers and connection errors wait
 * with exponential backoff and jitter, for at most {@code source.max-retry-time} in a row; an expired
 * iterator is rebuilt from the last fetched record; other errors fail, naming the call, stream and shard.
 * An AT_TIMESTAMP iterator refused for a time past the service's clock is replaced by LATEST (records
 * before the time are dropped as always). A shard ends when GetRecords returns no next iterator, or when it
 * expired: GetShardIterator or GetRecords answered ResourceNotFoundException and the stream no longer lists it
 * ({@link ExpiredShards}).
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
    private final RetryRule retryRule;
    private final ExpiredShards expiredShards;
    private final Map<String, ShardCursor> cursors = new LinkedHashMap<>();
    private final Set<String> paused = new HashSet<>();
    private final List<String> finishedWithoutReading = new ArrayList<>();
    private final WakeUpSignal wakeUp = new WakeUpSignal();
    private int nextIndex;

    /**
     * @param metrics where each shard's {@code millisBehindLatest} gauge goes (in groups
     *     {@code stream} and {@code shard}), and the counter of expired shards
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
        this.retryRule = config.retryRule();
        this.expiredShards = new ExpiredShards(client, retryRule, metrics);
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
        String call = cursor.iterator == null ? "GetShardIterator" : "GetRecords";
        GetRecordsResponse response;
        try {
            if (cursor.iterator == null) {
                cursor.iterator = shardIterator(cursor);
            }
            GetRecordsRequest.Builder request = GetRecordsRequest.builder()
                    .shardIterator(cursor.iterator).limit(maxRecordCount);
            if (cursor.split.streamIsArn()) {
                request.streamARN(cursor.split.stream());
            }
            call = "GetRecords";
            response = client.getRecords(request.build());
        } catch (SdkException e) {
            onError(cursor, call, e, startedAt, batch);
            return;
        }
        cursor.retries().reset();
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

    /** A fresh iterator at the cursor's position; LATEST where an AT_TIMESTAMP start is past the service's clock. */
    private String shardIterator(ShardCursor cursor) {
        GetShardIteratorRequest request = cursor.iteratorRequest();
        try {
            return client.getShardIterator(request).shardIterator();
        } catch (SdkException e) {
            if (!KinesisErrors.isTimestampPastServiceClock(e, request)) {
                throw e;
            }
            LOG.info("Kinesis refused an AT_TIMESTAMP iterator for stream '{}' shard {} ({}): the time is past the"
                    + " service's clock, so nothing after it exists yet; reading from LATEST",
                    cursor.split.streamName(), cursor.split.shardId(), KinesisErrors.describe(e));
            return client.getShardIterator(cursor.latestRequest()).shardIterator();
        }
    }

    private void onError(ShardCursor cursor, String call, SdkException error, long startedAt,
                         RecordsBySplits.Builder<KinesisRecord> batch) throws IOException {
        ErrorKind kind = KinesisErrors.classify(error);
        String where = call + " for stream '" + cursor.split.streamName() + "' shard " + cursor.split.shardId();
        if (KinesisErrors.isNotFound(error) && expiredShards.expired(cursor.split, cursor.position(), call, error)) {
            cursors.remove(cursor.splitId);
            batch.addFinishedSplit(cursor.splitId);
            return;
        }
        if (kind == ErrorKind.EXPIRED_ITERATOR) {
            LOG.info("Shard iterator of {} expired; rebuilding it from the last fetched record", where);
            cursor.iterator = null;
            return;
        }
        if (!kind.retryable()) {
            throw new IOException("Kinesis " + where + " failed: " + KinesisErrors.describe(error), error);
        }
        long backoff = cursor.retries().onFailure(startedAt);
        if (backoff < 0) {
            throw new IOException(cursor.retries().givingUp(where, error, startedAt), error);
        }
        cursor.nextCallAtMillis = startedAt + Math.max(MIN_CALL_INTERVAL_MS, backoff);
        if (cursor.retries().failures() == 1) {
            LOG.warn("Kinesis {} failed ({}), retrying for up to {} ms ({})", where, KinesisErrors.describe(error),
                    retryRule.maxRetryMillis(), retryRule.key());
        } else {
            LOG.debug("Kinesis {} failed ({}), retrying in {} ms", where, KinesisErrors.describe(error), backoff);
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
                List<UserRecord> held = heldBy(cursor.split, subRecords);
                for (int i = 0; i < held.size(); i++) {
                    UserRecord sub = held.get(i);
                    if (!cursor.alreadyEmitted(sequence, sub.subSequenceNumber())) {
                        records.add(new KinesisRecord(sub.data(), sub.partitionKey(), sequence, sub.subSequenceNumber(),
                                arrivalMillis, i == held.size() - 1));
                    }
                }
            }
            cursor.fetched(sequence);
        }
        return records;
    }

    /**
     * The user records of an aggregate read from {@code split}'s shard whose hash key its range holds, as the KCL
     * keeps them: a writer that wrote an aggregate packed for a shard since split wrote the others again to the
     * shard they hash to now.
     */
    static List<UserRecord> heldBy(KinesisShardSplit split, List<UserRecord> users) {
        if (split.startingHashKey() == null) {
            return users;
        }
        List<UserRecord> held = new ArrayList<>(users.size());
        for (UserRecord user : users) {
            if (split.mayHold(user.hashKey())) {
                held.add(user);
            }
        }
        return held;
    }

    @Override
    public void handleSplitsChanges(SplitsChange<KinesisShardSplit> splitsChanges) {
        if (splitsChanges instanceof SplitsAddition) {
            for (KinesisShardSplit split : splitsChanges.splits()) {
                if (split.isFinished()) {
                    finishedWithoutReading.add(split.splitId());
                } else {
                    cursors.put(split.splitId(), ShardCursor.withGauge(split, metrics, retryRule.tracker()));
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
