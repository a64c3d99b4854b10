package io.github.pyflinkkinesis.source.reader;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.connector.base.source.reader.SingleThreadMultiplexSourceReaderBase;
import org.apache.flink.core.io.InputStatus;
import org.apache.flink.connector.base.source.reader.splitreader.SplitReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pyflinkkinesis.source.consumer.ConsumerArns;
import io.github.pyflinkkinesis.source.enumerator.ConsumerArnsEvent;
import io.github.pyflinkkinesis.source.enumerator.ShardsFinishedAck;
import io.github.pyflinkkinesis.source.enumerator.ShardsFinishedEvent;
import io.github.pyflinkkinesis.source.split.KinesisShardSplit;
import io.github.pyflinkkinesis.source.split.KinesisShardSplitState;
import io.github.pyflinkkinesis.source.split.StartingPosition;

/**
 * Reads its shards on one fetcher thread and tells the enumerator about shards read to their end,
 * once a checkpoint holding the end has completed, and again until the enumerator acknowledges it
 * ({@link FinishedShards} says why and when).
 */
public final class KinesisSourceReader<T>
        extends SingleThreadMultiplexSourceReaderBase<KinesisRecord, T, KinesisShardSplit, KinesisShardSplitState> {

    private static final Logger LOG = LoggerFactory.getLogger(KinesisSourceReader.class);

    private final Set<String> streamNames;
    private final FinishedShards finishedShards = new FinishedShards();
    private final ChildShardsOfFinished children;
    /** Enhanced fan-out only, else null. */
    private final ConsumerArns consumerArns;
    /** Checks restored splits for recreated streams; null: not checked. */
    private final RecreatedStreams recreated;
    private boolean started;

    /**
     * @param emitter turns records into the source's output
     * @param streamNames the names of the streams the source reads: restored splits of other streams
     *     (removed from the source since the checkpoint) are dropped
     */
    public KinesisSourceReader(Supplier<SplitReader<KinesisRecord, KinesisShardSplit>> splitReaderSupplier,
                               KinesisRecordEmitter<T> emitter, SourceReaderContext context, Set<String> streamNames) {
        this(splitReaderSupplier, emitter, context, streamNames, new ChildShardsOfFinished(), null, null);
    }

    /**
     * With enhanced fan-out.
     *
     * @param children the children that the split reader learnt from shards' last events, sent to the
     *     enumerator with the shard's end
     * @param consumerArns the consumer ARNs the split reader subscribes with: the enumerator's arrive here, and
     *     the split reader's requests for a new lookup go from here to the enumerator; null when polling
     * @param recreated checks the restored splits' streams for having been created again; null: not checked
     */
    public KinesisSourceReader(Supplier<SplitReader<KinesisRecord, KinesisShardSplit>> splitReaderSupplier,
                               KinesisRecordEmitter<T> emitter, SourceReaderContext context, Set<String> streamNames,
                               ChildShardsOfFinished children, ConsumerArns consumerArns, RecreatedStreams recreated) {
        super(splitReaderSupplier, emitter, context.getConfiguration(), context);
        this.streamNames = Set.copyOf(streamNames);
        this.children = children;
        this.consumerArns = consumerArns;
        this.recreated = recreated;
    }

    @Override
    public InputStatus pollNext(ReaderOutput<T> output) throws Exception {
        if (consumerArns != null) {
            List<String> lookups = consumerArns.takeLookups();
            if (!lookups.isEmpty()) {
                context.sendSourceEventToCoordinator(ConsumerArnsEvent.lookups(lookups));
            }
        }
        return super.pollNext(output);
    }

    @Override
    public void start() {
        started = true;
        super.start();
    }

    /**
     * Splits added before {@link #start} are restored from a checkpoint (Flink's SourceOperator adds them so): those
     * of streams no longer read are dropped, and those of recreated streams fail or are dropped ({@link RecreatedStreams}).
     */
    @Override
    public void addSplits(List<KinesisShardSplit> splits) {
        List<KinesisShardSplit> added = new ArrayList<>();
        for (KinesisShardSplit split : splits) {
            if (!streamNames.contains(split.streamName())) {
                LOG.warn("Dropping restored shard {}: its stream is no longer read by this source", split.splitId());
            } else {
                added.add(split);
            }
        }
        if (!started) {
            finishedShards.restoredFromCheckpoint();
            if (recreated != null) {
                added = recreated.keep(added);
            }
        }
        List<KinesisShardSplit> toRead = new ArrayList<>();
        List<KinesisShardSplit> finished = new ArrayList<>();
        added.forEach(split -> (split.isFinished() ? finished : toRead).add(split));
        if (!finished.isEmpty()) {
            reportFinished(finishedShards.restored(finished));
        }
        if (!toRead.isEmpty()) {
            super.addSplits(toRead);
        }
    }

    @Override
    protected void onSplitFinished(Map<String, KinesisShardSplitState> finishedSplitIds) {
        List<KinesisShardSplit> finished = new ArrayList<>();
        finishedSplitIds.values().forEach(state -> finished.add(state.split().withStartingPosition(StartingPosition.shardEnd())));
        reportFinished(finishedShards.ended(finished));
    }

    private void reportFinished(List<KinesisShardSplit> finished) {
        if (finished.isEmpty()) {
            return;
        }
        List<String> ids = new ArrayList<>();
        List<KinesisShardSplit> named = new ArrayList<>();
        finished.forEach(split -> {
            ids.add(split.splitId());
            named.addAll(children.named(split.splitId()));
        });
        context.sendSourceEventToCoordinator(new ShardsFinishedEvent(ids, named));
    }

    @Override
    public List<KinesisShardSplit> snapshotState(long checkpointId) {
        List<KinesisShardSplit> state = new ArrayList<>(super.snapshotState(checkpointId));
        state.addAll(finishedShards.snapshot(checkpointId));
        return state;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        super.notifyCheckpointComplete(checkpointId);
        reportFinished(finishedShards.checkpointComplete(checkpointId));
    }

    @Override
    public void handleSourceEvents(SourceEvent event) {
        if (event instanceof ConsumerArnsEvent && consumerArns != null) {
            consumerArns.update(((ConsumerArnsEvent) event).arns());
        } else if (event instanceof ShardsFinishedAck) {
            List<String> acknowledged = ((ShardsFinishedAck) event).splitIds();
            finishedShards.acknowledged(acknowledged);
            children.forget(acknowledged);
        } else {
            LOG.warn("Ignoring unexpected source event {}", event);
        }
    }

    @Override
    protected KinesisShardSplitState initializedState(KinesisShardSplit split) {
        return new KinesisShardSplitState(split);
    }

    @Override
    protected KinesisShardSplit toSplitType(String splitId, KinesisShardSplitState state) {
        return state.toSplit();
    }
}
