package io.github.pyflinkkinesis.source.enumerator;

import java.util.List;

import org.apache.flink.api.connector.source.SourceEvent;

/** Sent by a reader to the enumerator: these splits' shards were read to their end. */
public final class ShardsFinishedEvent implements SourceEvent {
    private static final long serialVersionUID = 1L;

    private final List<String> splitIds;

    public ShardsFinishedEvent(List<String> splitIds) {
        this.splitIds = List.copyOf(splitIds);
    }

    public List<String> splitIds() {
        return splitIds;
    }

    @Override
    public String toString() {
        return "ShardsFinishedEvent" + splitIds;
    }
}
