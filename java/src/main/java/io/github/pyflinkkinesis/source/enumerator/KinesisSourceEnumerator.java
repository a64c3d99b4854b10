package io.github.pyflinkkinesis.source.enumerator;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.connector.source.SplitsAssignment;
import org.apache.flink.util.FlinkRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pyflinkkinesis.source.KinesisSourceConfig;
import io.github.pyflinkkinesis.source.StreamCreation;
import io.github.pyflinkkinesis.source.consumer.StreamConsumers;
import io.github.pyflinkkinesis.source.split.KinesisShardSplit;
import io.github.pyflinkkinesis.source.split.StartingPosition;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.Shard;

/**
 * Discovers the streams' shards every {@code source.shard.discovery.interval} and hands them to the
 * readers: evenly, and a child only after all its parents were read to their end (readers say so
 * with {@link ShardsFinishedEvent}).
 *
 * <p>Failover rule: a shard whose children were handed out is never read again. A reader reports an
 * end only once a checkpoint holding the shard at its end has completed (see the reader's
 * FinishedShards), so a region failover of that reader, which restores the latest completed
 * checkpoint while the children's reader goes on, neither reads the parent again nor gives it back.
 * Flink gives back only splits assigned after the restored checkpoint; of those, a shard reported
 * finished can only be one that ended before its reader's first checkpoint, and it is read again
 * only while its children wait ({@link ShardTracker#addBack}). Each report is acknowledged
 * ({@link ShardsFinishedAck}); a reader reports an end again at each completed checkpoint until then, so a report
 * lost on its way is not the end of the children. A report that comes again is taken again: nothing changes.
 *
 * <p>A stream's first discovery uses the configured initial position (LATEST pinned as
 * AT_TIMESTAMP of the discovery, so records written before the first read are kept); shards found
 * later start at TRIM_HORIZON. With enhanced fan-out, a stream is listed only once its consumer is
 * ACTIVE ({@link ConsumerRegistration}), and the consumer's ARN goes to every reader before its shards
 * ({@link ConsumerArnsEvent}; again when a reader found the consumer missing and asked for a new lookup). With
 * {@code source.efo.consumer.arn} the readers have the ARN already: nothing is looked up or registered.
 *
 * <p>A recreated stream: the first discovery of each stream after a start looks up its creation time
 * ({@link StreamCreation}); one that differs from the restored state's fails the job, or with
 * {@code source.stream-recreated} = START_OVER forgets the stream's shards and reads the new stream as a fresh start
 * (the readers drop their restored splits of it themselves). Splits carry the creation time to the readers' state.
 */
public final class KinesisSourceEnumerator implements SplitEnumerator<KinesisShardSplit, KinesisSourceEnumState> {
    private static final Logger LOG = LoggerFactory.getLogger(KinesisSourceEnumerator.class);

    private final SplitEnumeratorContext<KinesisShardSplit> context;
    private final List<String> streams;
    private final KinesisSourceConfig config;
    private final Supplier<KinesisClient> clientFactory;
    private final LongSupplier clock;
    private final ShardTracker tracker;
    /** The tracker's last seen shard ids, published for discovery, which runs on another thread. */
    private volatile Map<String, String> discoveryStart;
    private KinesisClient client;
    /** Enhanced fan-out only: the consumer is ACTIVE before a stream's shards are handed out. */
    private ConsumerRegistration consumers;
    /** The consumer ARNs per stream name last sent to the readers; coordinator thread only. */
    private Map<String, String> sentArns = new HashMap<>();
    /** The restored state's creation time per stream name. */
    private final Map<String, Long> restoredCreation;
    /** Stream names whose creation time was looked up since the start, published for discovery. */
    private volatile Set<String> verifiedCreation = Set.of();

    public KinesisSourceEnumerator(SplitEnumeratorContext<KinesisShardSplit> context, List<String> streams,
                                   KinesisSourceConfig config, Supplier<KinesisClient> clientFactory,
                                   KinesisSourceEnumState state) {
        this(context, streams, config, clientFactory, state, System::currentTimeMillis);
    }

    KinesisSourceEnumerator(SplitEnumeratorContext<KinesisShardSplit> context, List<String> streams,
                            KinesisSourceConfig config, Supplier<KinesisClient> clientFactory,
                            KinesisSourceEnumState state, LongSupplier clock) {
        this.context = context;
        this.streams = List.copyOf(streams);
        this.config = config;
        this.clientFactory = clientFactory;
        this.clock = clock;
        this.tracker = new ShardTracker(state);
        this.restoredCreation = Map.copyOf(state.streamCreationMillis());
        Set<String> names = new HashSet<>();
        streams.forEach(stream -> names.add(KinesisShardSplit.streamName(stream)));
        tracker.retainStreams(names);
        this.discoveryStart = tracker.lastSeenShardIds();
    }

    @Override
    public void start() {
        client = clientFactory.get();
        if (config.readerType() == KinesisSourceConfig.ReaderType.EFO && config.consumerArns().isEmpty()) {
            consumers = new ConsumerRegistration(new StreamConsumers(client, config.consumerName(), config.retryRule()),
                    config.consumerLifecycle());
        }
        long interval = config.discoveryInterval().toMillis();
        context.callAsync(this::discover, this::onDiscovered, 0, interval);
    }

    /** What one ListShards round found for a stream, when it started, and the stream's creation time if looked up. */
    static final class Listing {
        final List<Shard> shards;
        final long listedAtMillis;
        /** The stream's creation time, looked up in this round; null when it was known already. */
        final Long creationMillis;

        Listing(List<Shard> shards, long listedAtMillis, Long creationMillis) {
            this.shards = shards;
            this.listedAtMillis = listedAtMillis;
            this.creationMillis = creationMillis;
        }
    }

    /**
     * Lists new shards of every stream; runs on a worker thread and touches no enumerator state. A stream
     * that cannot be listed (a fatal error, or failures longer than {@code source.max-retry-time}) fails the job.
     */
    Map<String, Listing> discover() throws InterruptedException {
        Map<String, String> start = discoveryStart;
        Set<String> verified = verifiedCreation;
        ShardLister lister = new ShardLister(client, config.retryRule());
        Map<String, Listing> found = new LinkedHashMap<>();
        for (String stream : streams) {
            long listedAt = clock.getAsLong();
            String name = KinesisShardSplit.streamName(stream);
            String last = start.get(name);
            Long creation = null;
            if (!verified.contains(name)) {
                creation = StreamCreation.lookUp(client, config.retryRule(), stream);
                long restored = restoredCreation.getOrDefault(name, StreamCreation.UNKNOWN);
                if (restored != StreamCreation.UNKNOWN && restored != creation) {
                    last = null; // the old stream's shard ids say nothing about the new one's
                }
            }
            if (consumers != null) {
                consumers.awaitActive(stream);
            }
            found.put(stream, new Listing(lister.list(stream, last == null || last.isEmpty() ? null : last), listedAt,
                    creation));
        }
        return found;
    }

    /** Adds what {@link #discover} found and hands out what is ready; runs on the coordinator thread. */
    void onDiscovered(Map<String, Listing> found, Throwable error) {
        if (error != null) {
            throw error instanceof FlinkRuntimeException
                    ? (FlinkRuntimeException) error
                    : new FlinkRuntimeException("Kinesis shard discovery failed", error);
        }
        for (Map.Entry<String, Listing> entry : found.entrySet()) {
            String stream = entry.getKey();
            verifyCreation(stream, entry.getValue().creationMillis);
            long creation = tracker.creationMillis(KinesisShardSplit.streamName(stream));
            StartingPosition position = tracker.isDiscovered(stream)
                    ? StartingPosition.trimHorizon()
                    : initialPosition(entry.getValue().listedAtMillis);
            List<KinesisShardSplit> listed = new ArrayList<>();
            for (Shard shard : entry.getValue().shards) {
                listed.add(new KinesisShardSplit(stream, shard.shardId(), ShardLister.parentsOf(shard), position,
                        creation, ShardLister.startingHashKey(shard.hashKeyRange()),
                        ShardLister.endingHashKey(shard.hashKeyRange())));
            }
            List<KinesisShardSplit> added = tracker.addShards(stream, listed);
            if (!added.isEmpty()) {
                LOG.info("Discovered {} new shard(s) of stream '{}': {}", added.size(),
                        KinesisShardSplit.streamName(stream), added);
            }
        }
        discoveryStart = tracker.lastSeenShardIds();
        publishConsumerArns();
        assignReadySplits();
    }

    /**
     * Compares a stream's creation time, looked up in this start's first discovery, with the restored one: fails the
     * job with one line, or forgets the old stream's shards (START_OVER), when they differ.
     */
    private void verifyCreation(String stream, Long creationMillis) {
        String name = KinesisShardSplit.streamName(stream);
        if (creationMillis == null || verifiedCreation.contains(name)) {
            return;
        }
        if (StreamCreation.startsOver(stream, tracker.creationMillis(name), creationMillis, config.streamRecreated())) {
            tracker.forgetStream(name);
        }
        tracker.setCreationMillis(name, creationMillis);
        Set<String> verified = new HashSet<>(verifiedCreation);
        verified.add(name);
        verifiedCreation = Set.copyOf(verified);
    }

    /** Sends the consumer ARNs to every reader when they changed (before the shards that need them). */
    private void publishConsumerArns() {
        if (consumers == null) {
            return;
        }
        Map<String, String> arns = consumers.arns();
        if (!arns.equals(sentArns)) {
            sentArns = arns;
            context.registeredReaders().keySet().forEach(
                    reader -> context.sendEventToSourceReader(reader, ConsumerArnsEvent.arns(arns)));
        }
    }

    private StartingPosition initialPosition(long listedAtMillis) {
        switch (config.initialPosition()) {
            case TRIM_HORIZON:
                return StartingPosition.trimHorizon();
            case AT_TIMESTAMP:
                return StartingPosition.atTimestamp(config.initialTimestampMillis());
            default:
                return StartingPosition.atTimestamp(listedAtMillis);
        }
    }

    private void assignReadySplits() {
        Map<Integer, List<KinesisShardSplit>> assignment =
                tracker.assign(context.currentParallelism(), context.registeredReaders().keySet());
        if (!assignment.isEmpty()) {
            LOG.info("Assigning shards to readers: {}", assignment);
            context.assignSplits(new SplitsAssignment<>(assignment));
        }
    }

    @Override
    public void handleSplitRequest(int subtaskId, String requesterHostname) {
        // Splits are pushed on discovery, registration and shard ends; readers never ask.
    }

    @Override
    public void addSplitsBack(List<KinesisShardSplit> splits, int subtaskId) {
        LOG.info("Reader {} gave back shards {}", subtaskId, splits);
        List<String> settled = tracker.addBack(splits);
        if (!settled.isEmpty()) {
            LOG.warn("Not reading shards {} again: they were read to their end and no child waits for them", settled);
        }
        assignReadySplits();
    }

    @Override
    public void addReader(int subtaskId) {
        if (!sentArns.isEmpty()) {
            context.sendEventToSourceReader(subtaskId, ConsumerArnsEvent.arns(sentArns));
        }
        assignReadySplits();
    }

    @Override
    public void handleSourceEvent(int subtaskId, SourceEvent event) {
        if (event instanceof ConsumerArnsEvent && consumers != null) {
            List<String> lookups = ((ConsumerArnsEvent) event).lookups();
            LOG.info("Reader {} found the enhanced fan-out consumer of streams {} missing: looking it up again",
                    subtaskId, lookups);
            Map<String, String> unsent = new HashMap<>(sentArns);
            lookups.forEach(stream -> {
                consumers.forget(stream);
                unsent.remove(stream);
            });
            sentArns = unsent; // whatever the lookup finds is sent, the same ARN too
            context.callAsync(this::discover, this::onDiscovered);
            return;
        }
        if (!(event instanceof ShardsFinishedEvent)) {
            LOG.warn("Ignoring unexpected source event {} from reader {}", event, subtaskId);
            return;
        }
        ShardsFinishedEvent finishedEvent = (ShardsFinishedEvent) event;
        List<String> finished = finishedEvent.splitIds();
        tracker.markFinished(finished);
        context.sendEventToSourceReader(subtaskId, new ShardsFinishedAck(finished));
        List<KinesisShardSplit> children = tracker.addChildren(finishedEvent.children());
        if (!children.isEmpty()) {
            LOG.info("Shard ends named {} new child shard(s): {}", children.size(), children);
        }
        boolean childrenUnknown = finished.stream().anyMatch(id -> !tracker.hasKnownChild(id));
        assignReadySplits();
        if (childrenUnknown && client != null) {
            // A closed shard's children usually exist already; look now rather than at the next interval.
            context.callAsync(this::discover, this::onDiscovered);
        }
    }

    @Override
    public KinesisSourceEnumState snapshotState(long checkpointId) {
        return tracker.snapshot();
    }

    @Override
    public void close() {
        if (consumers != null) {
            consumers.deregister(streams);
        }
        if (client != null) {
            client.close();
        }
    }
}
