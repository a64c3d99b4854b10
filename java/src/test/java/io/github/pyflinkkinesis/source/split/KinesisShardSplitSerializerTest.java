package io.github.pyflinkkinesis.source.split;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.math.BigInteger;
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

    /** A version 2 checkpoint still restores: the shard's hash key range is unknown (no user record is dropped). */
    @Test
    void versionTwoLayoutStillReads() throws IOException {
        KinesisShardSplit split = new KinesisShardSplit("s", "shard-1", List.of("p"),
                StartingPosition.afterSubRecord("42", 3L), 0x0102030405L);
        assertEquals(split, serializer.deserialize(2, Hex.parse(V1_HEX + "0000000102030405")));
    }

    /** Version 3's layout is what checkpoints hold: changing it needs a new version. */
    @Test
    void versionThreeLayoutIsStable() throws IOException {
        KinesisShardSplit split = new KinesisShardSplit("s", "shard-1", List.of("p"),
                StartingPosition.afterSubRecord("42", 3L), 0x0102030405L, BigInteger.ONE, BigInteger.TEN);
        String hex = V1_HEX + "0000000102030405" + "01" + "000131" + "00023130";
        assertEquals(3, serializer.getVersion());
        assertEquals(hex, Hex.format(serializer.serialize(split)));
        assertEquals(split, serializer.deserialize(3, Hex.parse(hex)));
        KinesisShardSplit unknown = new KinesisShardSplit("s", "shard-1", List.of("p"),
                StartingPosition.afterSubRecord("42", 3L), 0x0102030405L);
        assertEquals(V1_HEX + "0000000102030405" + "00", Hex.format(serializer.serialize(unknown)));
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
        IOException error = assertThrows(IOException.class, () -> serializer.deserialize(4, bytes));
        assertTrue(error.getMessage().contains("version 4"), error.getMessage());
    }

    @Test
    void streamNameComesFromArn() {
        assertEquals("orders", KinesisShardSplit.streamName("arn:aws:kinesis:eu-west-1:123456789012:stream/orders"));
        assertEquals("orders", KinesisShardSplit.streamName("orders"));
    }
}
