// The inbox cursor's invariants (lib/inbox_catch_up.hpp), one test each,
// with reads made up as PostgreSQL would return them.
#include <gtest/gtest.h>

#include "inbox_catch_up.hpp"

using namespace txtpush;
using namespace std::chrono_literals;

namespace {

const InboxCursor::Clock::time_point t0{};

// A read of these ids (ascending), given as PostgreSQL gives them: runs.
CatchUpRead seen(const std::vector<int64_t>& ids, int64_t xmin = 100, int64_t xmax = 100, int64_t watermark = 0) {
    std::vector<int64_t> runs;
    for (int64_t id : ids) {
        if (!runs.empty() && runs.back() + 1 == id) runs.back() = id;
        else runs.insert(runs.end(), {id, id});
    }
    return CatchUpRead{0, runs, watermark, xmin, xmax};
}

}  // namespace

TEST(InboxCursor, WithEveryIdSeenTheFloorIsTheTop) {
    InboxCursor c;
    c.read(seen({1, 2, 3}), t0);
    EXPECT_EQ(c.top(), 3);
    EXPECT_EQ(c.floor(), 3);
    EXPECT_EQ(c.gap_ids(), 0);
    EXPECT_EQ(c.gap_firsts(), "{}");
}

TEST(InboxCursor, AnIdNotSeenHoldsTheFloorJustBelowIt) {
    InboxCursor c;
    c.read(seen({1, 2, 4, 5}, 100, 110), t0);
    EXPECT_EQ(c.top(), 5);
    EXPECT_EQ(c.floor(), 2);
    EXPECT_EQ(c.gap_firsts(), "{3}");
    EXPECT_EQ(c.gap_lasts(), "{3}");
}

TEST(InboxCursor, AGapSeenLaterIsNoLongerAGapAndTheFloorRises) {
    InboxCursor c;
    c.read(seen({1, 2, 4, 5}), t0);
    c.read(seen({3, 6}), t0 + 1s);
    EXPECT_EQ(c.floor(), 6);
    EXPECT_EQ(c.gap_ids(), 0);
}

TEST(InboxCursor, TheFloorNeverFalls) {
    InboxCursor c;
    c.read(seen({1, 2, 3}), t0);
    c.read(seen({6}), t0 + 1s);  // 4 and 5 drawn since, not committed yet
    EXPECT_EQ(c.floor(), 3);
    c.read(seen({}, 100, 100, 2), t0 + 2s);  // a lower watermark changes nothing
    EXPECT_EQ(c.floor(), 3);
    EXPECT_EQ(c.top(), 6);
}

// A writer draws its id before it has a transaction id: a read's snapshot
// does not name it, and may end before the writer's first write. Before the
// patience has passed, no snapshot gives a gap up.
TEST(InboxCursor, AGapIsKeptThroughThePatienceWhateverTheSnapshotsSay) {
    InboxCursor c(30s);
    c.read(seen({1, 3}, 100, 110), t0);
    c.read(seen({}, 500, 500), t0 + 29s);  // nothing running at all: still kept
    EXPECT_EQ(c.floor(), 1);
    EXPECT_EQ(c.gap_ids(), 1);
}

TEST(InboxCursor, AfterThePatienceAGapIsGivenUpOnceTheTransactionsOfThatTimeHaveEnded) {
    InboxCursor c(30s);
    c.read(seen({1, 3}, 100, 110), t0);
    EXPECT_FALSE(c.needs_mark());
    c.read(seen({}, 105, 120), t0 + 31s);  // past the patience: waits for a transaction id of its own
    ASSERT_TRUE(c.needs_mark());
    c.mark(125);  // newer than every id assigned, the writer's too
    EXPECT_FALSE(c.needs_mark());
    c.read(seen({}, 124, 130), t0 + 40s);  // a transaction older than the mark may still run
    EXPECT_EQ(c.floor(), 1);
    c.read(seen({}, 125, 130), t0 + 41s);  // every one has ended: id 2 will never be a row
    EXPECT_EQ(c.floor(), 3);
    EXPECT_EQ(c.gap_ids(), 0);
}

// A snapshot's xmax is one past the last transaction that completed: a
// writer that took its id later runs above it, named by no snapshot. Without
// a mark of its own, no snapshot gives a gap up.
TEST(InboxCursor, NoSnapshotAloneGivesAGapUp) {
    InboxCursor c(30s);
    c.read(seen({1, 3}, 100, 110), t0);
    c.read(seen({}, 500, 500), t0 + 31s);
    c.read(seen({}, 900, 900), t0 + 60s);
    EXPECT_EQ(c.floor(), 1);
    EXPECT_TRUE(c.needs_mark());
}

TEST(InboxCursor, OnlyGapsPastThePatienceAreMarked) {
    InboxCursor c(30s);
    c.read(seen({1, 3}), t0);
    c.read(seen({5}), t0 + 31s);  // 2 is past the patience, 4 is new
    c.mark(200);
    c.read(seen({}, 200, 210), t0 + 32s);
    EXPECT_EQ(c.floor(), 3);  // 2 given up; 4 still watched
    EXPECT_EQ(c.gap_firsts(), "{4}");
}

TEST(InboxCursor, TheSharedWatermarkIsAFloorForEveryReader) {
    InboxCursor c;
    c.read(seen({1, 5}), t0);
    EXPECT_EQ(c.floor(), 1);
    c.read(seen({}, 100, 100, 3), t0 + 1s);  // the spooler settled 2 and 3
    EXPECT_EQ(c.floor(), 3);
    EXPECT_EQ(c.gap_firsts(), "{4}");
    c.read(seen({10}, 100, 100, 8), t0 + 2s);  // above this cursor's top
    EXPECT_EQ(c.top(), 10);
    EXPECT_EQ(c.floor(), 8);
    EXPECT_EQ(c.gap_firsts(), "{9}");
}

// Invariant 5: a process that starts takes the spooler's cursor, its gaps
// clipped to (watermark, top] and patient again; its first read starts above
// the spooler's top.
TEST(InboxCursor, AFreshCursorTakesTheSpoolersAsItsOwn) {
    InboxCursor c(30s);
    ASSERT_TRUE(c.fresh());
    c.adopt(SharedCursor{10, 20, {5, 12, 18}, {11, 13, 25}}, t0);
    EXPECT_FALSE(c.fresh());
    EXPECT_EQ(c.top(), 20);
    EXPECT_EQ(c.floor(), 10);  // 11 is a gap
    EXPECT_EQ(c.gap_firsts(), "{11,12,18}");
    EXPECT_EQ(c.gap_lasts(), "{11,13,20}");
    c.read(seen({11, 12, 13, 18, 19, 20, 21}), t0 + 1s);
    EXPECT_EQ(c.floor(), 21);
    c.read(seen({}, 100, 100, 0), t0 + 31s);
    EXPECT_FALSE(c.needs_mark());  // nothing left to wait for
}

TEST(InboxCursor, AStartedCursorKeepsItsOwnAndAMalformedOneGivesTheFloorOnly) {
    InboxCursor started;
    started.read(seen({1, 3}), t0);
    started.adopt(SharedCursor{0, 50, {}, {}}, t0);
    EXPECT_EQ(started.top(), 3);
    EXPECT_EQ(started.gap_firsts(), "{2}");
    // Not a cursor the spooler writes: unequal, overlapping, unsorted,
    // reversed or unparsable gaps give the watermark only.
    for (const SharedCursor& bad : {SharedCursor{10, 20, {12}, {}}, SharedCursor{10, 20, {12, 13}, {14, 15}},
                                    SharedCursor{10, 20, {15, 12}, {15, 12}}, SharedCursor{10, 20, {14}, {12}},
                                    SharedCursor{10, 20, {}, {}, false}}) {
        InboxCursor fresh;
        fresh.adopt(bad, t0);
        EXPECT_EQ(fresh.top(), 10);
        EXPECT_EQ(fresh.floor(), 10);
        EXPECT_EQ(fresh.gap_ids(), 0);
    }
}

// Invariant 6: a floor another reader of the pool reached moves this
// cursor up as the watermark does; gaps below it are known to that reader.
TEST(InboxCursor, APoolsSharedFloorMovesTheCursorUp) {
    InboxCursor c;
    c.read(seen({1, 2, 4}), t0);
    c.raise_floor(10);
    EXPECT_EQ(c.floor(), 10);
    EXPECT_EQ(c.top(), 10);
    EXPECT_EQ(c.gap_ids(), 0);
    c.raise_floor(5);  // a lower one changes nothing
    EXPECT_EQ(c.floor(), 10);
    c.read(seen({11, 16}), t0 + 1s);  // 12..15 not seen
    c.raise_floor(13);                  // into the gap: 14..15 stay, as patient as they were
    EXPECT_EQ(c.gap_firsts(), "{14}");
    EXPECT_EQ(c.gap_lasts(), "{15}");
    EXPECT_EQ(c.floor(), 13);
    c.read(seen({}), t0 + 31s);
    EXPECT_TRUE(c.needs_mark());  // seen at t0 + 1s: past the patience
}

TEST(InboxCursor, GapsAreRangesSplitWhereAnIdIsSeen) {
    InboxCursor c;
    c.read(seen({1, 1000000}), t0);  // a sequence moved by hand
    EXPECT_EQ(c.gap_ids(), 999998);
    EXPECT_EQ(c.gap_firsts(), "{2}");
    c.read(seen({500}), t0 + 1s);
    EXPECT_EQ(c.gap_firsts(), "{2,501}");
    EXPECT_EQ(c.gap_lasts(), "{499,999999}");
    c.read(seen({2, 499}), t0 + 2s);
    EXPECT_EQ(c.gap_firsts(), "{3,501}");
    EXPECT_EQ(c.gap_lasts(), "{498,999999}");
    EXPECT_EQ(c.floor(), 2);
}

// A read gives the ids it saw as runs of consecutive ids; a run may fill
// several gaps at once and go on above the top.
TEST(InboxCursor, ARunOfIdsFillsTheGapsItCoversAndRaisesTheTop) {
    InboxCursor c;
    c.read(seen({1, 4, 7, 10}), t0);
    EXPECT_EQ(c.gap_firsts(), "{2,5,8}");
    c.read(CatchUpRead{0, {3, 9, 11, 12}, 0, 100, 100}, t0 + 1s);  // 3..9 and 11..12
    EXPECT_EQ(c.gap_firsts(), "{2}");
    EXPECT_EQ(c.gap_lasts(), "{2}");
    EXPECT_EQ(c.top(), 12);
    c.read(CatchUpRead{0, {2, 14}, 0, 100, 100}, t0 + 2s);  // 2..14: the last gap and above the top
    EXPECT_EQ(c.gap_ids(), 0);
    EXPECT_EQ(c.floor(), 14);
    c.read(CatchUpRead{0, {20, 21, 22}, 0, 100, 100}, t0 + 3s);  // not pairs: nothing read
    EXPECT_EQ(c.top(), 14);
}

TEST(InboxCursor, IdArraysParseAsPostgreSQLWritesThem) {
    EXPECT_EQ(parse_id_array("{}"), std::vector<int64_t>{});
    EXPECT_EQ(parse_id_array("{7}"), std::vector<int64_t>{7});
    EXPECT_EQ(parse_id_array("{1,20,300}"), (std::vector<int64_t>{1, 20, 300}));
    // Anything else reads as no ids: the cursor then stays where it was.
    EXPECT_EQ(parse_id_array("{1,x}"), std::vector<int64_t>{});
    EXPECT_EQ(parse_id_array("1,2"), std::vector<int64_t>{});
}
