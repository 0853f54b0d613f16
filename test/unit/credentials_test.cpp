#include <gtest/gtest.h>

#include "credentials.hpp"

using namespace txtpush;

TEST(Credentials, AcceptsOnlyTheExactPair) {
    auto c = Credentials::from_plain("gateway", "s3cret");
    EXPECT_TRUE(c.accepts("gateway", "s3cret"));
    EXPECT_FALSE(c.accepts("gateway", "s3cre"));
    EXPECT_FALSE(c.accepts("gateway", "s3cret "));
    EXPECT_FALSE(c.accepts("Gateway", "s3cret"));
    EXPECT_FALSE(c.accepts("", ""));
}

TEST(Credentials, UnconfiguredAcceptsNothing) {
    Credentials c;
    EXPECT_FALSE(c.accepts("", ""));
}

TEST(Credentials, HashedPasswordMatchesPlain) {
    auto digest = sha256_from_hex(to_hex(sha256("s3cret")));
    ASSERT_TRUE(digest.has_value());
    Credentials c("gateway", *digest);
    EXPECT_TRUE(c.accepts("gateway", "s3cret"));
    EXPECT_FALSE(c.accepts("gateway", "other"));
}

TEST(Sha256, KnownVectorAndHexRoundTrip) {
    EXPECT_EQ(to_hex(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_FALSE(sha256_from_hex("abc").has_value());
    EXPECT_FALSE(sha256_from_hex(std::string(64, 'g')).has_value());
}
