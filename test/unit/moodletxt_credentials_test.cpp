// MoodleTxt's push credentials: the block's cipher (vectors made with its own
// PHP class), and where txtpushd takes the credentials from.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <random>

#include "moodletxt_cipher.hpp"
#include "push_credentials.hpp"

using namespace txtpush;

TEST(MoodleTxtCipher, DecryptsWhatTheBlocksOwnClassStored) {
    struct Vector {
        const char *key, *plain, *stored;
    };
    for (auto [key, plain, stored] : {Vector{"3f9a1c07be", "secret", "fC^WXs"},
                                      Vector{"a0b1c2d3e4", "Push2024", "ubijyf`i"}, Vector{"5e8d2b1f90", "x", "]"}}) {
        EXPECT_EQ(moodletxt_decrypt(key, stored), plain) << key;
        EXPECT_EQ(moodletxt_encrypt(key, plain), stored) << key;
    }
}

TEST(MoodleTxtCipher, RoundTripsEveryCharacterOfItsAlphabet) {
    const std::string alphabet =
        "! #$%&()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~";
    std::mt19937 random(7);
    for (int i = 0; i < 500; ++i) {
        std::string key, plain;
        for (size_t n = 1 + random() % 32; n > 0; --n) key += alphabet[random() % alphabet.size()];
        for (size_t n = 1 + random() % 40; n > 0; --n) plain += alphabet[random() % alphabet.size()];
        if (plain.back() == ' ') plain.back() = 'x';  // decrypt() right-trims, as the block's does
        auto stored = moodletxt_encrypt(key, plain);
        ASSERT_TRUE(stored.has_value());
        EXPECT_EQ(moodletxt_decrypt(key, *stored), plain) << key << " " << plain;
        if (plain.size() > 3) {
            EXPECT_NE(*stored, plain);
        }
    }
}

TEST(MoodleTxtCipher, RefusesWhatTheBlockRefusesAndTrimsAsItDoes) {
    EXPECT_FALSE(moodletxt_decrypt("", "fC^WXs").has_value());             // no key
    EXPECT_FALSE(moodletxt_decrypt("3f9a1c07be", "").has_value());         // nothing stored
    EXPECT_FALSE(moodletxt_decrypt("3f9a1c07be", "fC\"WXs").has_value());  // not in the alphabet
    EXPECT_FALSE(moodletxt_decrypt("k\\ey", "fC^WXs").has_value());
    auto padded = moodletxt_encrypt("3f9a1c07be", "secret   ");
    ASSERT_TRUE(padded.has_value());
    EXPECT_EQ(moodletxt_decrypt("3f9a1c07be", *padded), "secret");  // right-trimmed, as the block's decrypt()
}

TEST(MoodleTxtCredentials, TakenFromTheSettingsAndEmptyMeansNotEnabled) {
    auto ok = credentials_from_settings({{"Push_Username", "gateway"}, {"Push_Password", "fC^WXs"}, {"EK", "3f9a1c07be"}});
    ASSERT_TRUE(ok.ok()) << ok.error().reason;
    EXPECT_TRUE(ok->accepts("gateway", "secret"));
    EXPECT_FALSE(ok->accepts("gateway", "fC^WXs"));
    EXPECT_FALSE(ok->accepts("Gateway", "secret"));
    for (const MoodleTxtSettings& off : {MoodleTxtSettings{{"Push_Username", ""}, {"Push_Password", "fC^WXs"}, {"EK", "3f9a1c07be"}},
                                         MoodleTxtSettings{{"Push_Username", "gateway"}, {"Push_Password", ""}, {"EK", "k"}},
                                         MoodleTxtSettings{{"Push_Username", "gateway"}, {"Push_Password", "fC^WXs"}},
                                         MoodleTxtSettings{}}) {
        auto refused = credentials_from_settings(off);
        ASSERT_FALSE(refused.ok());
        EXPECT_EQ(refused.error().kind, ErrorKind::forbidden);
        EXPECT_NE(refused.error().reason.find("push is not enabled"), std::string::npos) << refused.error().reason;
    }
}

namespace {

// A clock the test moves, and settings it changes, read through a counter.
struct FakeSite {
    std::chrono::steady_clock::time_point now{std::chrono::seconds(1000)};
    Result<MoodleTxtSettings> settings = MoodleTxtSettings{
        {"Push_Username", "gateway"}, {"Push_Password", "fC^WXs"}, {"EK", "3f9a1c07be"}};
    int reads = 0;
    std::string remembered;
    MoodleTxtCredentials source(const Log& log) {
        return MoodleTxtCredentials([this](Deadline) { ++reads; return settings; }, log, remembered,
                                    [this] { return now; });
    }
};

}  // namespace

TEST(MoodleTxtCredentials, AChangeOnTheSettingsPageTakesEffectWithinSeconds) {
    Log log(LogLevel::error, -1);
    FakeSite site;
    auto source = site.source(log);
    ASSERT_TRUE(source.current()->accepts("gateway", "secret"));
    site.settings = MoodleTxtSettings{{"Push_Username", "gateway"}, {"Push_Password", "ubijyf`i"}, {"EK", "a0b1c2d3e4"}};
    site.now += std::chrono::milliseconds(500);
    EXPECT_TRUE(source.current()->accepts("gateway", "secret"));  // read once per kFreshFor, not per push
    EXPECT_EQ(site.reads, 1);
    site.now += MoodleTxtCredentials::kFreshFor;
    EXPECT_TRUE(source.current()->accepts("gateway", "Push2024"));
    EXPECT_EQ(site.reads, 2);
    site.settings = MoodleTxtSettings{{"Push_Username", ""}, {"Push_Password", ""}};
    site.now += MoodleTxtCredentials::kFreshFor;
    EXPECT_EQ(source.current().error().kind, ErrorKind::forbidden);
}

TEST(MoodleTxtCredentials, WhileTheSettingsCannotBeReadTheLastOnesStand) {
    Log log(LogLevel::error, -1);
    FakeSite site;
    site.settings = fail(ErrorKind::transient, "database unavailable");
    auto source = site.source(log);
    auto none = source.current();
    ASSERT_FALSE(none.ok());  // never read: nothing to check a push against
    EXPECT_EQ(none.error().kind, ErrorKind::transient);
    EXPECT_FALSE(source.current().ok());
    EXPECT_EQ(site.reads, 1);  // a failed read is not tried again by every request either
    site.settings = MoodleTxtSettings{{"Push_Username", "gateway"}, {"Push_Password", "fC^WXs"}, {"EK", "3f9a1c07be"}};
    site.now += MoodleTxtCredentials::kFreshFor;
    ASSERT_TRUE(source.current().ok());
    site.settings = fail(ErrorKind::transient, "database unavailable");
    site.now += MoodleTxtCredentials::kFreshFor * 10;
    auto stale = source.current();
    ASSERT_TRUE(stale.ok());
    EXPECT_TRUE(stale->accepts("gateway", "secret"));
}

TEST(MoodleTxtCredentials, AWorkerStartedInAnOutageRecallsTheLastCredentialsRead) {
    Log log(LogLevel::error, -1);
    FakeSite site;
    // In a spool folder nothing has made yet (no push spooled so far).
    const std::string folder = ::testing::TempDir() + "/txtpush-spool-" + std::to_string(::getpid());
    std::filesystem::remove_all(folder);
    site.remembered = folder + "/push-credentials";
    ASSERT_TRUE(site.source(log).current().ok());  // read from the database, remembered
    EXPECT_EQ(std::filesystem::status(site.remembered).permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    site.settings = fail(ErrorKind::transient, "database unavailable");
    auto later = site.source(log).current();  // a new worker, the database down
    ASSERT_TRUE(later.ok()) << later.error().reason;
    EXPECT_TRUE(later->accepts("gateway", "secret"));
    EXPECT_FALSE(later->accepts("gateway", "other"));
    // Push turned off on the settings page: nothing to recall any more.
    site.settings = MoodleTxtSettings{{"Push_Username", ""}};
    EXPECT_FALSE(site.source(log).current().ok());
    site.settings = fail(ErrorKind::transient, "database unavailable");
    EXPECT_FALSE(site.source(log).current().ok());
    std::filesystem::remove_all(folder);
}
