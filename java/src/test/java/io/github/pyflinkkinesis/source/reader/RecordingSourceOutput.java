package io.github.pyflinkkinesis.source.reader;

import java.util.List;

import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.connector.source.SourceOutput;
import org.apache.flink.types.Row;

/** A source output that appends what it collects, with its split id (null for the reader's own output). */
class RecordingSourceOutput implements SourceOutput<Row> {
    /** One collected row. */
    static final class Emitted {
        final String splitId;
        final Row row;
        final Long timestamp;

        Emitted(String splitId, Row row, Long timestamp) {
            this.splitId = splitId;
            this.row = row;
            this.timestamp = timestamp;
        }
    }

    private final String splitId;
    final List<Emitted> emitted;

    RecordingSourceOutput(String splitId, List<Emitted> emitted) {
        this.splitId = splitId;
        this.emitted = emitted;
    }

    @Override
    public void collect(Row record) {
        emitted.add(new Emitted(splitId, record, null));
    }

    @Override
    public void collect(Row record, long timestamp) {
        emitted.add(new Emitted(splitId, record, timestamp));
    }

    @Override
    public void emitWatermark(Watermark watermark) {
    }

    @Override
    public void markIdle() {
    }

    @Override
    public void markActive() {
    }
}
