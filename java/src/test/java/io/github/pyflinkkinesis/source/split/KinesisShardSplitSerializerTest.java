package io.github.pyflinkkinesis.source.split;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import io.github.pyflinkkinesis.source.Hex;
import java.util.List;

import org.junit.jupiter.api.Test;

class KinesisShardSplitSerializerTest {
    private final KinesisShardSplitSerializer serializer = new KinesisShardSplitSerializer();

    private KinesisShardSplit roundTrip(KinesisShardSplit split) throws IOException {
        return serializer.deserialize(serializer.getVersion(), serializer.serialize(split));
    }

    @Test
    void everyPositionRoundTrips() throws IOException {
        List<StartingPosition> positions = List.of(
                StartingPosition.trimHorizon(),
                StartingPosition.atTimestamp(1_700_000_000_123L),
                StartingPosition.afterRecord("49590338271490256608559692538361571095921575989136588898"),
                StartingPosition.afterSubRecord("49590338271490256608559692538361571095921575989136588898", 7L),
                StartingPosition.shardEnd());
        for (StartingPosition position : positions) {
            KinesisShardSplit split = new KinesisShardSplit("arn:aws:kinesis:us-east-1:000000000000:stream/orders",
                    "shardId-000000000004", List.of("shardId-000000000002", "shardId-000000000003"), position);
            KinesisShardSplit copy = roundTrip(split);
            assertEquals(split, copy);
            assertEquals(position, copy.startingPosition());
            assertEquals("orders/shardId-000000000004", copy.splitId());
        }
    }

    @Test
    void splitWithoutParentsRoundTrips() throws IOException {
        KinesisShardSplit split = new KinesisShardSplit("orders", "shardId-000000000000", List.of(),
                StartingPosition.trimHorizon());
        assertEquals(split, roundTrip(split));
    }

    private static final String V1_HEX = "000173" + "000773686172642d31" + "00000001" + "000170" + "02" + "00023432"
            + "01" + "0000000000000003";

    /** Version 2's layout is what checkpoints hold: changing it needs a new version. */
    @Test
    void versionTwoLayoutIsStable() throws IOException {
        KinesisShardSplit split = new KinesisShardSplit("s", "shard-1", List.of("p"),
                StartingPosition.afterSubRecord("42", 3L), 0x0102030405L);
        String hex = V1_HEX + "0000000102030405";
        assertEquals(2, serializer.getVersion());
        assertEquals(hex, Hex.format(serializer.serialize(split)));
        assertEquals(split, serializer.deserialize(2, Hex.parse(hex)));
    }

    /** A version 1 checkpoint still restores: the stream's creation time is unknown (the reader adopts the current one). */
    @Test
    void versionOneReadsWithUnknownCreationTime() throws IOException {
        KinesisShardSplit split = serializer.deserialize(1, Hex.parse(V1_HEX));
        assertEquals(new KinesisShardSplit("s", "shard-1", List.of("p"), StartingPosition.afterSubRecord("42", 3L)), split);
        assertEquals(0L, split.streamCreationMillis());
    }

    @Test
    void unknownVersionIsRefused() throws IOException {
        byte[] bytes = serializer.serialize(new KinesisShardSplit("s", "shard-1", List.of(), StartingPosition.trimHorizon()));
        IOException error = assertThrows(IOException.class, () -> serializer.deserialize(3, bytes));
        assertTrue(error.getMessage().contains("version 3"), error.getMessage());
    }

    @Test
    void streamNameComesFromArn() {
        assertEquals("orders", KinesisShardSplit.streamName("arn:aws:kinesis:eu-west-1:123456789012:stream/orders"));
        assertEquals("orders", KinesisShardSplit.streamName("orders"));
    }
}
