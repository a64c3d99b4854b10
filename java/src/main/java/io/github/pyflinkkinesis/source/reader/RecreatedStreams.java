package io.github.pyflinkkinesis.source.reader;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.util.FlinkRuntimeException;

import io.github.pyflinkkinesis.source.KinesisSourceConfig;
import io.github.pyflinkkinesis.source.StreamCreation;
import io.github.pyflinkkinesis.source.split.KinesisShardSplit;

/**
 * A reader's check of its restored splits against their streams' current creation times (once per stream):
 * a split of a stream deleted and created again since the checkpoint fails the job, or is dropped with
 * {@code source.stream-recreated} = START_OVER (the enumerator hands out the new stream's shards). A split of
 * a version 1 checkpoint, whose creation time is unknown, adopts the current one.
 */
public final class RecreatedStreams {
    /** Looks up a stream's (name or ARN) current creation time, in epoch millis. */
    @FunctionalInterface
    public interface Lookup {
        long creationMillis(String stream) throws InterruptedException;
    }

    private final Lookup lookup;
    private final KinesisSourceConfig.StreamRecreated policy;
    private final Map<String, Long> current = new HashMap<>();

    public RecreatedStreams(Lookup lookup, KinesisSourceConfig.StreamRecreated policy) {
        this.lookup = lookup;
        this.policy = policy;
    }

    /**
     * The restored splits to go on with, each with its stream's current creation time.
     *
     * @throws FlinkRuntimeException with one line naming the stream and both creation times, for a split of a
     *     recreated stream when the policy is FAIL
     */
    List<KinesisShardSplit> keep(List<KinesisShardSplit> restored) {
        List<KinesisShardSplit> kept = new ArrayList<>();
        for (KinesisShardSplit split : restored) {
            long now = currentCreation(split);
            if (!StreamCreation.startsOver(split.stream(), split.streamCreationMillis(), now, policy)) {
                kept.add(split.withStreamCreationMillis(now));
            }
        }
        return kept;
    }

    private long currentCreation(KinesisShardSplit split) {
        Long known = current.get(split.streamName());
        if (known == null) {
            try {
                known = lookup.creationMillis(split.stream());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new FlinkRuntimeException("Interrupted while looking up the creation time of Kinesis stream '"
                        + split.streamName() + "'", e);
            }
            current.put(split.streamName(), known);
        }
        return known;
    }
}
