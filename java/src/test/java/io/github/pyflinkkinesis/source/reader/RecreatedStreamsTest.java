package io.github.pyflinkkinesis.source.reader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.apache.flink.util.FlinkRuntimeException;
import org.junit.jupiter.api.Test;

import io.github.pyflinkkinesis.source.KinesisSourceConfig.StreamRecreated;
import io.github.pyflinkkinesis.source.split.KinesisShardSplit;
import io.github.pyflinkkinesis.source.split.StartingPosition;

class RecreatedStreamsTest {
    private static final long OLD = 1_600_000_000_000L;
    private static final long NEW = 1_700_000_000_000L;
    private final List<String> lookups = new ArrayList<>();

    private RecreatedStreams recreated(StreamRecreated policy) {
        return new RecreatedStreams(stream -> {
            lookups.add(stream);
            return NEW;
        }, policy);
    }

    private static KinesisShardSplit split(String shardId, long created) {
        return new KinesisShardSplit("orders", shardId, List.of(), StartingPosition.afterRecord("42"), created);
    }

    @Test
    void theSameStreamKeepsItsSplitsWithOneLookup() {
        List<KinesisShardSplit> restored = List.of(split("shardId-0", NEW), split("shardId-1", NEW));
        assertEquals(restored, recreated(StreamRecreated.FAIL).keep(restored));
        assertEquals(List.of("orders"), lookups);
    }

    @Test
    void anUnknownCreationTimeAdoptsTheCurrentOne() {
        KinesisShardSplit versionOne = new KinesisShardSplit("orders", "shardId-0", List.of(),
                StartingPosition.afterRecord("42"));
        assertEquals(List.of(split("shardId-0", NEW)), recreated(StreamRecreated.FAIL).keep(List.of(versionOne)));
    }

    @Test
    void aRecreatedStreamFailsWithOneLineNamingBothCreationTimes() {
        FlinkRuntimeException error = assertThrows(FlinkRuntimeException.class,
                () -> recreated(StreamRecreated.FAIL).keep(List.of(split("shardId-0", OLD))));
        String message = error.getMessage();
        assertTrue(message.contains("'orders'") && message.contains("2020-09-13T12:26:40Z")
                && message.contains("2023-11-14T22:13:20Z") && message.contains("source.stream-recreated=START_OVER"),
                message);
        assertFalse(message.contains("\n"), message);
    }

    @Test
    void startOverDropsTheOldStreamsSplits() {
        assertEquals(List.of(), recreated(StreamRecreated.START_OVER).keep(List.of(split("shardId-0", OLD))));
    }
}
