package io.github.pyflinkkinesis.sink;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.apache.flink.types.Row;
import org.junit.jupiter.api.Test;

class ToStreamTest {
    @Test
    void mapsASourceRowToASinkRow() {
        byte[] data = {(byte) 0xfe, 0, 1};
        Row source = Row.withNames();
        source.setField("data", data);
        source.setField("stream", "in");
        source.setField("shard_id", "shardId-000000000001");
        source.setField("partition_key", "key-1");
        source.setField("sequence_number", "4960");
        source.setField("sub_sequence_number", null);
        source.setField("arrival_time", 1L);
        Row positional = Row.of(data, "in", "shardId-000000000001", "key-1", "4960", null, 1L);
        for (Row in : new Row[] {source, positional}) {
            Row out = new ToStream("out").map(in);
            assertEquals("out", out.getField(0));
            assertEquals("key-1", out.getField(1));
            assertNull(out.getField(2));
            assertArrayEquals(data, (byte[]) out.getField(3));
        }
        assertEquals(KinesisSink.INPUT_TYPE, new ToStream("out").getProducedType());
        assertThrows(IllegalArgumentException.class, () -> new ToStream(""));
    }
}
