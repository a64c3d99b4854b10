package io.github.pyflinkkinesis.sink;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.connector.base.sink.writer.Batch;
import org.apache.flink.connector.base.sink.writer.BatchCreator;
import org.apache.flink.connector.base.sink.writer.RequestBuffer;
import org.apache.flink.connector.base.sink.writer.RequestEntryWrapper;
import org.apache.flink.connector.base.sink.writer.strategy.RequestInfo;

/**
 * The writer's buffer, one queue per stream, and the batch creator that reads it: PutRecords takes one
 * stream, so every batch comes from one queue. Both roles live here because a batch is cut from this
 * buffer's queues, which the generic {@link RequestBuffer} interface does not expose.
 *
 * <p>A batch is taken from the fullest queue (so batches are as large as the load allows), up to the
 * record count the rate limiter allows and {@code maxBatchBytes}. Small queues are sent at the latest
 * when the flush timer empties the whole buffer. Failed entries return to the head of their queue.
 * Used by the mailbox thread only.
 */
final class PerStreamBuffer implements RequestBuffer<KinesisSinkEntry>, BatchCreator<KinesisSinkEntry> {
    private final Map<String, Deque<RequestEntryWrapper<KinesisSinkEntry>>> queues = new LinkedHashMap<>();
    private final long maxBatchBytes;
    private int size;
    private long totalBytes;

    PerStreamBuffer(long maxBatchBytes) {
        this.maxBatchBytes = maxBatchBytes;
    }

    @Override
    public void add(RequestEntryWrapper<KinesisSinkEntry> entry, boolean insertAtHead) {
        Deque<RequestEntryWrapper<KinesisSinkEntry>> queue =
                queues.computeIfAbsent(entry.getRequestEntry().stream(), s -> new ArrayDeque<>());
        if (insertAtHead) {
            queue.addFirst(entry);
        } else {
            queue.addLast(entry);
        }
        size++;
        totalBytes += entry.getSize();
    }

    @Override
    public RequestEntryWrapper<KinesisSinkEntry> poll() {
        Deque<RequestEntryWrapper<KinesisSinkEntry>> queue = fullestQueue();
        return queue == null ? null : take(queue);
    }

    @Override
    public RequestEntryWrapper<KinesisSinkEntry> peek() {
        Deque<RequestEntryWrapper<KinesisSinkEntry>> queue = fullestQueue();
        return queue == null ? null : queue.peekFirst();
    }

    @Override
    public boolean isEmpty() {
        return size == 0;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public long totalSizeInBytes() {
        return totalBytes;
    }

    @Override
    public Collection<RequestEntryWrapper<KinesisSinkEntry>> getBufferedState() {
        List<RequestEntryWrapper<KinesisSinkEntry>> all = new ArrayList<>(size);
        queues.values().forEach(all::addAll);
        return all;
    }

    /** The next PutRecords batch: entries of one stream. {@code buffer} is this object. */
    @Override
    public Batch<KinesisSinkEntry> createNextBatch(RequestInfo requestInfo, RequestBuffer<KinesisSinkEntry> buffer) {
        List<KinesisSinkEntry> entries = new ArrayList<>();
        Deque<RequestEntryWrapper<KinesisSinkEntry>> queue = fullestQueue();
        long bytes = 0;
        int maxCount = requestInfo.getBatchSize();
        while (queue != null && !queue.isEmpty() && entries.size() < maxCount) {
            long next = queue.peekFirst().getSize();
            if (!entries.isEmpty() && bytes + next > maxBatchBytes) {
                break;
            }
            entries.add(take(queue).getRequestEntry());
            bytes += next;
        }
        return new Batch<>(entries, bytes);
    }

    private Deque<RequestEntryWrapper<KinesisSinkEntry>> fullestQueue() {
        Deque<RequestEntryWrapper<KinesisSinkEntry>> best = null;
        for (Iterator<Deque<RequestEntryWrapper<KinesisSinkEntry>>> it = queues.values().iterator(); it.hasNext(); ) {
            Deque<RequestEntryWrapper<KinesisSinkEntry>> queue = it.next();
            if (queue.isEmpty()) {
                it.remove(); // streams come and go: keep no empty queues
            } else if (best == null || queue.size() > best.size()) {
                best = queue;
            }
        }
        return best;
    }

    private RequestEntryWrapper<KinesisSinkEntry> take(Deque<RequestEntryWrapper<KinesisSinkEntry>> queue) {
        RequestEntryWrapper<KinesisSinkEntry> entry = queue.pollFirst();
        size--;
        totalBytes -= entry.getSize();
        return entry;
    }
}
