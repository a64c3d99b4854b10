package io.github.pyflinkkinesis.source.reader;

import org.apache.flink.api.connector.source.SourceOutput;
import org.apache.flink.connector.base.source.reader.RecordEmitter;
import org.apache.flink.util.Collector;

import io.github.pyflinkkinesis.source.split.KinesisShardSplitState;

/**
 * Turns a fetched record into the source's output through its {@link KinesisRecordDeserializer}, with the
 * arrival time as timestamp, through the split's own output (so per-split watermarks work), and moves the
 * split's position past it.
 */
public final class KinesisRecordEmitter<T> implements RecordEmitter<KinesisRecord, T, KinesisShardSplitState> {
    private final KinesisRecordDeserializer<T> deserializer;
    private final TimestampedOutput<T> collector = new TimestampedOutput<>();

    public KinesisRecordEmitter(KinesisRecordDeserializer<T> deserializer) {
        this.deserializer = deserializer;
    }

    @Override
    public void emitRecord(KinesisRecord record, SourceOutput<T> output, KinesisShardSplitState state)
            throws Exception {
        collector.output = output;
        collector.timestamp = record.arrivalTimeMillis();
        deserializer.deserialize(record, state.streamName(), state.split().shardId(), collector);
        state.emitted(record.sequenceNumber(), record.endOfRecord() ? null : record.subSequenceNumber());
    }

    /** One per emitter, pointed at the current split's output: no allocation per record. */
    private static final class TimestampedOutput<T> implements Collector<T> {
        private SourceOutput<T> output;
        private long timestamp;

        @Override
        public void collect(T value) {
            output.collect(value, timestamp);
        }

        @Override
        public void close() {
        }
    }
}
