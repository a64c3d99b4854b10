package io.github.pyflinkkinesis.source.reader;

import java.io.IOException;
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
import org.apache.flink.util.FlinkRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pyflinkkinesis.aws.AwsClientConfig;
import io.github.pyflinkkinesis.aws.retry.ErrorKind;
import io.github.pyflinkkinesis.aws.retry.KinesisErrors;
import io.github.pyflinkkinesis.aws.retry.RetryRule;
import io.github.pyflinkkinesis.source.KinesisSourceConfig;
import io.github.pyflinkkinesis.source.consumer.ConsumerArns;
import io.github.pyflinkkinesis.source.consumer.StreamConsumers;
import io.github.pyflinkkinesis.source.enumerator.ShardLister;
import io.github.pyflinkkinesis.source.split.KinesisShardSplit;
import io.github.pyflinkkinesis.source.split.StartingPosition;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.ChildShard;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;
import software.amazon.awssdk.services.kinesis.model.SubscribeToShardEvent;
import software.amazon.awssdk.services.kinesis.model.SubscribeToShardRequest;

/**
 * Reads a reader's shards with enhanced fan-out: one SubscribeToShard subscription per shard (the
 * async client, HTTP/2), their events taken round robin by the fetcher thread.
 *
 * <p>Positions are kept exactly as the polling reader keeps them ({@link ShardCursor}, the same
 * record conversion and KPL de-aggregation), so checkpoints of either reader restore in the other. A
 * subscription that ends (the service ends each after 5 minutes) is renewed at once from the last
 * record fetched; one that breaks (connection lost, throttled, the shard's lease still held by an
 * older subscription) is renewed after a backoff, as {@code source.max-retry-time} allows (a
 * {@link io.github.pyflinkkinesis.aws.retry.RetryTracker} per shard, as polling); other errors fail,
 * naming stream, shard and consumer. An AT_TIMESTAMP refused past the service's clock is subscribed
 * at LATEST (the arrival-time filter drops older records), as polling does. A
 * subscription without an event for {@code source.efo.subscription.timeout} is renewed. A shard
 * ends with an event without a continuation sequence number; its children are remembered for the
 * enumerator ({@link ChildShardsOfFinished}). A shard also ends when it expired: SubscribeToShard answered
 * ResourceNotFoundException and the stream no longer lists it ({@link ExpiredShards}); while the stream still
 * lists it, that answer means the consumer is missing (registered again): the enumerator is asked to look it
 * up again, and the shard subscribed again after a backoff. The consumer's ARN comes from the enumerator (or
 * {@code source.efo.consumer.arn}): this reader never calls DescribeStreamConsumer, so an outage of that call
 * holds no shard that is being read.
 */
public final class FanOutShardSplitReader implements SplitReader<KinesisRecord, KinesisShardSplit> {
    private static final Logger LOG = LoggerFactory.getLogger(FanOutShardSplitReader.class);

    /** Longest wait inside one fetch() when no event is there. */
    static final long MAX_IDLE_WAIT_MS = 500;
    /** Between two looks for the consumer's ARN, while the enumerator has not handed it over. */
    static final long CONSUMER_POLL_MS = 500;

    private final KinesisAsyncClient asyncClient;
    private final String consumerName;
    private final ConsumerArns consumerArns;
    /** The blocking client: ListShards after a ResourceNotFoundException, the emulator's shard ends. */
    private final KinesisClient client;
    /** How long a shard waits for its consumer's ARN: the enumerator's own limit (consumer ACTIVE, retries). */
    private final long consumerWaitMs;
    private final long subscriptionTimeoutMs;
    private final RetryRule retryRule;
    private final MetricGroup metrics;
    private final LongSupplier clock;
    private final ChildShardsOfFinished children;
    private final EmulatorShardEnds emulatorShardEnds;
    private final ExpiredShards expiredShards;
    /** Splits of expired shards, to report finished at the next fetch. */
    private final List<String> expired = new ArrayList<>();
    private final Map<String, SubscribedShard> shards = new LinkedHashMap<>();
    private final Set<String> paused = new HashSet<>();
    private final WakeUpSignal signal = new WakeUpSignal();
    private boolean pollNext;
    private int nextIndex;

    /** A shard being read, with its subscription (null between two). Used by the fetcher thread only. */
    private static final class SubscribedShard {
        final ShardCursor cursor;
        ShardSubscription subscription;
        /** The request of the current or last subscription. */
        SubscribeToShardRequest request;
        /** The next subscription starts at LATEST: the service refused the AT_TIMESTAMP as past its clock. */
        boolean latestOnce;
        long nextAttemptAtMillis;
        long consumerWaitSinceMillis = -1;

        SubscribedShard(ShardCursor cursor) {
            this.cursor = cursor;
        }
    }

    /**
     * @param client a blocking client (closed with this reader): ListShards to tell an expired shard
     * @param consumerArns the consumer's ARN per stream, from the enumerator or the configuration
     * @param children where the children named by a shard's last event go
     * @param emulatorShardEnds with {@code aws.emulator} = true only, else null: see {@link EmulatorShardEnds}
     */
    FanOutShardSplitReader(KinesisAsyncClient asyncClient, KinesisClient client, ConsumerArns consumerArns,
                           KinesisSourceConfig config, MetricGroup metrics, ChildShardsOfFinished children,
                           EmulatorShardEnds emulatorShardEnds, LongSupplier clock) {
        this.asyncClient = asyncClient;
        this.client = client;
        this.consumerArns = consumerArns;
        this.consumerName = config.consumerName();
        this.consumerWaitMs = StreamConsumers.ACTIVE_TIMEOUT.toMillis() + config.retryRule().maxRetryMillis();
        this.subscriptionTimeoutMs = config.subscriptionTimeout().toMillis();
        this.retryRule = config.retryRule();
        this.metrics = metrics;
        this.children = children;
        this.expiredShards = new ExpiredShards(client, retryRule, metrics);
        this.emulatorShardEnds = emulatorShardEnds;
        this.clock = clock;
    }

    /**
     * A reader with its own clients. With {@code aws.emulator} = true (a local emulator, declared by the user)
     * it also reads closed shards' ends with GetRecords: see {@link EmulatorShardEnds}.
     */
    public static FanOutShardSplitReader create(AwsClientConfig aws, KinesisSourceConfig config, MetricGroup metrics,
                                                ChildShardsOfFinished children, ConsumerArns consumerArns) {
        KinesisClient client = aws.createSyncClient();
        return new FanOutShardSplitReader(aws.createSubscriptionClient(), client, consumerArns, config, metrics, children,
                aws.emulator() ? new EmulatorShardEnds(client, config.retryRule(), config.discoveryInterval().toMillis(),
                        () -> new KinesisShardSplitReader(aws.createSyncClient(), config, metrics)) : null,
                System::currentTimeMillis);
    }

    @Override
    public RecordsWithSplitIds<KinesisRecord> fetch() throws IOException {
        RecordsBySplits.Builder<KinesisRecord> batch = new RecordsBySplits.Builder<>();
        if (!expired.isEmpty()) {
            batch.addFinishedSplits(expired);
            expired.clear();
            return batch.build();
        }
        pollNext = !pollNext;
        if (pollNext && emulatorShardEnds != null && emulatorShardEnds.hasShards()) {
            return emulatorShardEnds.fetch();
        }
        List<SubscribedShard> active = new ArrayList<>();
        shards.values().stream().filter(s -> !paused.contains(s.cursor.splitId)).forEach(active::add);
        long now = clock.getAsLong();
        for (SubscribedShard shard : active) {
            maintain(shard, now); // every time: busy shards must not hold back another's renewal
        }
        for (int i = 0; i < active.size(); i++) {
            SubscribedShard shard = active.get((nextIndex + i) % active.size());
            SubscribeToShardEvent event = shard.subscription == null ? null : shard.subscription.poll();
            if (event != null) {
                nextIndex = (nextIndex + i + 1) % active.size();
                onEvent(shard, event, batch);
                return batch.build();
            }
        }
        signal.await(MAX_IDLE_WAIT_MS);
        return batch.build();
    }

    private void onEvent(SubscribedShard shard, SubscribeToShardEvent event, RecordsBySplits.Builder<KinesisRecord> batch)
            throws IOException {
        ShardCursor cursor = shard.cursor;
        cursor.retries().reset();
        List<KinesisRecord> records = KinesisShardSplitReader.convert(cursor, event.records());
        batch.addAll(cursor.splitId, records);
        Long behind = event.millisBehindLatest();
        if (behind != null) {
            cursor.millisBehindLatest = behind;
        }
        if (event.continuationSequenceNumber() == null) {
            LOG.info("Shard {} of stream '{}' was read to its end; children {}", cursor.split.shardId(),
                    cursor.split.streamName(), event.childShards());
            shard.subscription.close();
            shards.remove(cursor.splitId);
            children.put(cursor.splitId, childSplits(cursor.split, event.childShards()));
            batch.addFinishedSplit(cursor.splitId);
        } else if (emulatorShardEnds != null && event.records().isEmpty() && (behind == null || behind == 0)
                && isClosedOnEmulator(cursor)) {
            handOverToPolling(shard);
        }
    }

    private static List<KinesisShardSplit> childSplits(KinesisShardSplit parent, List<ChildShard> childShards) {
        List<KinesisShardSplit> splits = new ArrayList<>();
        for (ChildShard child : childShards) {
            splits.add(new KinesisShardSplit(parent.stream(), child.shardId(), child.parentShards(),
                    StartingPosition.trimHorizon(), parent.streamCreationMillis(),
                    ShardLister.startingHashKey(child.hashKeyRange()), ShardLister.endingHashKey(child.hashKeyRange())));
        }
        return splits;
    }

    private boolean isClosedOnEmulator(ShardCursor cursor) throws IOException {
        try {
            return emulatorShardEnds.isClosed(cursor.split.stream(), cursor.split.shardId(), clock.getAsLong());
        } catch (FlinkRuntimeException e) {
            LOG.debug("ListShards for the emulator's shard ends failed: {}", e.getMessage());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** kinesis-local only: a closed, caught-up shard's end is read with GetRecords from where the cursor stands. */
    private void handOverToPolling(SubscribedShard shard) {
        ShardCursor cursor = shard.cursor;
        LOG.info("Shard {} of stream '{}' is closed on the local emulator, which never ends its subscription: "
                + "reading its end with GetRecords", cursor.split.shardId(), cursor.split.streamName());
        shard.subscription.close();
        shards.remove(cursor.splitId);
        emulatorShardEnds.handOver(cursor.split.withStartingPosition(cursor.position()));
    }

    /** Subscribes a shard without a subscription, renews an ended or silent one. */
    private void maintain(SubscribedShard shard, long now) throws IOException {
        ShardSubscription subscription = shard.subscription;
        if (subscription != null && !subscription.hasEvent()) {
            if (subscription.isDone()) {
                shard.subscription = null;
                onEnd(shard, subscription, subscription.error(), now);
            } else if (now - subscription.lastActivityMillis() > subscriptionTimeoutMs) {
                subscription.close();
                shard.subscription = null;
                onEnd(shard, subscription, new IOException("no event within "
                        + KinesisSourceConfig.EFO_SUBSCRIPTION_TIMEOUT + " (" + subscriptionTimeoutMs + " ms)"), now);
            }
            if (!shards.containsKey(shard.cursor.splitId)) {
                return; // expired
            }
        }
        if (shard.subscription == null && now >= shard.nextAttemptAtMillis) {
            subscribe(shard, now);
        }
    }

    private void subscribe(SubscribedShard shard, long now) throws IOException {
        KinesisShardSplit split = shard.cursor.split;
        String consumerArn = consumerArns.get(split.streamName());
        if (consumerArn == null) {
            if (shard.consumerWaitSinceMillis < 0) {
                shard.consumerWaitSinceMillis = now;
            } else if (now - shard.consumerWaitSinceMillis > consumerWaitMs) {
                throw new IOException(where(split) + ": the enumerator has not handed over the consumer's ARN after "
                        + consumerWaitMs / 1000 + " s (is the consumer ACTIVE?)");
            }
            shard.nextAttemptAtMillis = now + CONSUMER_POLL_MS;
            return;
        }
        shard.consumerWaitSinceMillis = -1;
        ShardSubscription subscription = new ShardSubscription(signal::signal, clock);
        shard.subscription = subscription;
        shard.request = SubscribeToShardRequest.builder().consumerARN(consumerArn).shardId(split.shardId())
                .startingPosition(shard.latestOnce && shard.cursor.startsAtTimestamp()
                        ? software.amazon.awssdk.services.kinesis.model.StartingPosition.builder()
                                .type(ShardIteratorType.LATEST).build()
                        : shard.cursor.subscribePosition())
                .build();
        // once: a later renewal tries the time again (records may exist after it by then)
        shard.latestOnce = false;
        subscription.start(asyncClient, shard.request);
    }

    /** A subscription ended: renew it at once (expired), after a backoff (broke), or fail (fatal error). */
    private void onEnd(SubscribedShard shard, ShardSubscription ended, Throwable error, long now) throws IOException {
        KinesisShardSplit split = shard.cursor.split;
        if (ended.receivedEvents()) {
            shard.cursor.retries().reset();
        }
        if (error == null) {
            LOG.debug("The subscription to {} ended; subscribing again from the last record fetched", where(split));
            shard.nextAttemptAtMillis = now;
            return;
        }
        if (KinesisErrors.isTimestampPastServiceClock(error, shard.request)) {
            LOG.info("Kinesis refused an AT_TIMESTAMP subscription to {} ({}): the time is past the service's clock,"
                    + " so nothing after it exists yet; subscribing at LATEST", where(split), KinesisErrors.describe(error));
            shard.latestOnce = true;
            shard.nextAttemptAtMillis = now;
            return;
        }
        if (KinesisErrors.isNotFound(error)) {
            if (expiredShards.expired(split, shard.cursor.position(), "SubscribeToShard", error)) {
                shards.remove(split.splitId());
                expired.add(split.splitId());
                return;
            }
            // a JOB_MANAGED consumer registered again: the enumerator looks it up again
            consumerArns.missing(split.streamName(), shard.request.consumerARN());
        }
        if (!classify(error).retryable()) {
            throw new IOException("Kinesis SubscribeToShard for " + where(split) + " failed: "
                    + KinesisErrors.describe(error), error);
        }
        long backoff = shard.cursor.retries().onFailure(now);
        if (backoff < 0) {
            throw new IOException(shard.cursor.retries().givingUp("SubscribeToShard for " + where(split), error, now),
                    error);
        }
        LOG.info("The subscription to {} broke ({}); subscribing again from the last record fetched in {} ms",
                where(split), KinesisErrors.describe(error), backoff);
        shard.nextAttemptAtMillis = now + backoff;
    }

    /**
     * As {@link KinesisErrors#classify}, plus: a client-side error (the connection or the event stream
     * broke, in whatever form the SDK reports it) and a consumer not found (registered again) are transient.
     */
    static ErrorKind classify(Throwable error) {
        Throwable t = KinesisErrors.unwrap(error);
        if (KinesisErrors.isNotFound(t) || !(t instanceof AwsServiceException)) {
            return ErrorKind.TRANSIENT;
        }
        return KinesisErrors.classify(t);
    }

    private String where(KinesisShardSplit split) {
        return "stream '" + split.streamName() + "' shard " + split.shardId() + " (enhanced fan-out consumer '"
                + consumerName + "')";
    }

    /** Finished splits never come here: {@link KinesisSourceReader} reports them to the enumerator itself. */
    @Override
    public void handleSplitsChanges(SplitsChange<KinesisShardSplit> splitsChanges) {
        if (splitsChanges instanceof SplitsAddition) {
            for (KinesisShardSplit split : splitsChanges.splits()) {
                shards.put(split.splitId(), new SubscribedShard(ShardCursor.withGauge(split, metrics, retryRule.tracker())));
            }
        } else if (splitsChanges instanceof SplitsRemoval) {
            for (KinesisShardSplit split : splitsChanges.splits()) {
                SubscribedShard removed = shards.remove(split.splitId());
                if (removed != null && removed.subscription != null) {
                    removed.subscription.close();
                }
            }
            if (emulatorShardEnds != null) {
                emulatorShardEnds.handleSplitsChanges(splitsChanges);
            }
        }
    }

    @Override
    public void pauseOrResumeSplits(Collection<KinesisShardSplit> toPause, Collection<KinesisShardSplit> toResume) {
        toPause.forEach(split -> paused.add(split.splitId()));
        toResume.forEach(split -> paused.remove(split.splitId()));
        if (emulatorShardEnds != null) {
            emulatorShardEnds.pauseOrResumeSplits(toPause, toResume);
        }
    }

    @Override
    public void wakeUp() {
        signal.signal();
        if (emulatorShardEnds != null) {
            emulatorShardEnds.wakeUp();
        }
    }

    @Override
    public void close() throws Exception {
        for (SubscribedShard shard : shards.values()) {
            if (shard.subscription != null) {
                shard.subscription.close();
            }
        }
        shards.clear();
        try {
            if (emulatorShardEnds != null) {
                emulatorShardEnds.close();
            }
        } finally {
            asyncClient.close();
            client.close();
        }
    }
}
