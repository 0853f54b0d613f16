#include <gtest/gtest.h>

#include "form.hpp"

using namespace txtpush;

TEST(PercentDecode, DecodesEscapesAndPlus) {
    auto r = percent_decode("a%20b+c%2Bd%3c");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, "a b c+d<");
}

TEST(PercentDecode, RefusesMalformedEscapes) {
    for (const char* bad : {"%", "%4", "%zz", "abc%g1", "x%"}) {
        auto r = percent_decode(bad);
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.error().kind, ErrorKind::bad_input);
        EXPECT_NE(r.error().reason.find("percent-encoding"), std::string::npos);
    }
}

TEST(DecodePushForm, ReadsTheThreeFieldsInAnyOrder) {
    auto r = decode_push_form("x=%3CResponse%2F%3E&other=1&p=pa+ss&u=user");
    ASSERT_TRUE(r.ok()) << r.error().reason;
    EXPECT_EQ(r->u, "user");
    EXPECT_EQ(r->p, "pa ss");
    EXPECT_EQ(r->x, "<Response/>");
}

TEST(DecodePushForm, UnencodedPlusBecomesSpace) {
    auto r = decode_push_form("u=a&p=b&x=+447700900123");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->x, " 447700900123");
}

TEST(DecodePushForm, MissingFieldIsNamed) {
    auto r = decode_push_form("u=a&x=b");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::bad_input);
    EXPECT_EQ(r.error().reason, "missing form field 'p'");
}

TEST(DecodePushForm, RepeatedFieldIsRefused) {
    auto r = decode_push_form("u=a&p=b&x=c&u=d");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "form field 'u' given more than once");
}

TEST(DecodePushForm, EmptyValuesAndStrayAmpersandsAreFine) {
    auto r = decode_push_form("&&u=&p&x=1&");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->u, "");
    EXPECT_EQ(r->p, "");
    EXPECT_EQ(r->x, "1");
}

TEST(DecodePushForm, EmptyBodyMissesU) {
    auto r = decode_push_form("");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "missing form field 'u'");
}
