#include <gtest/gtest.h>

#include "text.hpp"

using namespace txtpush;

TEST(Text, TrimReplaceAllHexValue) {
    EXPECT_EQ(trim("\n\t  a b \r\n"), "a b");
    EXPECT_EQ(trim("   "), "");
    EXPECT_EQ(replace_all("{p}x_{p}y", "{p}", "mdl_"), "mdl_x_mdl_y");
    EXPECT_EQ(replace_all("none", "{p}", "mdl_"), "none");
    EXPECT_EQ(hex_value('0'), 0);
    EXPECT_EQ(hex_value('f'), 15);
    EXPECT_EQ(hex_value('F'), 15);
    EXPECT_EQ(hex_value('g'), -1);
}
