// The scoreboard's shared inbox floor (fcgi/scoreboard.hpp): what one
// generation of children shares, and what a reload starts again.
#include <gtest/gtest.h>

#include "scoreboard.hpp"

using namespace txtpush;

TEST(BoardInboxFloor, ChildrenOfOneGenerationShareTheHighestFloor) {
    Scoreboard board;
    BoardInboxFloor a(board, 3), b(board, 3);
    EXPECT_EQ(a.get(), 0);
    a.raise(100);
    EXPECT_EQ(b.get(), 100);
    b.raise(90);  // never lowered
    EXPECT_EQ(a.get(), 100);
    b.raise(250);
    EXPECT_EQ(a.get(), 250);
}

TEST(BoardInboxFloor, AReloadStartsItAgainAndTheOldGenerationCannotOverwriteIt) {
    Scoreboard board;
    BoardInboxFloor old_child(board, 3), new_child(board, 4);
    old_child.raise(500);
    EXPECT_EQ(new_child.get(), 0);  // another database, perhaps
    new_child.raise(20);
    EXPECT_EQ(new_child.get(), 20);
    old_child.raise(900);  // finishing its last request
    EXPECT_EQ(new_child.get(), 20);
    EXPECT_EQ(old_child.get(), 0);
    BoardInboxFloor after_wrap(board, 0x10000 + 5);  // generations compare modulo 2^16
    after_wrap.raise(30);
    EXPECT_EQ(after_wrap.get(), 30);
}

TEST(BoardInboxFloor, IdsBeyondFortyEightBitsAreNotShared) {
    Scoreboard board;
    BoardInboxFloor a(board, 1);
    a.raise(int64_t{1} << 50);
    EXPECT_EQ(a.get(), 0);
}
