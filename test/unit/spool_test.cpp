#include <gtest/gtest.h>

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <unistd.h>

#include <chrono>
#include <memory>
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

// What a put costs against the spool's size is the benchmark's to show; here,
// that 50,000 waiting files are counted once and each put adds to the count.
TEST_F(SpoolTest, FiftyThousandWaitingFilesAreCountedOnceAndEachPutAddsOne) {
    SpoolUsage full_usage;
    fs::create_directories(dir_ / "full");
    for (int i = 0; i < 50000; ++i)
        std::ofstream(dir_ / "full" / fmt::format("{:020d}-1-{}.push", i, i)) << "txtpush-spool 1\n\n<Response/>";
    Spool full((dir_ / "full").string(), 1ull << 32, &full_usage);
    full.recount();  // once, as the master does at start
    EXPECT_EQ(full.files(), 50000u);
    for (int i = 0; i < 200; ++i) EXPECT_TRUE(full.put("<Response/>", 1, "r").ok());
    EXPECT_EQ(full.files(), 50200u);
    EXPECT_EQ(full.list().size(), 50200u);
}

TEST_F(SpoolTest, AWriterKilledMidPutLeaksNoReservationOnceItsReaperForgetsIt) {
    // The usage lives in shared memory, as in txtpushd's scoreboard; a child
    // puts without pause and is SIGKILLed wherever it is (mostly between
    // reserving and writing: the write and its fsyncs are most of a put).
    void* memory = ::mmap(nullptr, sizeof(SpoolUsage), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(memory, MAP_FAILED);
    SpoolUsage* usage = std::construct_at(static_cast<SpoolUsage*>(memory));
    const std::string folder = (dir_ / "spool").string();
    constexpr uint64_t kMax = 256 * 1024;
    constexpr size_t kWriter = 7;
    Spool master(folder, kMax, usage, 0);
    for (int round = 0; round < 20; ++round) {
        uint64_t files_before = usage->files.load();
        pid_t child = ::fork();
        ASSERT_GE(child, 0);
        if (child == 0) {
            Spool writer(folder, kMax, usage, kWriter);
            for (;;) (void)writer.put(std::string(1024, 'x'), 1, "r");
        }
        auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (usage->files.load() < files_before + 2 && std::chrono::steady_clock::now() < until) {
        }
        ASSERT_EQ(::kill(child, SIGKILL), 0);
        int status = 0;
        ASSERT_EQ(::waitpid(child, &status, 0), child);
        usage->forget(kWriter);  // as the master does when it reaps a child
        // What the counters say is what the folder holds (a kill just after a
        // rename may leave at most that one file uncounted).
        uint64_t listed = 0;
        for (const auto& f : master.list()) listed += f.bytes;
        EXPECT_EQ(usage->reserved(), 0u);
        EXPECT_LE(usage->bytes.load(), listed);
        EXPECT_LE(listed - usage->bytes.load(), 2048u) << "round " << round;
        for (const auto& f : master.list()) master.remove(f);
    }
    // Empty again, so the spool takes what fits: the old counters reported it full.
    EXPECT_EQ(usage->reserved(), 0u);
    EXPECT_LE(usage->bytes.load(), 2048u * 20);
    EXPECT_TRUE(master.put(std::string(kMax - 2048u * 21, 'y'), 1, "fits").ok());
    std::destroy_at(usage);
    ::munmap(memory, sizeof(SpoolUsage));
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
