package io.github.pyflinkkinesis.source.reader;

import java.io.IOException;
import java.util.List;

import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.util.FlinkRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.pyflinkkinesis.aws.retry.KinesisErrors;
import io.github.pyflinkkinesis.aws.retry.RetryRule;
import io.github.pyflinkkinesis.source.enumerator.ShardLister;
import io.github.pyflinkkinesis.source.split.KinesisShardSplit;
import io.github.pyflinkkinesis.source.split.StartingPosition;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.Shard;

/**
 * What a ResourceNotFoundException for a shard's GetShardIterator, GetRecords or SubscribeToShard means, told by
 * listing its stream (ListShards), never by the error's text:
 * <ul>
 *   <li>the stream no longer lists the shard: it expired (a closed shard older than the stream's retention
 *       period leaves the listing). Its split ends as a shard read to its end does, so its children are read
 *       next; a warning names stream, shard and the last position read, and the counter {@value #COUNTER}
 *       (in groups {@code stream} and {@code shard}) counts it;</li>
 *   <li>ListShards answers ResourceNotFoundException too: the stream is gone, a failure naming it;</li>
 *   <li>the stream still lists the shard: something else the request named is missing; the caller decides.</li>
 * </ul>
 */
final class ExpiredShards {
    private static final Logger LOG = LoggerFactory.getLogger(ExpiredShards.class);

    /** The counter of expired shards, per stream and shard. */
    static final String COUNTER = "expiredShards";

    private final ShardLister lister;
    private final MetricGroup metrics;

    /** @param metrics the reader's metric group, where the counter goes */
    ExpiredShards(KinesisClient client, RetryRule retryRule, MetricGroup metrics) {
        this.lister = new ShardLister(client, retryRule);
        this.metrics = metrics;
    }

    /**
     * Called after {@code call} for {@code split}'s shard answered ResourceNotFoundException ({@code error}).
     *
     * @param lastRead where reading the shard stood: after the last record fetched, or where it started
     * @return true if the shard expired (warned and counted: end its split), false if the stream still lists it
     * @throws IOException naming the stream, when the stream itself does not exist or cannot be listed
     */
    boolean expired(KinesisShardSplit split, StartingPosition lastRead, String call, Throwable error)
            throws IOException {
        String answer = call + " for shard " + split.shardId() + " answered " + KinesisErrors.describe(error);
        List<Shard> shards;
        try {
            shards = lister.list(split.stream(), null);
        } catch (ShardLister.StreamNotFoundException e) {
            throw new IOException(e.getMessage() + "; " + answer, e);
        } catch (FlinkRuntimeException e) {
            throw new IOException("Kinesis " + answer + " on stream '" + split.streamName()
                    + "', and listing the stream to tell whether the shard expired failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while listing stream '" + split.streamName() + "'", e);
        }
        for (Shard shard : shards) {
            if (shard.shardId().equals(split.shardId())) {
                return false;
            }
        }
        LOG.warn("Shard {} of stream '{}' has expired: {} and ListShards no longer lists it (a closed shard older "
                + "than the stream's retention period). Its split ends as if read to its end, and its children are "
                + "read next; last position read: {}", split.shardId(), split.streamName(), answer, lastRead);
        metrics.addGroup("stream", split.streamName()).addGroup("shard", split.shardId()).counter(COUNTER).inc();
        return true;
    }
}
