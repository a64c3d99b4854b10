package io.github.pyflinkkinesis.source.enumerator;

import java.util.List;

import org.apache.flink.api.connector.source.SourceEvent;

import io.github.pyflinkkinesis.source.split.KinesisShardSplit;

/**
 * Sent by a reader to the enumerator: these splits' shards were read to their end, and the children
 * their last enhanced fan-out events named (empty when polling: discovery finds them).
 */
public final class ShardsFinishedEvent implements SourceEvent {
    private static final long serialVersionUID = 2L;

    private final List<String> splitIds;
    private final List<KinesisShardSplit> children;

    public ShardsFinishedEvent(List<String> splitIds) {
        this(splitIds, List.of());
    }

    public ShardsFinishedEvent(List<String> splitIds, List<KinesisShardSplit> children) {
        this.splitIds = List.copyOf(splitIds);
        this.children = List.copyOf(children);
    }

    public List<String> splitIds() {
        return splitIds;
    }

    /** Children of the finished shards, each starting at TRIM_HORIZON. */
    public List<KinesisShardSplit> children() {
        return children;
    }

    @Override
    public String toString() {
        return "ShardsFinishedEvent" + splitIds + (children.isEmpty() ? "" : ", children " + children);
    }
}
