#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>
#include <fstream>

#include "spool.hpp"

using namespace txtpush;
namespace fs = std::filesystem;

class SpoolTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("txtpush-spool-test-" + std::to_string(::getpid()));
        fs::remove_all(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    fs::path dir_;
};

TEST_F(SpoolTest, KeepsPushesInArrivalOrderUntilRemoved) {
    Spool spool((dir_ / "spool").string(), 1024 * 1024);
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) {
        auto id = spool.put("<Response>" + std::to_string(i) + "</Response>", 1000 + i, "req" + std::to_string(i));
        ASSERT_TRUE(id.ok()) << id.error().reason;
        ids.push_back(*id);
    }
    auto listed = spool.list();
    ASSERT_EQ(listed.size(), 5u);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(listed[i].name, ids[i]);
    auto third = spool.read(ids[2]);
    ASSERT_TRUE(third.ok());
    EXPECT_EQ(third->xml, "<Response>2</Response>");
    EXPECT_EQ(third->received, 1002);
    EXPECT_EQ(third->request_id, "req2");
    EXPECT_EQ(spool.files(), 5u);
    EXPECT_TRUE(spool.remove(listed[2]));
    EXPECT_EQ(spool.list().size(), 4u);
    EXPECT_EQ(spool.files(), 4u);
    EXPECT_EQ(spool.read(ids[2]).error().kind, ErrorKind::not_found);
}

TEST_F(SpoolTest, FullSpoolIs503) {
    Spool spool((dir_ / "spool").string(), 1024 * 1024);
    std::string big(600 * 1024, 'x');
    ASSERT_TRUE(spool.put(big, 1, "a").ok());
    auto second = spool.put(big, 2, "b");
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().kind, ErrorKind::local_io);
    EXPECT_NE(second.error().reason.find("spool full"), std::string::npos);
}

TEST_F(SpoolTest, UnwritableSpoolIs503) {
    fs::create_directories(dir_);
    fs::path blocker = dir_ / "file";
    { std::ofstream(blocker) << "x"; }
    Spool spool((blocker / "spool").string(), 1024 * 1024);
    auto id = spool.put("<Response/>", 1, "a");
    ASSERT_FALSE(id.ok());
    EXPECT_EQ(id.error().kind, ErrorKind::local_io);
}

TEST_F(SpoolTest, ForeignFilesAreNotSpooledPushes) {
    Spool spool((dir_ / "spool").string(), 1024 * 1024);
    ASSERT_TRUE(spool.put("<Response/>", 1, "a").ok());
    { std::ofstream(dir_ / "spool" / "junk.push") << "not a spool file"; }
    auto junk = spool.read("junk.push");
    ASSERT_FALSE(junk.ok());
    EXPECT_EQ(junk.error().kind, ErrorKind::permanent);
}

TEST_F(SpoolTest, UsageIsSharedAndCountedWithoutListing) {
    SpoolUsage shared;
    Spool a((dir_ / "spool").string(), 4000, &shared), b((dir_ / "spool").string(), 4000, &shared);
    ASSERT_TRUE(a.put(std::string(1000, 'x'), 1, "a").ok());
    ASSERT_TRUE(b.put(std::string(1000, 'x'), 2, "b").ok());
    EXPECT_EQ(shared.files.load(), 2u);
    EXPECT_GT(shared.bytes.load(), 2000u);
    // The cap holds across writers: each reserves before it writes.
    ASSERT_TRUE(a.put(std::string(1000, 'x'), 3, "c").ok());
    EXPECT_FALSE(b.put(std::string(1000, 'x'), 4, "d").ok());
    EXPECT_EQ(shared.files.load(), 3u);
    auto files = b.list();
    ASSERT_EQ(files.size(), 3u);
    EXPECT_TRUE(b.remove(files[0]));
    EXPECT_EQ(shared.files.load(), 2u);
}

TEST_F(SpoolTest, RecountFindsTheFilesAndRemovesHalfWrittenOnes) {
    {
        Spool spool((dir_ / "spool").string(), 1024 * 1024);
        ASSERT_TRUE(spool.put("<Response/>", 1, "a").ok());
    }
    { std::ofstream(dir_ / "spool" / ".00000000000000000001-1-0.push.tmp") << "half"; }
    SpoolUsage usage;
    Spool spool((dir_ / "spool").string(), 1024 * 1024, &usage);
    EXPECT_EQ(spool.files(), 0u);  // shared usage is the master's to count
    spool.recount();
    EXPECT_EQ(spool.files(), 1u);
    EXPECT_FALSE(fs::exists(dir_ / "spool" / ".00000000000000000001-1-0.push.tmp"));
}

TEST_F(SpoolTest, AnUnstorablePushIsSetAsideWholeWithItsReason) {
    Spool spool((dir_ / "spool").string(), 1024 * 1024);
    ASSERT_TRUE(spool.put("<Response>keep me</Response>", 1, "a").ok());
    auto file = spool.list().at(0);
    ASSERT_TRUE(spool.set_aside(file, "database error 23514").ok());
    EXPECT_TRUE(spool.list().empty());
    EXPECT_EQ(spool.files(), 0u);
    ASSERT_EQ(spool.unstorable().size(), 1u);
    std::ifstream moved(dir_ / "spool" / "unstorable" / file.name);
    std::string content((std::istreambuf_iterator<char>(moved)), std::istreambuf_iterator<char>());
    EXPECT_NE(content.find("<Response>keep me</Response>"), std::string::npos);
    EXPECT_EQ(content.size(), file.bytes);
    std::ifstream reason(dir_ / "spool" / "unstorable" / (file.name + ".reason"));
    std::string why;
    std::getline(reason, why);
    EXPECT_EQ(why, "database error 23514");
}

TEST_F(SpoolTest, APutCostsTheSameWithFiftyThousandFilesWaiting) {
    auto time_puts = [](Spool& spool, int n) {
        auto started = std::chrono::steady_clock::now();
        for (int i = 0; i < n; ++i) EXPECT_TRUE(spool.put("<Response/>", 1, "r").ok());
        return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - started).count() / n;
    };
    SpoolUsage empty_usage, full_usage;
    Spool empty((dir_ / "empty").string(), 1ull << 32, &empty_usage);
    double empty_us = time_puts(empty, 200);
    fs::create_directories(dir_ / "full");
    for (int i = 0; i < 50000; ++i)
        std::ofstream(dir_ / "full" / fmt::format("{:020d}-1-{}.push", i, i)) << "txtpush-spool 1\n\n<Response/>";
    Spool full((dir_ / "full").string(), 1ull << 32, &full_usage);
    full.recount();  // once, as the master does at start
    EXPECT_EQ(full.files(), 50000u);
    double full_us = time_puts(full, 200);
    EXPECT_EQ(full.files(), 50200u);
    std::cout << fmt::format("spool put: {:.0f} us with an empty spool, {:.0f} us with 50,000 files waiting\n",
                             empty_us, full_us);
}

TEST_F(SpoolTest, QuarantineDropsTheOldestPastItsBounds) {
    Quarantine q((dir_ / "q").string(), 3, 1024 * 1024);
    for (int i = 0; i < 5; ++i) q.keep("<Bad>" + std::to_string(i) + "</Bad>", "line 1: bad -- really", "1.2.3.4", "r");
    auto files = q.list();
    ASSERT_EQ(files.size(), 3u);
    auto newest = q.read(files.back().name);
    ASSERT_TRUE(newest.ok());
    EXPECT_NE(newest->find("<Bad>4</Bad>"), std::string::npos);
    EXPECT_NE(newest->find("reason: line 1: bad -~ really"), std::string::npos) << *newest;
    EXPECT_NE(newest->find("peer=1.2.3.4"), std::string::npos);
    EXPECT_EQ(q.read(files.front().name)->find("<Bad>2</Bad>") != std::string::npos, true);

    Quarantine by_bytes((dir_ / "qb").string(), 100, 300);
    for (int i = 0; i < 5; ++i) by_bytes.keep(std::string(100, 'x'), "r", "p", "id");
    uint64_t total = 0;
    for (const auto& f : by_bytes.list()) total += f.bytes;
    EXPECT_LE(total, 300u);
    EXPECT_GE(by_bytes.list().size(), 1u);
}
