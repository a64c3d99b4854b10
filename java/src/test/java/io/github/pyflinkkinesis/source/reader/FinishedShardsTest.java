package io.github.pyflinkkinesis.source.reader;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.github.pyflinkkinesis.source.split.KinesisShardSplit;
import io.github.pyflinkkinesis.source.split.StartingPosition;

/** When a reader reports a shard's end, and how long the shard stays in its checkpoints. */
class FinishedShardsTest {
    private static KinesisShardSplit ended(String shardId) {
        return new KinesisShardSplit("orders", shardId, List.of(), StartingPosition.shardEnd());
    }

    @Test
    void anEndIsHeldUntilACheckpointTakenAfterItCompletesEvenWhenNotificationsAreSkipped() {
        FinishedShards shards = new FinishedShards();
        shards.snapshot(4);
        assertEquals(List.of(), shards.ended(List.of(ended("a"))));
        assertEquals(List.of(ended("a")), shards.snapshot(5));
        assertEquals(List.of(), shards.checkpointComplete(4), "checkpoint 4 was taken before the end");
        assertEquals(List.of(ended("a")), shards.snapshot(6));
        assertEquals(List.of(ended("a")), shards.checkpointComplete(6), "6 completing covers 5, never notified");
        assertEquals(List.of(ended("a")), shards.snapshot(7), "kept until acknowledged");
        shards.acknowledged(List.of(ended("a").splitId()));
        assertEquals(List.of(), shards.snapshot(8));
        assertEquals(List.of(), shards.checkpointComplete(8));
    }

    @Test
    void anEndIsReportedAgainAtEachCompletedCheckpointUntilAcknowledged() {
        FinishedShards shards = new FinishedShards();
        shards.snapshot(1);
        shards.ended(List.of(ended("a")));
        shards.snapshot(2);
        assertEquals(List.of(ended("a")), shards.checkpointComplete(2));
        shards.snapshot(3);
        assertEquals(List.of(ended("a")), shards.checkpointComplete(3), "the report may have been lost: again");
        shards.acknowledged(List.of(ended("a").splitId(), ended("unknown").splitId()));
        shards.snapshot(4);
        assertEquals(List.of(), shards.checkpointComplete(4));
    }

    @Test
    void beforeAnyCheckpointAnEndIsReportedAtOnceAndARestoredEndToo() {
        FinishedShards fresh = new FinishedShards();
        assertEquals(List.of(ended("a")), fresh.ended(List.of(ended("a"))));
        assertEquals(List.of(ended("a")), fresh.snapshot(1));

        FinishedShards restored = new FinishedShards();
        assertEquals(List.of(ended("b")), restored.restored(List.of(ended("b"))));
        assertEquals(List.of(), restored.ended(List.of(ended("c"))), "a restored reader holds later ends");
        assertEquals(List.of(ended("c"), ended("b")), restored.snapshot(2));
        assertEquals(List.of(ended("b"), ended("c")), restored.checkpointComplete(2), "c now, b again");
        restored.acknowledged(List.of(ended("b").splitId()));
        assertEquals(List.of(ended("c")), restored.snapshot(3));
    }
}
