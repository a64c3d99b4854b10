"""Parallel reads: a stream's shard lineages spread over restrictions, which a runner may run in parallel.

The tracker's splitting rules are checked directly, with runner splits and checkpoints made by hand (which
worker or thread a runner then gives each restriction is its own business, never asserted); the whole read
runs on the DirectRunner in multi-process mode (4 worker processes) against kinesis-local, with and without
resharding while the pipeline reads. The Prism runs are in test_prism.py.
"""

from __future__ import annotations

import math
import pickle
import tempfile
import threading
from collections import Counter
from pathlib import Path
from typing import Any, Callable, List, Tuple

import pytest

beam = pytest.importorskip("apache_beam")

from apache_beam.options.pipeline_options import PipelineOptions  # noqa: E402

from beam_transforms.read import ReadFromKinesis, _initial_splits  # noqa: E402
from beam_transforms.restriction import (  # noqa: E402
    NewShardsClaim,
    RecordClaim,
    ShardCursor,
    ShardEndClaim,
    ShardInfo,
    StreamRestriction,
    StreamRestrictionProvider,
    StreamRestrictionTracker,
    StreamShards,
)

from tests.beam_support import spec_for  # noqa: E402
from pyflink_kinesis.testing import wait_until  # noqa: E402
from tests.parallel_support import (CollectToFiles, KeyedWriter, Resharding, check_exactly_once,  # noqa: E402
                                    check_key_order, collected)

pytestmark = [pytest.mark.beam]


def _ids(restriction: StreamRestriction) -> List[str]:
    return [c.shard_id for c in restriction.shards]


# ---------------------------------------------------------------- the restriction's splitting rules


def test_the_initial_split_makes_one_restriction_per_lineage() -> None:
    listing = StreamShards("s", (ShardInfo("p"), ShardInfo("c1", ("p",)), ShardInfo("c2", ("p",)), ShardInfo("x"),
                                 ShardInfo("y"), ShardInfo("m", ("x", "y")), ShardInfo("z")), 0.0)
    provider = StreamRestrictionProvider("TRIM_HORIZON")
    parts = list(provider.split(listing, provider.initial_restriction(listing)))
    # A split's children stay with their parent, a merge with both parents; unrelated shards go apart.
    assert [_ids(p) for p in parts] == [["p", "c1", "c2"], ["x", "y", "m"], ["z"]]
    assert provider.restriction_size(listing, parts[0]) == 3.0
    # Lineages do not depend on the listing's order (a child listed before its parent stays with it).
    backwards = StreamShards("s", tuple(reversed(listing.shards)), 0.0)
    assert sorted(sorted(_ids(p)) for p in provider.split(backwards, provider.initial_restriction(backwards))) == [
        ["c1", "c2", "p"], ["m", "x", "y"], ["z"]]
    # max_records counts per stream: such a read stays whole.
    whole = StreamRestrictionProvider("TRIM_HORIZON", max_records=10)
    assert [_ids(p) for p in whole.split(listing, whole.initial_restriction(listing))] == [
        ["p", "c1", "c2", "x", "y", "m", "z"]]


def test_a_runner_split_hands_whole_lineages_to_the_residual_and_the_primary_goes_on() -> None:
    restriction = StreamRestriction("s", tuple(ShardCursor(i) for i in ("a", "b", "c", "d")))
    tracker = StreamRestrictionTracker(restriction)
    assert tracker.try_claim(RecordClaim("c", "10", arrival_micros=1_700_000_000_000_000))
    primary, residual = tracker.try_split(0.5)
    assert _ids(primary) == ["a", "b"] and not primary.complete
    assert _ids(residual) == ["c", "d"] and not residual.complete
    assert residual.cursor("c").sequence_number == "10"  # the residual resumes right after the last claim
    # The residual's watermark starts from its own shards' last arrival times, not the primary's.
    assert residual.cursor("c").last_arrival_micros == 1_700_000_000_000_000
    # The primary goes on with its shards; claims of shards split off fail, without ending the primary.
    assert not tracker.try_claim(RecordClaim("c", "11"))
    assert tracker.try_claim(RecordClaim("a", "1"))
    assert not tracker.current_restriction().complete
    # Down to one lineage: nothing more to hand off.
    assert tracker.try_split(0.5) is not None
    assert tracker.try_split(0.5) is None
    # A checkpoint still works after a split.
    primary, residual = tracker.try_split(0)
    progress = tracker.current_progress()  # done: never 0 of 0 (the SDK divides by the sum)
    assert progress.remaining_work == 0 and progress.completed_work > 0
    assert StreamRestrictionTracker(StreamRestriction("s", (), complete=True)).current_progress().completed_work > 0
    # The SDK replaces `completed` with its output's estimated bytes, NaN before the first size sample (Beam's mean
    # of no samples); the fraction a runner's split request is computed from stays ours.
    assert not math.isnan(progress.with_completed(math.nan).fraction_completed)
    assert progress.with_completed(math.nan).fraction_completed == 1.0
    assert primary.complete and _ids(residual) == ["a"] and residual.cursor("a").sequence_number == "1"
    tracker.check_done()


def test_a_lineage_is_never_cut() -> None:
    restriction = StreamRestriction("s", (ShardCursor("p"), ShardCursor("c1", ("p",)), ShardCursor("c2", ("p",))))
    tracker = StreamRestrictionTracker(restriction)
    assert tracker.try_split(0.5) is None  # the children wait for their parent: one lineage
    assert tracker.try_claim(ShardEndClaim("p", (ShardInfo("c1", ("p",)), ShardInfo("c2", ("p",)))))
    # Once the parent ended, its children are two lineages.
    primary, residual = tracker.try_split(0.5)
    assert _ids(primary) == ["c1"] and _ids(residual) == ["c2"]


def test_a_merge_across_restrictions_is_read_once_by_the_parent_shard_id_side() -> None:
    child = ShardInfo("m", ("x", "y"))  # ParentShardId x, AdjacentParentShardId y
    holds_x = StreamRestrictionTracker(StreamRestriction("s", (ShardCursor("x"),)))
    holds_y = StreamRestrictionTracker(StreamRestriction("s", (ShardCursor("y"), ShardCursor("z"))))
    # ListShards shows the child to both before either parent ended: neither reads it yet.
    assert holds_x.try_claim(NewShardsClaim((child,)))
    assert holds_y.try_claim(NewShardsClaim((child,)))
    assert _ids(holds_x.current_restriction()) == ["x", "m"]
    assert [c.shard_id for c in holds_x.current_restriction().ready()] == ["x"]  # the child waits for x
    assert _ids(holds_y.current_restriction()) == ["y", "z"]
    # The ParentShardId side takes the child at its parent's end; the adjacent side ends that lineage.
    assert holds_y.try_claim(ShardEndClaim("y", (child,)))
    assert _ids(holds_y.current_restriction()) == ["z"]
    assert holds_x.try_claim(ShardEndClaim("x", (child,)))
    current = holds_x.current_restriction()
    assert _ids(current) == ["m"] and [c.shard_id for c in current.ready()] == ["m"]
    assert current.cursor("m").start_type == "TRIM_HORIZON"
    # A split's children join the restriction owning their parent only.
    split_children = (ShardInfo("z1", ("z",)), ShardInfo("z2", ("z",)))
    assert holds_x.try_claim(NewShardsClaim(split_children))
    assert _ids(holds_x.current_restriction()) == ["m"]
    assert holds_y.try_claim(ShardEndClaim("z", split_children))
    assert _ids(holds_y.current_restriction()) == ["z1", "z2"]


def test_the_direct_runners_workers_get_the_lineages_dealt_over_that_many_restrictions() -> None:
    assert _initial_splits(beam.Pipeline(runner="DirectRunner", options=PipelineOptions(**MULTI_PROCESS))) == 4
    listing = StreamShards("s", tuple(ShardInfo(f"s{i}") for i in range(8)), 0.0)
    provider = StreamRestrictionProvider("TRIM_HORIZON", max_splits=4)
    parts = list(provider.split(listing, provider.initial_restriction(listing)))
    assert [_ids(p) for p in parts] == [["s0", "s4"], ["s1", "s5"], ["s2", "s6"], ["s3", "s7"]]


def test_runner_splits_and_checkpoints_during_a_split_and_a_merge_claim_each_record_once_parents_first() -> None:
    """The streaming read of test_prism by hand: one initial restriction (Prism's), split at 0.5 and checkpointed
    after every round of claims while s0 splits and s3, s4 merge. Every record is claimed once over all the
    restrictions, and a split parent (and the merge's ParentShardId side) before the children it adopts."""
    assert _initial_splits(beam.Pipeline(runner="PrismRunner")) == 1
    listing = StreamShards("s", tuple(ShardInfo(f"s{i}") for i in range(8)), 0.0)
    provider = StreamRestrictionProvider("TRIM_HORIZON", max_splits=1)
    queue = list(provider.split(listing, provider.initial_restriction(listing)))
    halves, merged = (ShardInfo("c1", ("s0",)), ShardInfo("c2", ("s0",))), ShardInfo("m", ("s3", "s4"))
    children = {"s0": halves, "s3": (merged,), "s4": (merged,)}
    claims: List[Tuple[str, int]] = []
    handed_over = 0
    for _ in range(500):
        if not queue:
            break
        tracker = provider.create_tracker(queue.pop(0))
        assert tracker.try_claim(NewShardsClaim(halves + (merged,)))  # listed before their parents end
        for cursor in tracker.current_restriction().ready():
            done = int(cursor.sequence_number or 0)
            if done < 3:  # three records per shard, then every shard ends (so the read does)
                assert tracker.try_claim(RecordClaim(cursor.shard_id, str(done + 1)))
                claims.append((cursor.shard_id, done + 1))
            else:
                assert tracker.try_claim(ShardEndClaim(cursor.shard_id, children.get(cursor.shard_id, ())))
        split = tracker.try_split(0.5)
        if split is not None:
            handed_over += 1
            queue.append(split[1])
        checkpoint = tracker.try_split(0)
        if checkpoint is not None:
            assert checkpoint[0].complete
            queue.append(checkpoint[1])
    assert not queue
    assert handed_over >= 3
    shards = [f"s{i}" for i in range(8)] + ["c1", "c2", "m"]
    assert Counter(claims) == Counter((shard, n) for shard in shards for n in (1, 2, 3))
    first = {shard: claims.index((shard, 1)) for shard in shards}
    last = {shard: claims.index((shard, 3)) for shard in shards}
    assert last["s0"] < min(first["c1"], first["c2"]) and last["s3"] < first["m"]


def test_restrictions_stay_small_and_picklable() -> None:
    cursors = tuple(ShardCursor(f"shardId-{i:012d}", (), "AT_SEQUENCE_NUMBER", None, "4" * 56, 3, 1_700_000_000_000_000)
                    for i in range(4))
    restriction = StreamRestriction("a-stream", cursors, deadline=1e9, bounded=True)
    data = pickle.dumps(restriction)
    assert pickle.loads(data) == restriction
    assert len(data) < 1200, len(data)  # a few hundred bytes per shard, finished shards dropped
    tracker = StreamRestrictionTracker(restriction)
    assert tracker.try_claim(ShardEndClaim(cursors[0].shard_id))
    assert len(pickle.dumps(tracker.current_restriction())) < len(data)


# ---------------------------------------------------------------- 4 worker processes, 8 shards

MULTI_PROCESS = {"direct_num_workers": 4, "direct_running_mode": "multi_processing"}


def _run(spec: Any, folder: Path, **read_args: Any) -> None:
    options = PipelineOptions(**MULTI_PROCESS)
    with beam.Pipeline(runner="DirectRunner", options=options) as pipeline:
        _ = pipeline | ReadFromKinesis(spec, **read_args) | beam.ParDo(CollectToFiles(str(folder)))


@pytest.mark.integration
@pytest.mark.slow
def test_eight_shards_read_with_four_worker_processes_each_record_once(
    kinesis: Any, client: Any, new_stream: Callable[..., str]
) -> None:
    stream = new_stream(shards=8)
    writer = KeyedWriter(client, stream)
    writer.put([(f"key-{k}", None) for k in range(64)], 1600)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _run(spec_for(kinesis, stream), folder, stop_when_caught_up=True, poll_interval=0.2)
        lines = collected(folder)
    check_exactly_once(lines, writer)
    assert len({line["shard"] for line in lines}) == 8
    check_key_order(lines, list(writer.counters))


@pytest.mark.integration
@pytest.mark.slow
def test_a_split_and_a_merge_while_four_workers_read(
    kinesis: Any, client: Any, new_stream: Callable[..., str]
) -> None:
    stream = new_stream(shards=8)
    plan = Resharding(client, stream)
    writer = KeyedWriter(client, stream)
    writer.put(plan.everything, 900)
    background_done = threading.Event()
    errors: List[BaseException] = []

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)

        def reshard_and_write() -> None:
            try:
                wait_until(lambda: len(collected(folder)) > 0, 120, "the first records read")
                plan.run()
                writer.put(plan.everything, 900)
                background_done.set()
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

        thread = threading.Thread(target=reshard_and_write, daemon=True)
        thread.start()
        # A bounded read long enough for the writes after the resharding; the assertion below fails
        # plainly if the background work did not finish within it.
        _run(spec_for(kinesis, stream), folder, max_read_time=45, poll_interval=0.5, max_records_per_call=50,
             shard_discovery_interval=1.0)
        thread.join(timeout=60)
        lines = collected(folder)
    assert not errors, errors
    assert background_done.is_set(), "the resharding and second batch did not finish within the read"
    check_exactly_once(lines, writer)
    listing = {s["ShardId"]: s for s in client.list_shards(StreamName=stream)["Shards"]}
    assert len(listing) == 11
    read_shards = {line["shard"] for line in lines}
    assert plan.merged_child()["ShardId"] in read_shards
    assert {s for s, v in listing.items() if v.get("ParentShardId") == plan.to_split["ShardId"]} <= read_shards
    # Order per key holds within a restriction: a split parent and its children are one lineage, and
    # the merge's ParentShardId side reads the child after its parent. (The adjacent parent's keys are
    # ordered by event time only.)
    check_key_order(lines, plan.ordered_keys())
