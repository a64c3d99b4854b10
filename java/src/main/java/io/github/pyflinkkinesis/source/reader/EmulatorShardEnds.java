package io.github.pyflinkkinesis.source.reader;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import io.github.pyflinkkinesis.source.enumerator.ShardLister;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.Shard;

/**
 * For a loopback endpoint only (the local emulator, kinesis-local): which shards are closed.
 *
 * <p>Kinesis ends a closed shard's subscription with an event without a continuation sequence
 * number, naming the children. kinesis-local never does: it sends empty events for ever. The
 * enhanced fan-out reader therefore asks this class, when a subscribed shard of a loopback endpoint
 * is caught up, whether ListShards shows it closed (an ending sequence number); such a shard's end
 * is read with GetRecords instead. Real endpoints never use this class.
 */
final class EmulatorShardEnds {
    private final ShardLister lister;
    private final long relistAfterMillis;
    private final Map<String, Long> listedAt = new HashMap<>();
    private final Map<String, Set<String>> closedByStream = new HashMap<>();

    /**
     * @param relistAfterMillis a stream is listed again at most this often
     */
    EmulatorShardEnds(KinesisClient client, long relistAfterMillis) {
        this.lister = new ShardLister(client);
        this.relistAfterMillis = relistAfterMillis;
    }

    /** True if the shard is closed, as of a listing at most {@code relistAfterMillis} old. */
    boolean isClosed(String stream, String shardId, long nowMillis) throws InterruptedException {
        Long last = listedAt.get(stream);
        if (last == null || nowMillis - last >= relistAfterMillis) {
            Set<String> closed = new HashSet<>();
            for (Shard shard : lister.list(stream, null)) {
                if (shard.sequenceNumberRange() != null && shard.sequenceNumberRange().endingSequenceNumber() != null) {
                    closed.add(shard.shardId());
                }
            }
            closedByStream.put(stream, closed);
            listedAt.put(stream, nowMillis);
        }
        return closedByStream.getOrDefault(stream, Set.of()).contains(shardId);
    }
}
