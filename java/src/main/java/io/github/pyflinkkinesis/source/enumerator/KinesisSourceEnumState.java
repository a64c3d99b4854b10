package io.github.pyflinkkinesis.source.enumerator;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import io.github.pyflinkkinesis.source.split.KinesisShardSplit;

/**
 * The enumerator's checkpoint. Immutable.
 *
 * <ul>
 *   <li>{@code lastSeenShardIds}: per stream name discovered so far, the highest shard id seen ("" for none);
 *       a stream in this map is past its fresh start;</li>
 *   <li>{@code unassigned}: shards not handed to a reader yet (waiting for a reader or for their parents);</li>
 *   <li>{@code assigned}: split id to the reader it went to (readers checkpoint their positions);</li>
 *   <li>{@code finished}: split ids of shards read to their end;</li>
 *   <li>{@code streamCreationMillis}: per stream name, the creation time of the stream the positions are of
 *       (absent when unknown: a version 1 checkpoint).</li>
 * </ul>
 */
public final class KinesisSourceEnumState {
    private final Map<String, String> lastSeenShardIds;
    private final List<KinesisShardSplit> unassigned;
    private final Map<String, Integer> assigned;
    private final Set<String> finished;
    private final Map<String, Long> streamCreationMillis;

    /** A state without the streams' creation times. */
    public KinesisSourceEnumState(Map<String, String> lastSeenShardIds, List<KinesisShardSplit> unassigned,
                                  Map<String, Integer> assigned, Set<String> finished) {
        this(lastSeenShardIds, unassigned, assigned, finished, Map.of());
    }

    public KinesisSourceEnumState(Map<String, String> lastSeenShardIds, List<KinesisShardSplit> unassigned,
                                  Map<String, Integer> assigned, Set<String> finished,
                                  Map<String, Long> streamCreationMillis) {
        this.streamCreationMillis = Collections.unmodifiableMap(new LinkedHashMap<>(streamCreationMillis));
        this.lastSeenShardIds = Collections.unmodifiableMap(new LinkedHashMap<>(lastSeenShardIds));
        this.unassigned = List.copyOf(unassigned);
        this.assigned = Collections.unmodifiableMap(new LinkedHashMap<>(assigned));
        this.finished = Collections.unmodifiableSet(new LinkedHashSet<>(finished));
    }

    /** The state of a fresh start: nothing discovered yet. */
    public static KinesisSourceEnumState empty() {
        return new KinesisSourceEnumState(Map.of(), List.of(), Map.of(), Set.of());
    }

    public Map<String, String> lastSeenShardIds() {
        return lastSeenShardIds;
    }

    public List<KinesisShardSplit> unassigned() {
        return unassigned;
    }

    public Map<String, Integer> assigned() {
        return assigned;
    }

    public Set<String> finished() {
        return finished;
    }

    public Map<String, Long> streamCreationMillis() {
        return streamCreationMillis;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof KinesisSourceEnumState)) {
            return false;
        }
        KinesisSourceEnumState that = (KinesisSourceEnumState) o;
        return lastSeenShardIds.equals(that.lastSeenShardIds) && unassigned.equals(that.unassigned)
                && assigned.equals(that.assigned) && finished.equals(that.finished)
                && streamCreationMillis.equals(that.streamCreationMillis);
    }

    @Override
    public int hashCode() {
        return Objects.hash(lastSeenShardIds, unassigned, assigned, finished, streamCreationMillis);
    }

    @Override
    public String toString() {
        return "KinesisSourceEnumState{lastSeen=" + lastSeenShardIds + ", unassigned=" + unassigned
                + ", assigned=" + assigned + ", finished=" + finished + ", created=" + streamCreationMillis + "}";
    }
}
