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

TEST(Phone, SourceIsWhatTheBlockStoresOnlyPlusAndDigits) {
    EXPECT_EQ(moodletxt_source("+44 7700 900101"), "+447700900101");
    EXPECT_EQ(moodletxt_source("  +44 (7700) 900-123\n"), "+447700900123");
    EXPECT_EQ(moodletxt_source("07700 900123"), "07700900123");
    EXPECT_EQ(moodletxt_source("447700900111  "), "447700900111");  // no leading space: nothing was lost
}

TEST(Phone, APlusLostToFormDecodingIsRestoredOnlyWhenTheRawValueStartsWithASpaceAndADigit) {
    EXPECT_EQ(moodletxt_source(" 447700900123"), "+447700900123");
    EXPECT_EQ(moodletxt_source(" 44 7700 900123"), "+447700900123");
    EXPECT_EQ(moodletxt_source("\n  447700900123"), "447700900123");  // indentation, not a lost +
    EXPECT_EQ(moodletxt_source(" 0044 7700 900123"), "+00447700900123");  // as the spec says: any digit
    EXPECT_EQ(moodletxt_source(" +447700900123"), "+447700900123");  // never two
}

TEST(Phone, ASenderTheBlockCannotReadBackIsNoSource) {
    for (const char* sender : {"ACMEPOST", "", "   ", "1234", "+1234", "44+7700900123", "++447700900123",
                               "+123456789012345678901", "123456789012345678901"})
        EXPECT_FALSE(moodletxt_source(sender).has_value()) << sender;
    EXPECT_EQ(moodletxt_source("12345"), "12345");                              // the block's shortest
    EXPECT_EQ(moodletxt_source("12345678901234567890"), "12345678901234567890");  // its longest that fits
    EXPECT_EQ(moodletxt_source("Info 88020"), "88020");  // as the block's preg_replace keeps it
}
