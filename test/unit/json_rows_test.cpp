#include <gtest/gtest.h>

#include "json_rows.hpp"

using namespace txtpush;

TEST(JsonRows, ObjectsWithEscapedStringsAndNulls) {
    JsonRows rows;
    EXPECT_TRUE(rows.empty());
    rows.row().field("a", int64_t{1}).field("s", "q\"b\\\n\x01").field("n", std::optional<int64_t>{});
    rows.row().field("a", int64_t{-2});
    EXPECT_EQ(rows.str(), R"([{"a":1,"s":"q\"b\\\u000a\u0001","n":null},{"a":-2}])");
}

TEST(JsonRows, ScalarArrays) {
    JsonRows list;
    EXPECT_EQ(list.str(), "[]");
    list.value("x").value(int64_t{3});
    EXPECT_EQ(list.str(), R"(["x",3])");
}

TEST(TruncateUtf8, CountsCharactersNotBytes) {
    EXPECT_EQ(truncate_utf8("h\u00e9llo", 2), "h\u00e9");
    EXPECT_EQ(truncate_utf8("\U0001F642\U0001F642", 1), "\U0001F642");
    EXPECT_EQ(truncate_utf8("abc", 3), "abc");
    EXPECT_EQ(truncate_utf8("abc", 0), "");
}
