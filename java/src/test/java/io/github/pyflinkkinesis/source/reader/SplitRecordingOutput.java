package io.github.pyflinkkinesis.source.reader;

import java.util.ArrayList;
import java.util.List;

import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceOutput;
import org.apache.flink.types.Row;

/** A reader output that records which split's output each row went through, with its timestamp. */
final class SplitRecordingOutput implements ReaderOutput<Row> {
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

    final List<Emitted> emitted = new ArrayList<>();

    @Override
    public void collect(Row record) {
        emitted.add(new Emitted(null, record, null));
    }

    @Override
    public void collect(Row record, long timestamp) {
        emitted.add(new Emitted(null, record, timestamp));
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

    @Override
    public SourceOutput<Row> createOutputForSplit(String splitId) {
        return new SourceOutput<>() {
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
        };
    }

    @Override
    public void releaseOutputForSplit(String splitId) {
    }
}
