package io.github.pyflinkkinesis.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.flink.types.Row;
import org.junit.jupiter.api.Test;

import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;

/**
 * {@code sink.rate-limit}: the pacer on a clock the test moves (sliding one-second windows per shard, records and
 * bytes), and a writer through it: a shard's calls spaced so that it never gets more than its budget a second.
 */
class ShardPacerTest extends WriterTestBase {
    private final AtomicLong now = new AtomicLong(10_000);

    private static List<Aggregator.Unit> units(String shard, int n, int dataBytes) {
        List<Aggregator.Unit> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            PutRecordsRequestEntry entry = PutRecordsRequestEntry.builder().partitionKey("k")
                    .data(SdkBytes.fromByteArray(new byte[dataBytes])).build();
            out.add(new Aggregator.Unit(entry, Collections.emptyList(), shard));
        }
        return out;
    }

    @Test
    void aShardTakesItsPercentOfAThousandRecordsASecondOtherShardsTheirOwn() {
        ShardPacer pacer = new ShardPacer(100, now::get, null);
        assertEquals(0, pacer.tryAcquire("s", units("a", 600, 1)));
        assertEquals(0, pacer.tryAcquire("s", units("a", 400, 1)));
        now.addAndGet(300);
        assertEquals(700, pacer.tryAcquire("s", units("a", 1, 1)), "until the first call leaves the window");
        assertEquals(0, pacer.tryAcquire("s", units("b", 1000, 1)), "another shard");
        assertEquals(0, pacer.tryAcquire("t", units("a", 1000, 1)), "the same shard id of another stream");
        now.addAndGet(700);
        assertEquals(0, pacer.tryAcquire("s", units("a", 600, 1)), "the first call left the window");
    }

    @Test
    void bytesCountTooAndAnEmptyWindowTakesAnyCall() {
        ShardPacer pacer = new ShardPacer(10, now::get, null); // 100 records, 104,857 bytes a second
        assertEquals(0, pacer.tryAcquire("s", units("a", 1, 200_000)), "larger than a second's budget: alone");
        assertEquals(1000, pacer.tryAcquire("s", units("a", 1, 10)));
        now.addAndGet(1000);
        assertEquals(0, pacer.tryAcquire("s", units("a", 2, 50_000)));
        assertEquals(1000, pacer.tryAcquire("s", units("a", 1, 10_000)), "over the bytes, within the records");
    }

    @Test
    void aCallNeedsRoomOnEveryShardItWritesToAndCountsNothingUntilThen() {
        ShardPacer pacer = new ShardPacer(1, now::get, null); // 10 records a second
        assertEquals(0, pacer.tryAcquire("s", units("a", 10, 1)));
        List<Aggregator.Unit> both = new ArrayList<>(units("a", 1, 1));
        both.addAll(units("b", 5, 1));
        assertEquals(1000, pacer.tryAcquire("s", both));
        assertEquals(0, pacer.tryAcquire("s", units("b", 10, 1)), "the waiting call took nothing of shard b");
    }

    @Test
    void slowCallsWidenTheWindow() {
        ShardPacer pacer = new ShardPacer(1, now::get, null);
        pacer.observe(400);
        assertEquals(0, pacer.tryAcquire("s", units("a", 10, 1)));
        now.addAndGet(1000);
        assertEquals(400, pacer.tryAcquire("s", units("a", 1, 1)), "a call may reach the service 400 ms late");
    }

    @Test
    void aPacedWriterSpacesEachShardsCallsBySecondAndKeepsTheBatchWithinABudget() throws Exception {
        BigInteger half = BigInteger.ONE.shiftLeft(127);
        kinesis.shards = List.of(new ShardMap.Range("shardId-000000000000", BigInteger.ZERO, half.subtract(BigInteger.ONE)),
                new ShardMap.Range("shardId-000000000001", half, BigInteger.ONE.shiftLeft(128).subtract(BigInteger.ONE)));
        writer(5, 50, KinesisSinkConfig.RATE_LIMIT, "1"); // 10 records a second per shard
        for (int i = 0; i < 15; i++) {
            writer.write(Row.of("orders", "k" + i, "0", new byte[] {(byte) i}), TestWriterContext.NO_CONTEXT);
        }
        writer.write(Row.of("orders", "other", half.toString(), new byte[] {1}), TestWriterContext.NO_CONTEXT);
        writer.flush(true);

        assertEquals(16, kinesis.delivered.size());
        List<FakeKinesis.Call> toShard0 = new ArrayList<>();
        synchronized (kinesis.calls) {
            for (FakeKinesis.Call call : kinesis.calls) {
                assertTrue(call.records.size() <= 10, "a call of " + call.records.size() + " records");
                if (call.records.stream().anyMatch(r -> "0".equals(r.explicitHashKey()))) {
                    toShard0.add(call);
                }
            }
        }
        assertEquals(2, toShard0.size());
        long apartMs = (toShard0.get(1).nanos - toShard0.get(0).nanos) / 1_000_000;
        assertTrue(apartMs >= 950, "the second call to shard 0 came " + apartMs + " ms after the first");
    }
}
