package io.github.pyflinkkinesis.source.reader;

import java.io.IOException;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

import org.apache.flink.connector.base.source.reader.RecordsWithSplitIds;
import org.apache.flink.connector.base.source.reader.splitreader.SplitReader;
import org.apache.flink.connector.base.source.reader.splitreader.SplitsAddition;
import org.apache.flink.connector.base.source.reader.splitreader.SplitsChange;

import io.github.pyflinkkinesis.aws.retry.RetryRule;
import io.github.pyflinkkinesis.source.enumerator.ShardLister;
import io.github.pyflinkkinesis.source.split.KinesisShardSplit;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.Shard;

/**
 * With {@code aws.emulator} = true only (a local emulator, kinesis-local, declared by the user): closed shards' ends.
 *
 * <p>Kinesis ends a closed shard's subscription with an event without a continuation sequence
 * number, naming the children. kinesis-local never does: it sends empty events for ever. The
 * enhanced fan-out reader therefore asks this class, when a subscribed shard of such an endpoint
 * is caught up, whether ListShards shows it closed (an ending sequence number); such a shard is
 * handed over here and read to its end with GetRecords by a polling reader, from the position the
 * subscription reached. Without the key (the service) this class is never used.
 */
final class EmulatorShardEnds {
    private final ShardLister lister;
    private final long relistAfterMillis;
    private final Supplier<SplitReader<KinesisRecord, KinesisShardSplit>> pollingReaderFactory;
    private final Map<String, Long> listedAt = new HashMap<>();
    private final Map<String, Set<String>> closedByStream = new HashMap<>();
    private final Set<String> polledSplits = new HashSet<>();
    private SplitReader<KinesisRecord, KinesisShardSplit> pollingReader;

    /**
     * @param relistAfterMillis a stream is listed again at most this often
     * @param pollingReaderFactory the reader of closed shards' ends, made when first needed
     */
    EmulatorShardEnds(KinesisClient client, RetryRule retryRule, long relistAfterMillis,
                      Supplier<SplitReader<KinesisRecord, KinesisShardSplit>> pollingReaderFactory) {
        this.lister = new ShardLister(client, retryRule);
        this.relistAfterMillis = relistAfterMillis;
        this.pollingReaderFactory = pollingReaderFactory;
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

    /** Reads {@code split} (a closed shard, from where its subscription stood) to its end with GetRecords. */
    void handOver(KinesisShardSplit split) {
        if (pollingReader == null) {
            pollingReader = pollingReaderFactory.get();
        }
        pollingReader.handleSplitsChanges(new SplitsAddition<>(List.of(split)));
        polledSplits.add(split.splitId());
    }

    boolean hasShards() {
        return !polledSplits.isEmpty();
    }

    /** One fetch of the polling reader; its finished splits are forgotten here. */
    RecordsWithSplitIds<KinesisRecord> fetch() throws IOException {
        RecordsWithSplitIds<KinesisRecord> polled = pollingReader.fetch();
        polledSplits.removeAll(polled.finishedSplits());
        return polled;
    }

    void handleSplitsChanges(SplitsChange<KinesisShardSplit> change) {
        if (pollingReader != null) {
            pollingReader.handleSplitsChanges(change);
        }
    }

    void pauseOrResumeSplits(Collection<KinesisShardSplit> toPause, Collection<KinesisShardSplit> toResume) {
        if (pollingReader != null) {
            pollingReader.pauseOrResumeSplits(toPause, toResume);
        }
    }

    void wakeUp() {
        if (pollingReader != null) {
            pollingReader.wakeUp();
        }
    }

    void close() throws Exception {
        if (pollingReader != null) {
            pollingReader.close();
        }
    }
}
