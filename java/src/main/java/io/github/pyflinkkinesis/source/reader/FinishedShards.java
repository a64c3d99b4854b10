package io.github.pyflinkkinesis.source.reader;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.github.pyflinkkinesis.source.split.KinesisShardSplit;

/**
 * The shards a reader has read to their end, and when to tell the enumerator of each. Not
 * thread-safe: the reader uses it from its task thread.
 *
 * <p>An end is reported only after a checkpoint that holds the shard at SHARD_END has completed.
 * The report lets the enumerator hand the shard's children out, maybe to another reader. Under
 * region failover only this reader's region restarts, from the latest completed checkpoint: with
 * this rule that checkpoint already has the parent at its end, so the parent is never read again
 * after its children. Reporting on reaching the end is not enough: what the region emitted since its
 * last checkpoint (records in a sink's buffer or in flight) is rolled back with it, and the restored
 * reader would read those records again, after the children's.
 *
 * <p>Reported at once: a shard restored at SHARD_END (it comes from a completed checkpoint), and a
 * shard that ends before this reader took or restored any checkpoint, since a job without
 * checkpoints must still get past a reshard.
 *
 * <p>A reported shard stays in checkpoints, and is reported again at each completed checkpoint, until the
 * enumerator acknowledges it: a report lost on its way (in flight while the enumerator took its checkpoint,
 * then dropped) would otherwise leave the children waiting for ever. Flink delivers an acknowledgement the
 * enumerator sent after its checkpoint only after this reader's part of that checkpoint, so a checkpoint
 * never lacks the end on both sides.
 */
final class FinishedShards {
    private final List<KinesisShardSplit> held = new ArrayList<>();
    /** Reported and not acknowledged yet, by split id. */
    private final Map<String, KinesisShardSplit> reported = new LinkedHashMap<>();
    private final TreeMap<Long, List<KinesisShardSplit>> heldByCheckpoint = new TreeMap<>();
    private boolean checkpointed;

    /** The reader was restored from a checkpoint: the job takes checkpoints. */
    void restoredFromCheckpoint() {
        checkpointed = true;
    }

    /**
     * Shards just read to their end (at SHARD_END).
     *
     * @return those to report now
     */
    List<KinesisShardSplit> ended(List<KinesisShardSplit> splits) {
        if (checkpointed) {
            held.addAll(splits);
            return List.of();
        }
        return report(splits);
    }

    /**
     * Shards restored at SHARD_END.
     *
     * @return those to report now: all of them
     */
    List<KinesisShardSplit> restored(List<KinesisShardSplit> splits) {
        checkpointed = true;
        return report(splits);
    }

    private List<KinesisShardSplit> report(List<KinesisShardSplit> splits) {
        splits.forEach(split -> reported.put(split.splitId(), split));
        return splits;
    }

    /** The finished shards to keep in checkpoint {@code checkpointId}: held and unacknowledged ones. */
    List<KinesisShardSplit> snapshot(long checkpointId) {
        checkpointed = true;
        heldByCheckpoint.put(checkpointId, new ArrayList<>(held));
        List<KinesisShardSplit> state = new ArrayList<>(held);
        state.addAll(reported.values());
        return state;
    }

    /**
     * Checkpoint {@code checkpointId} (and so every earlier one) completed.
     *
     * @return the shards to report now: those held in a completed checkpoint, and those reported before but not
     *     acknowledged yet (again)
     */
    List<KinesisShardSplit> checkpointComplete(long checkpointId) {
        Map<Long, List<KinesisShardSplit>> safe = heldByCheckpoint.headMap(checkpointId, true);
        List<KinesisShardSplit> released = new ArrayList<>();
        for (List<KinesisShardSplit> splits : safe.values()) {
            for (KinesisShardSplit split : splits) {
                if (held.remove(split)) {
                    released.add(split);
                }
            }
        }
        safe.clear();
        report(released);
        return new ArrayList<>(reported.values());
    }

    /** The enumerator has these ends in its state: no need to keep or report them any more. */
    void acknowledged(Collection<String> splitIds) {
        reported.keySet().removeAll(splitIds);
    }
}
