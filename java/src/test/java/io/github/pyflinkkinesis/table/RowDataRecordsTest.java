package io.github.pyflinkkinesis.table;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Test;

import io.github.pyflinkkinesis.source.reader.KinesisRecord;

/** A table row on its way out (RowDataToSinkRow, PartitionKeys) and in (RowDataDeserializer). */
class RowDataRecordsTest {

    /** Encodes the first column, a string, as UTF-8: enough to see which columns the format gets. */
    private static final SerializationSchema<RowData> FIRST_COLUMN =
            row -> row.getString(0).toString().getBytes(StandardCharsets.UTF_8);

    /** Decodes a payload into a row of one string column; an empty payload gives no row. */
    private static final class TextFormat implements DeserializationSchema<RowData> {
        @Override
        public RowData deserialize(byte[] message) {
            return message.length == 0 ? null
                    : GenericRowData.of(StringData.fromString(new String(message, StandardCharsets.UTF_8)));
        }

        @Override
        public boolean isEndOfStream(RowData nextElement) {
            return false;
        }

        @Override
        public TypeInformation<RowData> getProducedType() {
            return null;
        }
    }

    private static RowDataToSinkRow toRow(List<WritableMetadata> metadata, String stream, PartitionKeys keys) {
        RowData.FieldGetter[] physical = KinesisDynamicSink.getters(
                DataTypes.ROW(DataTypes.FIELD("name", DataTypes.STRING()), DataTypes.FIELD("n", DataTypes.INT())));
        return new RowDataToSinkRow(FIRST_COLUMN, physical, metadata, stream, keys);
    }

    private static PartitionKeys byColumns(String delimiter) {
        RowData.FieldGetter[] getters = {
            RowData.createFieldGetter(DataTypes.STRING().getLogicalType(), 0),
            RowData.createFieldGetter(DataTypes.INT().getLogicalType(), 1)};
        return PartitionKeys.of(null, new int[] {0, 1}, getters, delimiter);
    }

    @Test
    void metadataColumnsPickStreamAndKeysWhenSet() throws Exception {
        RowDataToSinkRow map = toRow(List.of(WritableMetadata.STREAM, WritableMetadata.PARTITION_KEY,
                WritableMetadata.EXPLICIT_HASH_KEY), "default", byColumns("|"));
        Row set = map.map(GenericRowData.of(StringData.fromString("a"), 7, StringData.fromString("other"),
                StringData.fromString("pk"), StringData.fromString("42")));
        assertEquals("other", set.getField(0));
        assertEquals("pk", set.getField(1));
        assertEquals("42", set.getField(2));
        assertArrayEquals("a".getBytes(StandardCharsets.UTF_8), (byte[]) set.getField(3));
        Row unset = map.map(GenericRowData.of(StringData.fromString("b"), 8, null, null, null));
        assertEquals("default", unset.getField(0));
        assertEquals("b|8", unset.getField(1));
        assertNull(unset.getField(2));
    }

    @Test
    void partitionersRandomAndFixed() throws Exception {
        RowData row = GenericRowData.of(StringData.fromString("a"), 1);
        String first = (String) toRow(List.of(), "s", PartitionKeys.of(null, new int[0], null, "|")).map(row).getField(1);
        String second = (String) toRow(List.of(), "s", PartitionKeys.of("RANDOM", new int[0], null, "|")).map(row).getField(1);
        assertEquals(36, first.length());
        assertTrue(!first.equals(second));
        assertEquals("0", toRow(List.of(), "s", PartitionKeys.of("fixed", new int[0], null, "|")).map(row).getField(1));
        assertEquals("a::1", byColumns("::").keyOf(row, 3));
    }

    @Test
    void decodedRowsGetTheRecordsMetadata() throws Exception {
        List<ReadableMetadata> metadata = List.of(ReadableMetadata.TIMESTAMP, ReadableMetadata.SHARD_ID,
                ReadableMetadata.SEQUENCE_NUMBER, ReadableMetadata.PARTITION_KEY, ReadableMetadata.STREAM,
                ReadableMetadata.SUB_SEQUENCE_NUMBER);
        RowDataDeserializer deserializer = new RowDataDeserializer(new TextFormat(), metadata, null);
        deserializer.open(null);
        List<RowData> out = new ArrayList<>();
        Collector<RowData> collector = new Collector<>() {
            @Override
            public void collect(RowData record) {
                out.add(record);
            }

            @Override
            public void close() {
            }
        };
        deserializer.deserialize(new KinesisRecord("hi".getBytes(StandardCharsets.UTF_8), "pk", "4955", 2L, 1700L,
                false), "orders", "shardId-000000000001", collector);
        deserializer.deserialize(new KinesisRecord(new byte[0], "pk", "4956", null, 1800L, true),
                "orders", "shardId-000000000001", collector);
        assertEquals(1, out.size());
        RowData row = out.get(0);
        assertEquals(7, row.getArity());
        assertEquals("hi", row.getString(0).toString());
        assertEquals(TimestampData.fromEpochMillis(1700L), row.getTimestamp(1, 3));
        assertEquals("shardId-000000000001", row.getString(2).toString());
        assertEquals("4955", row.getString(3).toString());
        assertEquals("pk", row.getString(4).toString());
        assertEquals("orders", row.getString(5).toString());
        assertEquals(2L, row.getLong(6));
    }
}
