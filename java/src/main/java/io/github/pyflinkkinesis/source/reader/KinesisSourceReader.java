package io.github.pyflinkkinesis.source.reader;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;

import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.connector.base.source.reader.SingleThreadMultiplexSourceReaderBase;
import org.apache.flink.connector.base.source.reader.splitreader.SplitReader;
import org.apache.flink.types.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pyflinkkinesis.source.enumerator.ShardsFinishedEvent;
import io.github.pyflinkkinesis.source.split.KinesisShardSplit;
import io.github.pyflinkkinesis.source.split.KinesisShardSplitState;
import io.github.pyflinkkinesis.source.split.StartingPosition;

/**
 * Reads its shards on one fetcher thread and tells the enumerator about shards read to their end.
 *
 * <p>A finished shard stays in this reader's checkpoints (at SHARD_END) until a checkpoint that
 * holds it completes: if the job restarts from a checkpoint taken before the enumerator heard of
 * the end, the restored reader tells it again, so the shard's children are never held back forever.
 */
public final class KinesisSourceReader
        extends SingleThreadMultiplexSourceReaderBase<KinesisRecord, Row, KinesisShardSplit, KinesisShardSplitState> {

    private static final Logger LOG = LoggerFactory.getLogger(KinesisSourceReader.class);

    private final Set<String> streamNames;
    private final ChildShardsOfFinished children;
    private final List<KinesisShardSplit> finishedUnconfirmed = new ArrayList<>();
    private final TreeMap<Long, List<KinesisShardSplit>> finishedByCheckpoint = new TreeMap<>();

    /**
     * @param streamNames the names of the streams the source reads: restored splits of other streams
     *     (removed from the source since the checkpoint) are dropped
     */
    public KinesisSourceReader(Supplier<SplitReader<KinesisRecord, KinesisShardSplit>> splitReaderSupplier,
                               SourceReaderContext context, Set<String> streamNames) {
        this(splitReaderSupplier, context, streamNames, new ChildShardsOfFinished());
    }

    /**
     * @param children the children that the split reader learnt from shards' last events
     */
    public KinesisSourceReader(Supplier<SplitReader<KinesisRecord, KinesisShardSplit>> splitReaderSupplier,
                               SourceReaderContext context, Set<String> streamNames, ChildShardsOfFinished children) {
        super(splitReaderSupplier, new KinesisRecordEmitter(), context.getConfiguration(), context);
        this.streamNames = Set.copyOf(streamNames);
        this.children = children;
    }

    @Override
    public void addSplits(List<KinesisShardSplit> splits) {
        List<KinesisShardSplit> toRead = new ArrayList<>();
        List<KinesisShardSplit> finished = new ArrayList<>();
        for (KinesisShardSplit split : splits) {
            if (!streamNames.contains(split.streamName())) {
                LOG.warn("Dropping restored shard {}: its stream is no longer read by this source", split.splitId());
            } else {
                (split.isFinished() ? finished : toRead).add(split);
            }
        }
        if (!finished.isEmpty()) {
            reportFinished(finished);
        }
        if (!toRead.isEmpty()) {
            super.addSplits(toRead);
        }
    }

    @Override
    protected void onSplitFinished(Map<String, KinesisShardSplitState> finishedSplitIds) {
        List<KinesisShardSplit> finished = new ArrayList<>();
        finishedSplitIds.values().forEach(state -> finished.add(state.split().withStartingPosition(StartingPosition.shardEnd())));
        reportFinished(finished);
    }

    private void reportFinished(List<KinesisShardSplit> finished) {
        finishedUnconfirmed.addAll(finished);
        List<String> ids = new ArrayList<>();
        List<KinesisShardSplit> named = new ArrayList<>();
        finished.forEach(split -> {
            ids.add(split.splitId());
            named.addAll(children.take(split.splitId()));
        });
        context.sendSourceEventToCoordinator(new ShardsFinishedEvent(ids, named));
    }

    @Override
    public List<KinesisShardSplit> snapshotState(long checkpointId) {
        List<KinesisShardSplit> state = new ArrayList<>(super.snapshotState(checkpointId));
        state.addAll(finishedUnconfirmed);
        finishedByCheckpoint.put(checkpointId, new ArrayList<>(finishedUnconfirmed));
        return state;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        super.notifyCheckpointComplete(checkpointId);
        Map<Long, List<KinesisShardSplit>> confirmed = finishedByCheckpoint.headMap(checkpointId, true);
        confirmed.values().forEach(finishedUnconfirmed::removeAll);
        confirmed.clear();
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
