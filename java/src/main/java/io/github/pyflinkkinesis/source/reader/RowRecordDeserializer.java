package io.github.pyflinkkinesis.source.reader;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.typeutils.RowTypeInfo;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;

/**
 * The DataStream source's output: one {@link Row} per record with the named fields of {@link #FIELD_NAMES}.
 */
public final class RowRecordDeserializer implements KinesisRecordDeserializer<Row> {
    private static final long serialVersionUID = 1L;

    /** The output row's field names, in order. */
    public static final String[] FIELD_NAMES = {
        "data", "stream", "shard_id", "partition_key", "sequence_number", "sub_sequence_number", "arrival_time"
    };

    /** The output row's type: named fields, as in {@link #FIELD_NAMES}. */
    public static final RowTypeInfo ROW_TYPE = new RowTypeInfo(new TypeInformation<?>[] {
        Types.PRIMITIVE_ARRAY(Types.BYTE), Types.STRING, Types.STRING, Types.STRING, Types.STRING, Types.LONG, Types.LONG
    }, FIELD_NAMES);

    @Override
    public void deserialize(KinesisRecord record, String stream, String shardId, Collector<Row> out) {
        out.collect(Row.of(record.data(), stream, shardId, record.partitionKey(), record.sequenceNumber(),
                record.subSequenceNumber(), record.arrivalTimeMillis()));
    }

    @Override
    public TypeInformation<Row> getProducedType() {
        return ROW_TYPE;
    }
}
