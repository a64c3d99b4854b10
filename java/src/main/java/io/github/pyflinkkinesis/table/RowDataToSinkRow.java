package io.github.pyflinkkinesis.table;

import java.util.List;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.serialization.RuntimeContextInitializationContextAdapters;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.types.Row;

import io.github.pyflinkkinesis.sink.KinesisSink;

/**
 * A sink table's row as the input Row of {@link KinesisSink} (stream, partition key, explicit hash key, data):
 * the format encodes the physical columns; the metadata columns after them, when set, pick stream and keys.
 */
final class RowDataToSinkRow extends RichMapFunction<RowData, Row> implements ResultTypeQueryable<Row> {
    private static final long serialVersionUID = 1L;

    private final SerializationSchema<RowData> format;
    private final RowData.FieldGetter[] physical;
    private final WritableMetadata[] metadata;
    private final String stream;
    private final PartitionKeys partitionKeys;
    private transient int subtask;

    /**
     * @param physical getters of the physical columns, which come first in the consumed row
     * @param metadata the metadata columns that follow them, in order
     * @param stream the table's stream, or null if every row names its own
     */
    RowDataToSinkRow(SerializationSchema<RowData> format, RowData.FieldGetter[] physical,
                     List<WritableMetadata> metadata, String stream, PartitionKeys partitionKeys) {
        this.format = format;
        this.physical = physical;
        this.metadata = metadata.toArray(new WritableMetadata[0]);
        this.stream = stream;
        this.partitionKeys = partitionKeys;
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        format.open(RuntimeContextInitializationContextAdapters.serializationAdapter(getRuntimeContext()));
        subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
    }

    @Override
    public Row map(RowData row) {
        String target = stream;
        String partitionKey = null;
        String hashKey = null;
        for (int i = 0; i < metadata.length; i++) {
            int position = physical.length + i;
            if (row.isNullAt(position)) {
                continue;
            }
            String value = row.getString(position).toString();
            switch (metadata[i]) {
                case STREAM:
                    target = value;
                    break;
                case PARTITION_KEY:
                    partitionKey = value;
                    break;
                default:
                    hashKey = value;
            }
        }
        if (partitionKey == null) {
            partitionKey = partitionKeys.keyOf(row, subtask);
        }
        return Row.of(target, partitionKey, hashKey, format.serialize(physicalPart(row)));
    }

    private RowData physicalPart(RowData row) {
        if (metadata.length == 0) {
            return row;
        }
        GenericRowData out = new GenericRowData(row.getRowKind(), physical.length);
        for (int i = 0; i < physical.length; i++) {
            out.setField(i, physical[i].getFieldOrNull(row));
        }
        return out;
    }

    @Override
    public TypeInformation<Row> getProducedType() {
        return KinesisSink.INPUT_TYPE;
    }
}
