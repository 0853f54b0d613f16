// The inbox cursor's invariants (lib/inbox_catch_up.hpp), one test each,
// with reads made up as PostgreSQL would return them.
#include <gtest/gtest.h>

#include "inbox_catch_up.hpp"

using namespace txtpush;
using namespace std::chrono_literals;

namespace {

const InboxCursor::Clock::time_point t0{};

CatchUpRead seen(std::vector<int64_t> ids, int64_t xmin = 100, int64_t xmax = 100, int64_t watermark = 0) {
    return CatchUpRead{0, std::move(ids), watermark, xmin, xmax};
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

TEST(InboxCursor, AfterThePatienceAGapIsGivenUpOnceTheTransactionsOfThatReadHaveEnded) {
    InboxCursor c(30s);
    c.read(seen({1, 3}, 100, 110), t0);
    c.read(seen({}, 105, 120), t0 + 31s);  // the first read after the patience: 120 marks it
    EXPECT_EQ(c.floor(), 1);
    c.read(seen({}, 119, 130), t0 + 40s);  // a transaction of that read may still run
    EXPECT_EQ(c.floor(), 1);
    c.read(seen({}, 120, 130), t0 + 41s);  // every one has ended: id 2 will never be a row
    EXPECT_EQ(c.floor(), 3);
    EXPECT_EQ(c.gap_ids(), 0);
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

TEST(InboxCursor, IdArraysParseAsPostgreSQLWritesThem) {
    EXPECT_EQ(parse_id_array("{}"), std::vector<int64_t>{});
    EXPECT_EQ(parse_id_array("{7}"), std::vector<int64_t>{7});
    EXPECT_EQ(parse_id_array("{1,20,300}"), (std::vector<int64_t>{1, 20, 300}));
    // Anything else reads as no ids: the cursor then stays where it was.
    EXPECT_EQ(parse_id_array("{1,x}"), std::vector<int64_t>{});
    EXPECT_EQ(parse_id_array("1,2"), std::vector<int64_t>{});
}
