package io.github.pyflinkkinesis.source.enumerator;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

import io.github.pyflinkkinesis.source.StreamCreation;
import io.github.pyflinkkinesis.source.split.KinesisShardSplit;

/**
 * The enumerator's bookkeeping, without I/O: which shards are known, handed out or finished, and
 * which reader gets a shard next. Not thread-safe: the enumerator uses it from its coordinator thread.
 *
 * <p>A shard is handed out only when none of its parents is still unassigned or being read, so a
 * key's records are read in order across splits and merges. A parent that is not known (trimmed
 * from the stream before discovery) does not hold its child back.
 */
final class ShardTracker {
    private final Map<String, String> lastSeenShardIds;
    private final TreeMap<String, KinesisShardSplit> unassigned = new TreeMap<>();
    private final Map<String, Integer> assigned;
    private final Set<String> finished;
    /** Per stream name, the creation time of the stream the positions are of. */
    private final Map<String, Long> creationMillis;

    ShardTracker(KinesisSourceEnumState state) {
        lastSeenShardIds = new LinkedHashMap<>(state.lastSeenShardIds());
        state.unassigned().forEach(split -> unassigned.put(split.splitId(), split));
        assigned = new LinkedHashMap<>(state.assigned());
        finished = new LinkedHashSet<>(state.finished());
        creationMillis = new LinkedHashMap<>(state.streamCreationMillis());
    }

    /** The creation time of the stream the positions of {@code streamName} are of; UNKNOWN when not known. */
    long creationMillis(String streamName) {
        return creationMillis.getOrDefault(streamName, StreamCreation.UNKNOWN);
    }

    void setCreationMillis(String streamName, long millis) {
        creationMillis.put(streamName, millis);
    }

    /** Forgets everything about {@code streamName}: it was created again, and is read as if never read before. */
    void forgetStream(String streamName) {
        forgetStreamsWhere(streamName::equals);
    }

    /** True once {@code stream} (name or ARN) was listed: shards found later are new ones. */
    boolean isDiscovered(String stream) {
        return lastSeenShardIds.containsKey(KinesisShardSplit.streamName(stream));
    }

    /** Per stream name, the highest shard id listed ("" for none). */
    Map<String, String> lastSeenShardIds() {
        return new LinkedHashMap<>(lastSeenShardIds);
    }

    /** Adds the listed shards of {@code stream} that are not known yet and marks the stream discovered. */
    List<KinesisShardSplit> addShards(String stream, List<KinesisShardSplit> listed) {
        String name = KinesisShardSplit.streamName(stream);
        String last = lastSeenShardIds.getOrDefault(name, "");
        List<KinesisShardSplit> added = new ArrayList<>();
        for (KinesisShardSplit split : listed) {
            addIfUnknown(split, added);
            if (split.shardId().compareTo(last) > 0) {
                last = split.shardId();
            }
        }
        lastSeenShardIds.put(name, last);
        return added;
    }

    /**
     * Adds children that a reader learnt from a shard's last event. The last seen shard id is not
     * moved: ListShards goes on from where it was (no shard in between is missed) and may list these
     * again, known by then (see {@link #forgetSettledFinished}).
     */
    List<KinesisShardSplit> addChildren(List<KinesisShardSplit> children) {
        List<KinesisShardSplit> added = new ArrayList<>();
        for (KinesisShardSplit split : children) {
            addIfUnknown(split, added);
        }
        return added;
    }

    private void addIfUnknown(KinesisShardSplit split, List<KinesisShardSplit> added) {
        String id = split.splitId();
        if (!unassigned.containsKey(id) && !assigned.containsKey(id) && !finished.contains(id)) {
            unassigned.put(id, split);
            added.add(split);
        }
    }

    /** Forgets everything about streams not in {@code streamNames}: they were removed from the source. */
    void retainStreams(Set<String> streamNames) {
        forgetStreamsWhere(name -> !streamNames.contains(name));
    }

    private void forgetStreamsWhere(Predicate<String> forget) {
        lastSeenShardIds.keySet().removeIf(forget);
        unassigned.values().removeIf(split -> forget.test(split.streamName()));
        assigned.keySet().removeIf(id -> forget.test(streamOf(id)));
        finished.removeIf(id -> forget.test(streamOf(id)));
        creationMillis.keySet().removeIf(forget);
    }

    private static String streamOf(String splitId) {
        return splitId.substring(0, splitId.indexOf('/'));
    }

    /** Records that these splits' shards were read to their end. */
    void markFinished(Collection<String> splitIds) {
        for (String id : splitIds) {
            assigned.remove(id);
            unassigned.remove(id);
            finished.add(id);
        }
    }

    /**
     * Takes back the splits Flink gives back from a failed reader: those assigned to it after the
     * checkpoint it restarts from. A shard the reader was still reading is handed out again from its
     * position. A shard it reported finished is read again only while its children wait (the reader
     * then restarts from before the end, so reading it again loses nothing and keeps the order); once
     * its children were handed out, it is never read again: its records would follow theirs.
     *
     * @return the ids of shards not to read again
     */
    List<String> addBack(Collection<KinesisShardSplit> splits) {
        List<String> settled = new ArrayList<>();
        for (KinesisShardSplit split : splits) {
            String id = split.splitId();
            if (split.isFinished()) {
                markFinished(List.of(id));
            } else if (assigned.containsKey(id) || finished.contains(id)) {
                assigned.remove(id);
                finished.remove(id);
                unassigned.put(id, split);
            } else if (!unassigned.containsKey(id)) {
                settled.add(id);
            }
        }
        return settled;
    }

    /** True when some known shard names {@code splitId} as a parent. */
    boolean hasKnownChild(String splitId) {
        for (KinesisShardSplit split : unassigned.values()) {
            if (split.parentSplitIds().contains(splitId)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Hands out every shard whose parents are done, each to the reader with the fewest shards
     * (lowest index on ties) among all {@code parallelism} readers. A shard meant for a reader that
     * has not registered yet stays unassigned until it does, so late readers get their share.
     *
     * @return reader index to the splits it gets now
     */
    Map<Integer, List<KinesisShardSplit>> assign(int parallelism, Set<Integer> registeredReaders) {
        Map<Integer, List<KinesisShardSplit>> assignment = new TreeMap<>();
        if (parallelism <= 0) {
            return assignment;
        }
        int[] load = new int[parallelism];
        for (int owner : assigned.values()) {
            if (owner < parallelism) {
                load[owner]++;
            }
        }
        List<KinesisShardSplit> ready = new ArrayList<>();
        for (KinesisShardSplit split : unassigned.values()) {
            if (parentsDone(split)) {
                ready.add(split);
            }
        }
        for (KinesisShardSplit split : ready) {
            int owner = 0;
            for (int reader = 1; reader < parallelism; reader++) {
                if (load[reader] < load[owner]) {
                    owner = reader;
                }
            }
            load[owner]++;
            if (registeredReaders.contains(owner)) {
                unassigned.remove(split.splitId());
                assigned.put(split.splitId(), owner);
                assignment.computeIfAbsent(owner, k -> new ArrayList<>()).add(split);
            }
        }
        forgetSettledFinished();
        return assignment;
    }

    private boolean parentsDone(KinesisShardSplit split) {
        for (String parent : split.parentSplitIds()) {
            if (unassigned.containsKey(parent) || assigned.containsKey(parent)) {
                return false;
            }
        }
        return true;
    }

    KinesisSourceEnumState snapshot() {
        return new KinesisSourceEnumState(lastSeenShardIds, new ArrayList<>(unassigned.values()), assigned, finished,
                creationMillis);
    }

    /**
     * Drops finished ids that no unassigned shard names as a parent: an unknown parent does not hold a
     * child back either, and ListShards never returns them again (it lists after the last seen id).
     * A shard beyond the last seen id (a child added from an event) is kept until listed.
     */
    private void forgetSettledFinished() {
        Set<String> needed = new LinkedHashSet<>();
        unassigned.values().forEach(split -> needed.addAll(split.parentSplitIds()));
        for (Iterator<String> it = finished.iterator(); it.hasNext(); ) {
            String id = it.next();
            String shardId = id.substring(id.indexOf('/') + 1);
            boolean listedLater = shardId.compareTo(lastSeenShardIds.getOrDefault(streamOf(id), "")) > 0;
            if (!needed.contains(id) && !listedLater) {
                it.remove();
            }
        }
    }
}
