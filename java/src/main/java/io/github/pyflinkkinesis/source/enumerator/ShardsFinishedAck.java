package io.github.pyflinkkinesis.source.enumerator;

import java.util.List;

import org.apache.flink.api.connector.source.SourceEvent;

/**
 * Sent by the enumerator to a reader: it has taken these splits' ends ({@link ShardsFinishedEvent}) into its state.
 * The reader keeps a reported end in its checkpoints, and reports it again at each completed checkpoint, until this
 * acknowledgement arrives: an event lost on its way (in flight at a checkpoint, or dropped by a failover) is sent
 * again, so a finished parent's children always start.
 */
public final class ShardsFinishedAck implements SourceEvent {
    private static final long serialVersionUID = 1L;

    private final List<String> splitIds;

    public ShardsFinishedAck(List<String> splitIds) {
        this.splitIds = List.copyOf(splitIds);
    }

    public List<String> splitIds() {
        return splitIds;
    }

    @Override
    public String toString() {
        return "ShardsFinishedAck" + splitIds;
    }
}
