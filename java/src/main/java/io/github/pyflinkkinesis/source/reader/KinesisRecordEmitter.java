package io.github.pyflinkkinesis.source.reader;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.SourceOutput;
import org.apache.flink.api.java.typeutils.RowTypeInfo;
import org.apache.flink.connector.base.source.reader.RecordEmitter;
import org.apache.flink.types.Row;

import io.github.pyflinkkinesis.source.split.KinesisShardSplitState;

/**
 * Turns a fetched record into the source's output {@link Row}, with the arrival time as its
 * timestamp, through the split's own output (so per-split watermarks work), and moves the split's
 * position past it.
 */
public final class KinesisRecordEmitter implements RecordEmitter<KinesisRecord, Row, KinesisShardSplitState> {
    /** The output row's field names, in order. */
    public static final String[] FIELD_NAMES = {
        "data", "stream", "shard_id", "partition_key", "sequence_number", "sub_sequence_number", "arrival_time"
    };

    /** The output row's type: named fields, as in {@link #FIELD_NAMES}. */
    public static final RowTypeInfo ROW_TYPE = new RowTypeInfo(new TypeInformation<?>[] {
        Types.PRIMITIVE_ARRAY(Types.BYTE), Types.STRING, Types.STRING, Types.STRING, Types.STRING, Types.LONG, Types.LONG
    }, FIELD_NAMES);

    @Override
    public void emitRecord(KinesisRecord record, SourceOutput<Row> output, KinesisShardSplitState state) {
        Row row = Row.of(record.data(), state.streamName(), state.split().shardId(), record.partitionKey(),
                record.sequenceNumber(), record.subSequenceNumber(), record.arrivalTimeMillis());
        output.collect(row, record.arrivalTimeMillis());
        state.emitted(record.sequenceNumber(), record.endOfRecord() ? null : record.subSequenceNumber());
    }
}
