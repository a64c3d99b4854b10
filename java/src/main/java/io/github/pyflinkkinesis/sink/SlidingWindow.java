package io.github.pyflinkkinesis.sink;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * What one shard took from this writer in the last {@code period} milliseconds (records and bytes), against a
 * budget: the Java twin of the Python {@code SlidingWindow} the test proxy enforces. A use larger than a whole
 * window's budget fits an empty window (the service lets a large record through alone). Not thread safe.
 */
final class SlidingWindow {
    private final double maxRecords;
    private final double maxBytes;
    private final Deque<long[]> events = new ArrayDeque<>(); // {at, records, bytes}
    private long records;
    private long bytes;

    SlidingWindow(double maxRecords, double maxBytes) {
        this.maxRecords = maxRecords;
        this.maxBytes = maxBytes;
    }

    private void expire(long now, long period) {
        while (!events.isEmpty() && events.peekFirst()[0] <= now - period) {
            long[] old = events.pollFirst();
            records -= old[1];
            bytes -= old[2];
        }
    }

    /** Milliseconds from {@code now} until {@code n} more records of {@code size} bytes in all fit (0: they do). */
    long wait(long now, long period, long n, long size) {
        expire(now, period);
        long r = records;
        long b = bytes;
        if (fits(r, b, n, size)) {
            return 0;
        }
        for (long[] event : events) { // the oldest leave the window first
            r -= event[1];
            b -= event[2];
            if (fits(r, b, n, size)) {
                return Math.max(1, event[0] + period - now);
            }
        }
        return 1; // unreachable: an empty window fits anything
    }

    private boolean fits(long r, long b, long n, long size) {
        return (r == 0 && b == 0) || (r + n <= maxRecords && b + size <= maxBytes);
    }

    /** Counts {@code n} records of {@code size} bytes taken at {@code at} (not earlier than earlier adds). */
    void add(long at, long n, long size) {
        events.addLast(new long[] {at, n, size});
        records += n;
        bytes += size;
    }
}
