// Spool replay against a real PostgreSQL: a spooled push (answered 202)
// leaves the spool only committed, or whole into unstorable/ when the
// database refuses it for good; every other failure keeps it.
#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "config.hpp"
#include "grants.hpp"
#include "migrations.hpp"
#include "spool_replay.hpp"
#include "test_databases.hpp"
#include "test_support.hpp"

using namespace txtpush;
namespace fs = std::filesystem;

namespace {

constexpr const char* kDb = "it_replay";
const DbNames kNames{"mdl_", "txtpush"};

std::string status_push(int64_t ticket, int status = 5) {
    return "<Response><MessageStatus><Ticket>" + std::to_string(ticket) + "</Ticket><Status>" +
           std::to_string(status) + "</Status><StatusMessage>x</StatusMessage></MessageStatus></Response>";
}

class SpoolReplay : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        test::recreate_database(kDb);
        pqxx::connection conn(test::conninfo_of(kDb));
        Log quiet(LogLevel::error);
        ASSERT_TRUE(migrate(conn, kNames, quiet).ok());
    }

    void SetUp() override {
        harden_libxml2();
        dir_ = fs::temp_directory_path() / ("txtpush-replay-" + std::to_string(::getpid()));
        fs::remove_all(dir_);
        db_.emplace(test::conninfo_of(kDb));
        sql("TRUNCATE mdl_block_moodletxt_status, txtpush.status_ledger");
        validator_.emplace(std::move(PushValidator::compile_builtin().value()));
    }
    void TearDown() override { fs::remove_all(dir_); }

    void sql(const std::string& statement) { test::exec_sql(*db_, statement); }
    int64_t count(const std::string& query) { return test::query_number(*db_, query); }
    Spool spool() { return Spool((dir_ / "spool").string(), 64 * 1024 * 1024, &usage_); }
    ReplayResult replay(const std::string& conninfo) {
        Spool s = spool();
        PushStore store(StoreOptions{conninfo, kNames, "Unknown"}, log_);
        return replay_spool(s, *validator_, store, log_);
    }
    ReplayResult replay() { return replay(test::conninfo_of(kDb)); }

    fs::path dir_;
    SpoolUsage usage_;
    Log log_{LogLevel::error};
    std::optional<pqxx::connection> db_;
    std::optional<PushValidator> validator_;
};

}  // namespace

TEST_F(SpoolReplay, StoredPushesLeaveTheSpool) {
    Spool s = spool();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(s.put(status_push(100 + i), 1764000000, "r").ok());
    ReplayResult r = replay();
    EXPECT_EQ(r.stored, 3u);
    EXPECT_EQ(s.list().size(), 0u);
    EXPECT_EQ(usage_.files.load(), 0u);
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_status"), 3);
}

TEST_F(SpoolReplay, ADatabaseThatIsDownKeepsEveryPush) {
    Spool s = spool();
    ASSERT_TRUE(s.put(status_push(200), 1, "r").ok());
    ReplayResult r = replay("host=/nonexistent port=1 dbname=x connect_timeout=1");
    EXPECT_TRUE(r.database_down);
    EXPECT_EQ(s.list().size(), 1u);
    EXPECT_TRUE(s.unstorable().empty());
}

TEST_F(SpoolReplay, APermissionErrorIsTransientAndKeepsThePush) {
    sql("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'it_replay_app') THEN "
        "CREATE ROLE it_replay_app LOGIN; END IF; END $$");
    sql(grants_sql(kNames, "it_replay_app"));
    sql("REVOKE INSERT ON mdl_block_moodletxt_status FROM it_replay_app");
    Spool s = spool();
    ASSERT_TRUE(s.put(status_push(300), 1, "r").ok());
    ReplayResult r = replay(test::conninfo_of(kDb, "it_replay_app"));
    EXPECT_TRUE(r.database_down);
    EXPECT_EQ(s.list().size(), 1u);
    // Once the DBA fixes the grant, it is stored.
    sql("GRANT INSERT ON mdl_block_moodletxt_status TO it_replay_app");
    EXPECT_EQ(replay(test::conninfo_of(kDb, "it_replay_app")).stored, 1u);
    sql("DROP OWNED BY it_replay_app");
}

TEST_F(SpoolReplay, ALockTimeoutIsTransientAndKeepsThePush) {
    Spool s = spool();
    ASSERT_TRUE(s.put(status_push(400), 1, "r").ok());
    pqxx::connection blocker(test::conninfo_of(kDb));
    pqxx::work lock(blocker);
    lock.exec("LOCK TABLE mdl_block_moodletxt_status IN ACCESS EXCLUSIVE MODE");
    ReplayResult r = replay(test::conninfo_of(kDb) + " options='-c lock_timeout=200'");
    EXPECT_TRUE(r.database_down);
    EXPECT_EQ(s.list().size(), 1u);
    lock.abort();
    EXPECT_EQ(replay().stored, 1u);
}

TEST_F(SpoolReplay, APushTheDatabaseRefusesForGoodIsSetAsideWholeAndTheRestGoOn) {
    sql("ALTER TABLE mdl_block_moodletxt_status ADD CONSTRAINT it_no_6 CHECK (status <> 6)");
    Spool s = spool();
    ASSERT_TRUE(s.put(status_push(500, 6), 1, "refused").ok());
    ASSERT_TRUE(s.put(status_push(501, 5), 1, "fine").ok());
    ReplayResult r = replay();
    sql("ALTER TABLE mdl_block_moodletxt_status DROP CONSTRAINT it_no_6");
    EXPECT_EQ(r.set_aside, 1u);
    EXPECT_EQ(r.stored, 1u);
    EXPECT_TRUE(s.list().empty());
    ASSERT_EQ(s.unstorable().size(), 1u);
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_status WHERE ticketnumber = 501"), 1);
}

TEST_F(SpoolReplay, AFileThatCannotBeReadIsKeptNotDropped) {
    Spool s = spool();
    ASSERT_TRUE(s.put(status_push(600), 1, "r").ok());
    fs::create_directories(dir_ / "spool" / "00000000000000000000-1-0.push");  // read() fails: EISDIR
    ReplayResult r = replay();
    EXPECT_EQ(r.kept, 1u);
    EXPECT_EQ(r.stored, 1u);
    EXPECT_TRUE(fs::exists(dir_ / "spool" / "00000000000000000000-1-0.push"));
    EXPECT_TRUE(s.unstorable().empty());
}

// The drain rate is the benchmark's to show; here, a long spool drains in
// passes that each store what they took, once.
TEST_F(SpoolReplay, ALongSpoolDrainsAndEachPassStoresWhatItTookOnce) {
    Spool s = spool();
    constexpr int kFiles = 4000, kHalf = kFiles / 2;
    for (int i = 0; i < kFiles; ++i) ASSERT_TRUE(s.put(status_push(10000 + i), 1, "r").ok());
    PushStore store(StoreOptions{test::conninfo_of(kDb), kNames, "Unknown"}, log_);
    for (int pass = 0; pass < 2; ++pass) {
        int taken = 0;
        ReplayResult r = replay_spool(s, *validator_, store, log_, [&] { return taken++ == kHalf; });
        EXPECT_EQ(r.stored, static_cast<size_t>(kHalf));
        EXPECT_EQ(s.files(), static_cast<uint64_t>(kFiles - (pass + 1) * kHalf));
    }
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_status"), kFiles);
    EXPECT_EQ(count("SELECT count(DISTINCT ticketnumber) FROM mdl_block_moodletxt_status"), kFiles);
    EXPECT_EQ(s.list().size(), 0u);
}

TEST_F(SpoolReplay, TheSpoolersStatementsAreBoundedByTheRequestTimeout) {
    // The spooler builds its store from the config like a worker: a statement
    // stuck on a lock is cancelled (57014, transient) instead of holding it.
    Config config;
    config.conninfo = test::conninfo_of(kDb);
    config.table_prefix = kNames.prefix;
    config.schema = kNames.schema;
    config.request_timeout = 3;
    StoreOptions options = store_options(config);
    EXPECT_EQ(options.statement_timeout_ms, 2000u);
    Spool s = spool();
    ASSERT_TRUE(s.put(status_push(700), 1, "r").ok());
    pqxx::connection blocker(test::conninfo_of(kDb));
    pqxx::work lock(blocker);
    lock.exec("LOCK TABLE mdl_block_moodletxt_status IN ACCESS EXCLUSIVE MODE");
    PushStore store(options, log_);
    ReplayResult r = replay_spool(s, *validator_, store, log_);
    EXPECT_TRUE(r.database_down);
    EXPECT_EQ(s.list().size(), 1u);
    lock.abort();
    EXPECT_EQ(replay_spool(s, *validator_, store, log_).stored, 1u);
}

TEST_F(SpoolReplay, ADatabaseWithoutItsTablesKeepsEveryPushInTheSpoolAndSaysWhy) {
    // Pushes answered 202 are never set aside for a reason outside themselves.
    Spool s = spool();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(s.put(status_push(400 + i), 1764000000, "r").ok());
    sql("ALTER TABLE mdl_block_moodletxt_status RENAME TO mdl_status_gone");
    ReplayResult r = replay();
    sql("ALTER TABLE mdl_status_gone RENAME TO mdl_block_moodletxt_status");
    EXPECT_TRUE(r.database_down);
    EXPECT_EQ(r.waiting.kind, ErrorKind::misconfigured);
    EXPECT_NE(r.waiting.reason.find("not what txtpush was migrated for"), std::string::npos) << r.waiting.reason;
    EXPECT_EQ(r.set_aside, 0u);
    EXPECT_EQ(s.list().size(), 3u);
    EXPECT_EQ(s.unstorable().size(), 0u);
    EXPECT_EQ(replay().stored, 3u);  // stored once the tables are back
}
