// The scoreboard's shared inbox floor (fcgi/scoreboard.hpp): what one
// generation of children shares, and what a reload starts again.
#include <gtest/gtest.h>

#include "scoreboard.hpp"

using namespace txtpush;

TEST(BoardInboxFloor, ChildrenOfOneGenerationShareTheHighestFloor) {
    Scoreboard board;  // generation 0, the pool's first, floor 0
    BoardInboxFloor a(board, 0), b(board, 0);
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
    BoardInboxFloor old_child(board, 0), new_child(board, 1);
    old_child.raise(500);
    new_child.raise(20);  // before the master started generation 1: nothing
    EXPECT_EQ(old_child.get(), 500);
    reset_inbox_floor(board, 1);  // the reload, before its first fork
    EXPECT_EQ(new_child.get(), 0);  // another database, perhaps
    new_child.raise(20);
    EXPECT_EQ(new_child.get(), 20);
    old_child.raise(900);  // finishing its last request
    EXPECT_EQ(new_child.get(), 20);
    EXPECT_EQ(old_child.get(), 0);
    // Generations are 16 bits: 65,536 reloads later the same bits mean a
    // generation the master has reset the floor for.
    reset_inbox_floor(board, 0x10000 + 1);
    EXPECT_EQ(new_child.get(), 0);
}

TEST(BoardInboxFloor, IdsBeyondFortyEightBitsAreNotShared) {
    Scoreboard board;
    BoardInboxFloor a(board, 0);
    a.raise(int64_t{1} << 50);
    EXPECT_EQ(a.get(), 0);
}
