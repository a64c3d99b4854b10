package io.github.pyflinkkinesis.table;

import java.io.IOException;
import java.util.List;

import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.utils.JoinedRowData;
import org.apache.flink.util.Collector;

import io.github.pyflinkkinesis.source.reader.KinesisRecord;
import io.github.pyflinkkinesis.source.reader.KinesisRecordDeserializer;

/**
 * A source table's rows: the format decodes the payload into the physical columns, and the metadata columns
 * the query reads follow them.
 */
final class RowDataDeserializer implements KinesisRecordDeserializer<RowData> {
    private static final long serialVersionUID = 1L;

    private final DeserializationSchema<RowData> format;
    private final ReadableMetadata[] metadata;
    private final TypeInformation<RowData> producedType;
    private transient MetadataAppender appender;

    RowDataDeserializer(DeserializationSchema<RowData> format, List<ReadableMetadata> metadata,
                        TypeInformation<RowData> producedType) {
        this.format = format;
        this.metadata = metadata.toArray(new ReadableMetadata[0]);
        this.producedType = producedType;
    }

    @Override
    public void open(DeserializationSchema.InitializationContext context) throws Exception {
        format.open(context);
        appender = new MetadataAppender();
    }

    @Override
    public void deserialize(KinesisRecord record, String stream, String shardId, Collector<RowData> out)
            throws IOException {
        if (metadata.length == 0) {
            format.deserialize(record.data(), out);
            return;
        }
        GenericRowData values = new GenericRowData(metadata.length);
        for (int i = 0; i < metadata.length; i++) {
            values.setField(i, metadata[i].read(record, stream, shardId));
        }
        appender.out = out;
        appender.metadata = values;
        format.deserialize(record.data(), appender);
    }

    @Override
    public TypeInformation<RowData> getProducedType() {
        return producedType;
    }

    /** Joins each decoded row with the record's metadata, keeping the row's kind. */
    private static final class MetadataAppender implements Collector<RowData> {
        private Collector<RowData> out;
        private RowData metadata;

        @Override
        public void collect(RowData physical) {
            JoinedRowData joined = new JoinedRowData(physical.getRowKind(), physical, metadata);
            out.collect(joined);
        }

        @Override
        public void close() {
        }
    }
}
