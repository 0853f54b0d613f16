#include <gtest/gtest.h>

#include "phone.hpp"

using namespace txtpush;

TEST(CanonicalPhone, OneNumberInEveryNotation) {
    PhoneRules uk;
    for (const char* n : {"07700 900123", "+44 7700 900123", "447700900123", " 447700900123", "0044 7700-900123",
                          "(07700) 900 123"})
        EXPECT_EQ(canonical_phone(n, uk), "+447700900123") << n;
}

TEST(CanonicalPhone, UsesTheConfiguredPrefixes) {
    PhoneRules fr{"+33", "0"};
    EXPECT_EQ(canonical_phone("06 12 34 56 78", fr), "+33612345678");
    PhoneRules none{"+1", ""};
    EXPECT_EQ(canonical_phone("2025550143", none), "+2025550143");
    EXPECT_EQ(canonical_phone("", none), "");
    EXPECT_EQ(canonical_phone("abc", none), "");
}

TEST(NormalisePhone, PlausibleNumbersBecomeE164) {
    auto n = normalise_phone("07700 900123", PhoneRules{});
    EXPECT_TRUE(n.plausible);
    EXPECT_EQ(n.value, "+447700900123");
    auto shortcode = normalise_phone("88020", PhoneRules{});
    EXPECT_FALSE(shortcode.plausible);
}

TEST(NormalisePhone, ImplausibleNumbersAreKeptAsReceived) {
    auto n = normalise_phone("  not a number ", PhoneRules{});
    EXPECT_FALSE(n.plausible);
    EXPECT_EQ(n.value, "not a number");
    auto too_long = normalise_phone("+1234567890123456789012345", PhoneRules{});
    EXPECT_FALSE(too_long.plausible);
    EXPECT_EQ(too_long.value, "+1234567890123456789012345");
}

TEST(PhoneNormaliser, AgreesWithNormalisePhoneAndRemembers) {
    PhoneNormaliser normalise;
    for (int round = 0; round < 2; ++round)
        for (const char* n : {"07700 900123", "+447700900123", "88020", "abc", " 447700900123", "+1 202 555 0143"}) {
            PhoneNumber cached = normalise(n, PhoneRules{});
            PhoneNumber plain = normalise_phone(n, PhoneRules{});
            EXPECT_EQ(cached.value, plain.value) << n;
            EXPECT_EQ(cached.plausible, plain.plausible) << n;
        }
}

TEST(Phone, SourceIsKeptAsSentWithALostPlusRestored) {
    EXPECT_EQ(source_as_sent("  +44 7700 900123\n"), "+44 7700 900123");
    EXPECT_EQ(source_as_sent(" 447700900123"), "+447700900123");
    EXPECT_EQ(source_as_sent("44 7700 900123"), "+44 7700 900123");
    EXPECT_EQ(source_as_sent("07700 900123"), "07700 900123");
    EXPECT_EQ(source_as_sent("call me"), "call me");
    EXPECT_EQ(source_as_sent(""), "");
}
