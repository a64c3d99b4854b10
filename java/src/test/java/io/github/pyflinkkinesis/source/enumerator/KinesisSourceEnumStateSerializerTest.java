package io.github.pyflinkkinesis.source.enumerator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.github.pyflinkkinesis.source.split.KinesisShardSplit;
import io.github.pyflinkkinesis.source.split.StartingPosition;

class KinesisSourceEnumStateSerializerTest {
    private final KinesisSourceEnumStateSerializer serializer = new KinesisSourceEnumStateSerializer();

    @Test
    void stateRoundTrips() throws IOException {
        Map<String, String> lastSeen = new LinkedHashMap<>();
        lastSeen.put("orders", "shardId-000000000004");
        lastSeen.put("arn:aws:kinesis:us-east-1:000000000000:stream/empty", "");
        KinesisSourceEnumState state = new KinesisSourceEnumState(
                lastSeen,
                List.of(new KinesisShardSplit("orders", "shardId-000000000004",
                                List.of("shardId-000000000002", "shardId-000000000003"), StartingPosition.trimHorizon()),
                        new KinesisShardSplit("orders", "shardId-000000000001", List.of(),
                                StartingPosition.afterSubRecord("123", 4L), 1_600_000_000_000L)),
                Map.of("orders/shardId-000000000002", 0, "orders/shardId-000000000003", 1),
                Set.of("orders/shardId-000000000000"), Map.of("orders", 1_600_000_000_000L));
        assertEquals(state, serializer.deserialize(serializer.getVersion(), serializer.serialize(state)));
    }

    @Test
    void emptyStateRoundTrips() throws IOException {
        KinesisSourceEnumState empty = KinesisSourceEnumState.empty();
        assertEquals(empty, serializer.deserialize(serializer.getVersion(), serializer.serialize(empty)));
    }

    /** A version 1 state (no creation times; splits of version 1) still restores, with the creation times unknown. */
    @Test
    void versionOneStateReads() throws IOException {
        String hex = "00000001" + "00066f7264657273" + "000130" // lastSeen {orders: "0"}
                + "00000001" + "00000001" + "00066f7264657273" + "000131" + "00000000" + "00" // one split, TRIM_HORIZON
                + "00000000" + "00000000"; // nothing assigned or finished
        KinesisSourceEnumState state = serializer.deserialize(1, io.github.pyflinkkinesis.source.Hex.parse(hex));
        assertEquals(new KinesisSourceEnumState(Map.of("orders", "0"),
                List.of(new KinesisShardSplit("orders", "1", List.of(), StartingPosition.trimHorizon())),
                Map.of(), Set.of()), state);
        assertEquals(Map.of(), state.streamCreationMillis());
    }

    @Test
    void unknownVersionIsRefused() throws IOException {
        byte[] bytes = serializer.serialize(KinesisSourceEnumState.empty());
        assertEquals(2, serializer.getVersion());
        assertThrows(IOException.class, () -> serializer.deserialize(99, bytes));
    }
}
