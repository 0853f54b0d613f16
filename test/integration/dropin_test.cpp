// txtpush installed into an existing Moodle database: Moodle's schema as
// Moodle creates it (../shared/moodle-db/schema.sql) with years of history,
// duplicates included, and the plugin still writing the same tables.
// Each test starts from a fresh database it_dropin.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <thread>

#include "grants.hpp"
#include "migrations.hpp"
#include "moodletxt_cipher.hpp"
#include "phone.hpp"
#include "push_store.hpp"
#include "row_plan.hpp"
#include "test_databases.hpp"
#include "test_support.hpp"

using namespace txtpush;

namespace {

constexpr const char* kDb = "it_dropin";
const DbNames kNames{"mdl_", "txtpush"};

// What a site that ran MoodleTxt for years holds: the old push.php stored a
// row per gateway retry, the plugin's cron one per poll.
const char* kHistory = R"(
INSERT INTO mdl_user (id, username, firstname, lastname, phone2) VALUES
  (2, 'admin', 'Admin', 'User', ''), (100, 'office', 'School', 'Office', ''),
  (201, 'parent', 'Pat', 'Parent', '07700 900201');
SELECT setval('mdl_user_id_seq', 1000);
INSERT INTO mdl_block_moodletxt_accounts (username, password, description, defaultuser, lastupdate)
  VALUES ('CollegeSMS', 'x', 'College', 100, 0);
INSERT INTO mdl_config_plugins (plugin, name, value) VALUES ('moodletxt', 'Get_Status_On_View', '1');
INSERT INTO mdl_block_moodletxt_status (ticketnumber, status, statusmessage, updatetime) VALUES
  (5001, 1, 'Delivered to aggregator', 1600000000), (5001, 1, 'Delivered to aggregator', 1600000060),
  (5001, 5, 'Delivered', 1600000100), (5001, 5, 'Delivered', 1600000200), (5002, 2, 'Failed', 1600000000);
INSERT INTO mdl_block_moodletxt_inbox
  (userid, ticket, messagetext, source, sourcefirstname, sourcelastname, timereceived, hasbeenread) VALUES
  (100, 7001, 'hello', '+447700900201', 'Pat', 'Parent', 1600000000, 1),
  (100, 7001, 'hello', '+447700900201', 'Pat', 'Parent', 1600000000, 0);
)";

const char* kMoodleTxtTables[] = {
    "block_moodletxt_inbox",    "block_moodletxt_accounts", "block_moodletxt_stats",     "block_moodletxt_outbox",
    "block_moodletxt_sent",     "block_moodletxt_status",   "block_moodletxt_templ",     "block_moodletxt_rss",
    "block_moodletxt_uconfig",  "block_moodletxt_filter",   "block_moodletxt_in_fil",    "block_moodletxt_ab",
    "block_moodletxt_ab_entry", "block_moodletxt_ab_u",     "block_moodletxt_ab_group",  "block_moodletxt_ab_grpmem",
    "block_moodletxt_in_ab",    "block_moodletxt_in_u",     "block_moodletxt_sent_ab",   "block_moodletxt_sent_u",
    "block_moodletxt_restrict", "block_moodletxt_tags",     "block_moodletxt_in_tag"};

InboundSms sms(int64_t ticket, std::string phone = "+447700900201") {
    return InboundSms{ticket, "hello", std::move(phone), 1600000000, "88020", "CollegeSMS"};
}

class DropIn : public ::testing::Test {
protected:
    void SetUp() override {
        test::recreate_database(kDb);
        test::run_sql_file(kDb, test::moodle_schema_path());
        db_.emplace(test::conninfo_of(kDb));
        sql(kHistory);
        before_ = test::moodle_objects_dump(kDb);
    }

    void migrate_as_owner() {
        auto taken = migrate(*db_, kNames, log_);
        ASSERT_TRUE(taken.ok()) << taken.error().reason;
    }

    StoreReport store(PushStore& store, const Push& push, std::string_view request_id = "req") {
        auto r = store.store(push, 1764000000, request_id);
        EXPECT_TRUE(r.ok()) << r.error().reason;
        return r.ok() ? *r : StoreReport{};
    }

    PushStore owner_store() { return PushStore(StoreOptions{test::conninfo_of(kDb), kNames, "Unknown"}, log_); }

    void sql(const std::string& statement) { test::exec_sql(*db_, statement); }
    void create_app_role() {
        sql("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'it_dropin_app') THEN "
            "CREATE ROLE it_dropin_app LOGIN; END IF; END $$");
    }
    PushStore app_store() {
        return PushStore(StoreOptions{test::conninfo_of(kDb, "it_dropin_app"), kNames, "Unknown"}, log_);
    }
    std::vector<std::string> column(const std::string& query) {
        std::vector<std::string> out;
        pqxx::nontransaction tx(*db_);
        for (const auto& row : tx.exec(query)) out.push_back(row[0].as<std::string>());
        return out;
    }
    int64_t count(const std::string& query) { return test::query_number(*db_, query); }

    Log log_{LogLevel::error};
    std::optional<pqxx::connection> db_;
    std::string before_;
};

}  // namespace

TEST_F(DropIn, MigrateTakesTheDuplicatesAndChangesNothingOfMoodles) {
    auto plan = plan_migration(*db_, kNames);
    ASSERT_TRUE(plan.ok());
    for (const MigrationStep& step : *plan) EXPECT_EQ(step.what.find("create mdl_"), std::string::npos) << step.what;
    migrate_as_owner();
    EXPECT_EQ(test::moodle_objects_dump(kDb), before_);
    EXPECT_EQ(count("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relname LIKE '%txtpush%'"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                    "WHERE n.nspname = 'public'"), 0);
    // The history is in the ledger, each key once.
    EXPECT_EQ(count("SELECT count(*) FROM txtpush.status_ledger WHERE origin = 'history'"), 3);
    EXPECT_EQ(count("SELECT count(*) FROM txtpush.inbound_ledger WHERE origin = 'history'"), 1);
    auto again = plan_migration(*db_, kNames);
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->empty());
}

TEST_F(DropIn, AReplayOfLastYearsPushAddsNothing) {
    migrate_as_owner();
    PushStore s = owner_store();
    Push push;
    push.statuses = {{5001, 1, "Delivered to aggregator", ""}, {5001, 5, "Delivered", ""}, {5002, 2, "Failed", ""}};
    push.inbound = {sms(7001)};
    StoreReport r = store(s, push);
    EXPECT_EQ(r.statuses_new, 0u);
    EXPECT_EQ(r.inbox_rows_new, 0u);
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_status"), 5);
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_inbox"), 2);
}

TEST_F(DropIn, NewPushesLandOnceAndTheirReplaysAddNothing) {
    migrate_as_owner();
    PushStore s = owner_store();
    Push push;
    push.statuses = {{5003, 5, "Delivered", ""}};
    push.inbound = {sms(7002)};
    StoreReport first = store(s, push);
    EXPECT_EQ(first.statuses_new, 1u);
    EXPECT_EQ(first.inbox_rows_new, 1u);
    StoreReport replay = store(s, push);
    EXPECT_EQ(replay.statuses_new, 0u);
    EXPECT_EQ(replay.inbox_rows_new, 0u);
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_status WHERE ticketnumber = 5003"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_inbox WHERE ticket = 7002"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_in_u u JOIN mdl_block_moodletxt_inbox i "
                    "ON i.id = u.receivedmessage WHERE i.ticket = 7002 AND u.userid = 201"), 1);
}

TEST_F(DropIn, RowsThePluginPolledItselfAreNotInsertedAgain) {
    migrate_as_owner();
    // The plugin's cron polled these after txtpush was installed.
    sql("INSERT INTO mdl_block_moodletxt_status (ticketnumber, status, statusmessage, updatetime) "
        "VALUES (5009, 5, 'Delivered', 1700000000)");
    sql("INSERT INTO mdl_block_moodletxt_inbox (userid, ticket, messagetext, source, timereceived, hasbeenread) "
        "VALUES (100, 7009, 'polled', '+447700900201', 1700000000, 0)");
    PushStore s = owner_store();
    Push push;
    push.statuses = {{5009, 5, "Delivered", ""}};
    push.inbound = {sms(7009)};
    StoreReport r = store(s, push, "late-push");
    EXPECT_EQ(r.statuses_new, 0u);
    EXPECT_EQ(r.inbox_rows_new, 0u);
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_status WHERE ticketnumber = 5009"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_inbox WHERE ticket = 7009"), 1);
    // The ledger still says when the gateway told us.
    EXPECT_EQ(count("SELECT count(*) FROM txtpush.status_ledger WHERE ticketnumber = 5009 "
                    "AND request_id = 'late-push' AND statusid IS NULL"), 1);
}

TEST_F(DropIn, ThePluginsOwnInsertsStillSucceed) {
    migrate_as_owner();
    PushStore s = owner_store();
    Push push;
    push.statuses = {{5004, 5, "Delivered", ""}};
    push.inbound = {sms(7004)};
    store(s, push);
    // As saveSMSStatusUpdates and the inbound pull write them: plain INSERTs
    // of keys that exist already.
    EXPECT_NO_THROW(sql("INSERT INTO mdl_block_moodletxt_status (ticketnumber, status, statusmessage, updatetime) "
                        "VALUES (5004, 5, 'Delivered', 1764000001), (5001, 1, 'again', 1764000001)"));
    EXPECT_NO_THROW(sql("INSERT INTO mdl_block_moodletxt_inbox (userid, ticket, messagetext, source, "
                        "sourcefirstname, sourcelastname, timereceived, hasbeenread) "
                        "VALUES (100, 7004, 'hello', '+447700900201', 'Pat', 'Parent', 1600000000, 0)"));
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_status WHERE ticketnumber = 5004"), 2);
}

TEST_F(DropIn, ConcurrentOverlappingPushesLandExactlyOnce) {
    migrate_as_owner();
    constexpr int kThreads = 4, kRounds = 15;
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            PushStore s(StoreOptions{test::conninfo_of(kDb), kNames, "Unknown"}, log_);
            std::mt19937 random(static_cast<unsigned>(t));
            for (int round = 0; round < kRounds; ++round) {
                // Every thread pushes the same keys of this round, each in its own order.
                Push push;
                for (int i = 0; i < 20; ++i) push.statuses.push_back({90000 + round * 20 + i, 5, "Delivered", ""});
                for (int i = 0; i < 5; ++i) push.inbound.push_back(sms(80000 + round * 5 + i));
                std::shuffle(push.statuses.begin(), push.statuses.end(), random);
                std::shuffle(push.inbound.begin(), push.inbound.end(), random);
                if (!s.store(push, 1764000000, "concurrent").ok()) ++failures;
            }
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_status WHERE ticketnumber >= 90000"), kRounds * 20);
    EXPECT_EQ(count("SELECT count(DISTINCT ticketnumber) FROM mdl_block_moodletxt_status WHERE ticketnumber >= 90000"),
              kRounds * 20);
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_inbox WHERE ticket >= 80000"), kRounds * 5);
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_in_u"), kRounds * 5);
}

TEST_F(DropIn, EveryMoodleTxtTableCanStillBeDropped) {
    migrate_as_owner();
    PushStore s = owner_store();
    Push push;
    push.statuses = {{5005, 5, "Delivered", ""}};
    push.inbound = {sms(7005), InboundSms{7006, "x", "+447700900999", 1, "1", "Nobody"}};
    store(s, push);
    pqxx::work txn(*db_);  // rolled back: the next tests get a fresh database anyway
    for (const char* table : kMoodleTxtTables) EXPECT_NO_THROW(txn.exec(std::string("DROP TABLE mdl_") + table)) << table;
    EXPECT_NO_THROW(txn.exec("ALTER TABLE mdl_user ALTER COLUMN phone2 TYPE VARCHAR(30)"));
}

TEST_F(DropIn, UninstallLeavesMoodleAsItWasBeforeMigrate) {
    migrate_as_owner();
    PushStore s = owner_store();
    Push push;
    push.statuses = {{5006, 5, "Delivered", ""}};
    store(s, push);
    auto dropped = uninstall(*db_, kNames);
    ASSERT_TRUE(dropped.ok()) << dropped.error().reason;
    EXPECT_TRUE(*dropped);
    EXPECT_EQ(test::moodle_objects_dump(kDb), before_);
    EXPECT_EQ(count("SELECT count(*) FROM pg_namespace WHERE nspname = 'txtpush'"), 0);
    // What the pushes stored in Moodle's tables stays: it is Moodle's data now.
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_status WHERE ticketnumber = 5006"), 1);
}

TEST_F(DropIn, UninstallRefusesASchemaThatHoldsSomethingElse) {
    migrate_as_owner();
    sql("CREATE TABLE txtpush.someone_elses (id int)");
    auto dropped = uninstall(*db_, kNames);
    EXPECT_FALSE(dropped.ok());
    EXPECT_EQ(count("SELECT count(*) FROM pg_namespace WHERE nspname = 'txtpush'"), 1);
}

TEST_F(DropIn, TheRuntimeRoleNeedsOnlyTheGrantsItIsGiven) {
    migrate_as_owner();
    create_app_role();
    // What an earlier txtpush granted: whole tables, config_plugins among them.
    sql("GRANT SELECT ON mdl_user, mdl_config_plugins, mdl_block_moodletxt_accounts TO it_dropin_app");
    sql(grants_sql(kNames, "it_dropin_app"));
    // The secrets of the site stay out of its reach, whatever was granted before.
    pqxx::connection as_app(test::conninfo_of(kDb, "it_dropin_app"));
    for (const char* secret : {"SELECT password FROM mdl_user",
                               "SELECT value FROM mdl_config_plugins WHERE plugin <> 'moodletxt'",
                               "SELECT value FROM mdl_config_plugins",
                               "SELECT password FROM mdl_block_moodletxt_accounts",
                               "SELECT * FROM mdl_user"}) {
        pqxx::nontransaction tx(as_app);
        try {
            tx.exec(secret);
            ADD_FAILURE() << "the runtime role could run: " << secret;
        } catch (const pqxx::insufficient_privilege&) {
        } catch (const pqxx::sql_error& e) {
            EXPECT_EQ(e.sqlstate(), "42501") << secret << ": " << e.what();
        }
    }
    sql("INSERT INTO mdl_block_moodletxt_ab (id, name, type, owner) VALUES (1, 'School', 'global', 0);"
        "INSERT INTO mdl_block_moodletxt_ab_entry (id, addressbook, lastname, firstname, company, phoneno) "
        "VALUES (301, 1, 'Bal', 'Glo', '', '07700 900301')");
    PushStore app(StoreOptions{test::conninfo_of(kDb, "it_dropin_app"), kNames, "Unknown"}, log_);
    Push push;
    push.statuses = {{5007, 5, std::string(120, 'x'), ""}};  // cut to 100 and flagged
    push.inbound = {sms(7007), sms(7008, "+447700900301"), InboundSms{7010, "x", "+447700900999", 1, "1", "Later"}};
    StoreReport r = store(app, push);
    EXPECT_EQ(r.statuses_new, 1u);
    EXPECT_EQ(r.inbox_rows_new, 2u);
    EXPECT_EQ(r.unrouted, 1u);
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_in_ab WHERE contact = 301"), 1);
    sql("INSERT INTO mdl_block_moodletxt_accounts (username, password, description, defaultuser, lastupdate) "
        "VALUES ('later', 'x', '', 100, 0)");
    auto rerouted = app.reroute_unrouted(1764000000);
    ASSERT_TRUE(rerouted.ok()) << rerouted.error().reason;
    EXPECT_EQ(*rerouted, 1u);
    // Without its rights the role's push is refused as misconfigured (answered
    // 503 with the fix in the log: run grants), never stored half.
    sql("REVOKE INSERT ON mdl_block_moodletxt_inbox FROM it_dropin_app");
    Push refused;
    refused.statuses = {{5008, 5, "Delivered", ""}};
    refused.inbound = {sms(7011)};
    auto denied = app.store(refused, 1764000000, "denied");
    ASSERT_FALSE(denied.ok());
    EXPECT_EQ(denied.error().kind, ErrorKind::misconfigured);
    EXPECT_NE(denied.error().reason.find("42501"), std::string::npos) << denied.error().reason;
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_status WHERE ticketnumber = 5008"), 0);
    sql("DROP OWNED BY it_dropin_app");
}

TEST_F(DropIn, ADatabaseMigratedByTxtpush01IsCleanedUp) {
    // 0.1 failed on duplicates, so an operator removed them by hand first.
    sql("DELETE FROM mdl_block_moodletxt_status WHERE id IN (2, 4); DELETE FROM mdl_block_moodletxt_inbox WHERE id = 2");
    std::string pristine = test::moodle_objects_dump(kDb);
    test::run_sql_file(kDb, std::string(TXTPUSH_FIXTURES_DIR) + "/legacy/txtpush-0.1.sql");
    sql("INSERT INTO mdl_txtpush_unrouted (ticket, messagetext, source, destination, destinationaccount, "
        "timereceived, reason, timestored) VALUES (42, 'lost?', '+447700900999', '88020', 'Nobody', 1, "
        "'unknown account', 1);"
        "INSERT INTO mdl_txtpush_flags (ticket, kind, flag, original, timestored) "
        "VALUES (42, 'inbound', 'implausible_phone', 'abc', 1)");
    ASSERT_NE(test::moodle_objects_dump(kDb), pristine);
    migrate_as_owner();
    EXPECT_EQ(test::moodle_objects_dump(kDb), pristine);
    EXPECT_EQ(count("SELECT count(*) FROM txtpush.unrouted WHERE ticket = 42 AND reason = 'unknown account'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM txtpush.flags WHERE ticket = 42"), 1);
}

TEST_F(DropIn, AMirrorMadeByTxtpush01GetsMoodlesIndexes) {
    test::recreate_database(kDb);
    db_.emplace(test::conninfo_of(kDb));
    test::run_sql_file(kDb, std::string(TXTPUSH_FIXTURES_DIR) + "/legacy/txtpush-0.1.sql");
    migrate_as_owner();
    EXPECT_EQ(count("SELECT count(*) FROM pg_class WHERE relname LIKE 'mdl_%txtpush%'"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM pg_class WHERE relname LIKE 'mdl\\_block\\_moodletxt\\_%ix'"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM pg_class WHERE relname IN ('mdl_blocmoodstat_tic_ix', "
                    "'mdl_blocmoodinbo_use_ix', 'mdl_blocmoodsent_tic_uix', 'mdl_blocmoodacco_use_uix')"), 4);
    PushStore s = owner_store();
    Push push;
    push.statuses = {{5010, 5, "Delivered", ""}};
    EXPECT_EQ(store(s, push).statuses_new, 1u);
}

TEST_F(DropIn, AStandaloneMirrorHasExactlyTheShapeMoodleCreates) {
    test::recreate_database("it_mirror_shape");
    pqxx::connection empty(test::conninfo_of("it_mirror_shape"));
    auto taken = migrate(empty, kNames, log_);
    ASSERT_TRUE(taken.ok()) << taken.error().reason;
    // before_ is Moodle's own schema.sql, dumped the same way.
    EXPECT_EQ(test::moodle_objects_dump("it_mirror_shape"), before_);
}

TEST_F(DropIn, ThePluginsOwnInboxRowsAreCaughtUpIntoTheLedger) {
    migrate_as_owner();
    sql("INSERT INTO mdl_block_moodletxt_inbox (userid, ticket, messagetext, source, timereceived, hasbeenread) "
        "VALUES (100, 7020, 'polled', '+447700900201', 1700000000, 0)");
    PushStore spooler = owner_store();
    ASSERT_TRUE(spooler.catch_up_inbox().ok());  // sees it: pending
    auto second = spooler.catch_up_inbox();      // and makes it final
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(count("SELECT count(*) FROM txtpush.inbound_ledger WHERE ticket = 7020 AND origin = 'moodle'"), 1);
    EXPECT_GE(count("SELECT watermark FROM txtpush.inbox_watch"),
              count("SELECT max(id) FROM mdl_block_moodletxt_inbox WHERE ticket = 7020"));
    // A worker that starts now reads only above the watermark: the ledger knows the row.
    PushStore worker = owner_store();
    Push push;
    push.inbound = {sms(7020)};
    EXPECT_EQ(store(worker, push).inbox_rows_new, 0u);
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_inbox WHERE ticket = 7020"), 1);
}

TEST_F(DropIn, AMoodleWithoutMoodleTxtIsRefusedNotCompleted) {
    sql("DROP TABLE mdl_block_moodletxt_in_tag");
    auto taken = migrate(*db_, kNames, log_);
    ASSERT_FALSE(taken.ok());
    EXPECT_NE(taken.error().reason.find("install or upgrade the MoodleTxt block"), std::string::npos)
        << taken.error().reason;
    EXPECT_EQ(count("SELECT count(*) FROM pg_class WHERE relname = 'mdl_block_moodletxt_in_tag'"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM pg_namespace WHERE nspname = 'txtpush'"), 0);
}

TEST_F(DropIn, UninstallRefusesWhenSomethingOutsideUsesTxtpush) {
    migrate_as_owner();
    sql("CREATE INDEX dba_phone_ix ON mdl_user (txtpush.phone_key(phone2))");
    auto dropped = uninstall(*db_, kNames);
    ASSERT_FALSE(dropped.ok());
    EXPECT_NE(dropped.error().reason.find("dba_phone_ix"), std::string::npos) << dropped.error().reason;
    EXPECT_EQ(count("SELECT count(*) FROM pg_class WHERE relname = 'dba_phone_ix'"), 1);
}

// 1, 2: what the block's pages read back must be what its own code stores.
TEST_F(DropIn, ASenderThatIsNotAPhoneNumberIsKeptUnroutedAndNeverReachesAnInbox) {
    migrate_as_owner();
    create_app_role();
    sql(grants_sql(kNames, "it_dropin_app"));
    PushStore app = app_store();
    Push push;
    push.inbound = {sms(7101, "ACMEPOST"), sms(7102, "\n  Acme Post  "), sms(7103, "+447700900201")};
    StoreReport r = store(app, push);
    EXPECT_EQ(r.unrouted, 2u);
    EXPECT_EQ(r.senders_not_a_number, 2u);
    EXPECT_EQ(r.inbox_rows_new, 1u);
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_inbox WHERE ticket IN (7101, 7102)"), 0);
    EXPECT_EQ(column("SELECT source FROM txtpush.unrouted WHERE reason = 'sender_not_a_number' ORDER BY ticket"),
              (std::vector<std::string>{"ACMEPOST", "Acme Post"}));
    // The DBA's query lists them; reroute leaves them where they are.
    std::ifstream file(std::string(TXTPUSH_SOURCE_DIR) + "/sql/queries/unrouted.sql");
    std::string listed((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    EXPECT_EQ(count("SELECT count(*) FROM (" + listed.substr(0, listed.find(';')) + ") q WHERE reason = "
                    "'sender_not_a_number'"), 2);
    auto rerouted = app.reroute_unrouted(1764000000);
    ASSERT_TRUE(rerouted.ok()) << rerouted.error().reason;
    EXPECT_EQ(count("SELECT count(*) FROM txtpush.unrouted WHERE routed = 0"), 2);
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_inbox WHERE ticket IN (7101, 7102)"), 0);
    // Every source in the inbox passes the block's MoodletxtPhoneNumber rule.
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_inbox WHERE source !~ '^\\+?[0-9]{5,20}$'"), 0);
}

TEST_F(DropIn, SourceIsStoredAsTheBlockStoresItAPlusRestoredOnlyWhenLost) {
    migrate_as_owner();
    PushStore s = owner_store();
    Push push;
    push.inbound = {sms(7111, "+44 7700 900101"), sms(7112, "447700900111  "), sms(7113, " 447700900112"),
                    sms(7114, "(0044) 7700-900113")};
    store(s, push);
    EXPECT_EQ(column("SELECT source FROM mdl_block_moodletxt_inbox WHERE ticket > 7110 ORDER BY ticket"),
              (std::vector<std::string>{"+447700900101", "447700900111", "+447700900112", "00447700900113"}));
}

// 4: the credentials the admin saved on MoodleTxt's settings page.
TEST_F(DropIn, ThePushCredentialsAreReadFromMoodleTxtsSettingsAndNothingElse) {
    migrate_as_owner();
    create_app_role();
    sql(grants_sql(kNames, "it_dropin_app"));
    sql("INSERT INTO mdl_config_plugins (plugin, name, value) VALUES ('moodletxt', 'EK', '3f9a1c07be'), "
        "('moodletxt', 'Push_Username', 'gateway'), ('moodletxt', 'Push_Password', 'fC^WXs'), "
        "('moodletxt', 'Proxy_Password', 'not-for-txtpush'), ('auth_ldap', 'bind_pw', 'not-for-txtpush')");
    PushStore app = app_store();
    auto settings = app.read_moodletxt_settings();
    ASSERT_TRUE(settings.ok()) << settings.error().reason;
    for (const auto& [name, value] : *settings) EXPECT_NE(value, "not-for-txtpush") << name;
    auto credentials = credentials_from_settings(*settings);
    ASSERT_TRUE(credentials.ok()) << credentials.error().reason;
    EXPECT_TRUE(credentials->accepts("gateway", "secret"));
    // Saved again on the settings page: read as it is now.
    sql("UPDATE mdl_config_plugins SET value = '" + *moodletxt_encrypt("3f9a1c07be", "Changed99") +
        "' WHERE plugin = 'moodletxt' AND name = 'Push_Password'");
    credentials = credentials_from_settings(*app.read_moodletxt_settings());
    ASSERT_TRUE(credentials.ok());
    EXPECT_TRUE(credentials->accepts("gateway", "Changed99"));
    EXPECT_FALSE(credentials->accepts("gateway", "secret"));
    sql("UPDATE mdl_config_plugins SET value = '' WHERE plugin = 'moodletxt' AND name = 'Push_Username'");
    EXPECT_EQ(credentials_from_settings(*app.read_moodletxt_settings()).error().kind, ErrorKind::forbidden);
}

// 5: Moodle uninstalled the block (or a restore of another database).
TEST_F(DropIn, ADatabaseWithoutTheTablesTxtpushWasMigratedForIsMisconfiguredNotUnavailable) {
    migrate_as_owner();
    PushStore s = owner_store();
    Push push;
    push.statuses = {{5101, 5, "Delivered", ""}};
    push.inbound = {sms(7121)};
    ASSERT_TRUE(s.store(push, 1764000000, "before").ok());
    sql("DROP TABLE mdl_block_moodletxt_status, mdl_block_moodletxt_inbox");
    for (const Push& p : {Push{{{5102, 5, "Delivered", ""}}, {}, 0}, Push{{}, {sms(7122)}, 0}}) {
        auto refused = s.store(p, 1764000000, "after");
        ASSERT_FALSE(refused.ok());
        EXPECT_EQ(refused.error().kind, ErrorKind::misconfigured) << refused.error().reason;
        EXPECT_NE(refused.error().reason.find("not what txtpush was migrated for"), std::string::npos);
    }
    sql("DROP SCHEMA txtpush CASCADE");
    auto refused = s.store(Push{{{5103, 5, "Delivered", ""}}, {}, 0}, 1764000000, "after");
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().kind, ErrorKind::misconfigured) << refused.error().reason;
}

// 6: a row the plugin wrote, however odd, never makes pushes unstorable.
TEST_F(DropIn, ARowThePluginWroteWithAnOutOfRangeTimeFailsNoPush) {
    // Before migrate too: the history load reads it.
    sql("INSERT INTO mdl_block_moodletxt_inbox (userid, ticket, messagetext, source, timereceived, hasbeenread) "
        "VALUES (100, 7130, 'microseconds', '+447700900201', 1700000000000000, 0)");
    migrate_as_owner();
    sql("INSERT INTO mdl_block_moodletxt_inbox (userid, ticket, messagetext, source, timereceived, hasbeenread) "
        "VALUES (100, 7131, 'microseconds', '+447700900201', 1700000000000000, 0), "
        "(100, 7132, 'negative', '+447700900201', -99999999999999, 0)");
    PushStore spooler = owner_store();
    auto caught = spooler.catch_up_inbox();
    ASSERT_TRUE(caught.ok()) << caught.error().reason;
    PushStore worker = owner_store();
    Push push;
    push.inbound = {sms(7133), sms(7131)};
    StoreReport r = store(worker, push);
    EXPECT_EQ(r.inbox_rows_new, 1u);  // 7131 is the plugin's already
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_inbox WHERE ticket = 7131"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM txtpush.inbound_ledger WHERE ticket IN (7130, 7131, 7132)"), 3);
}

// #18: a login the database refuses is txtpushd misconfigured, not a database outage.
TEST_F(DropIn, ALoginTheDatabaseRefusesIsMisconfiguredNotUnavailable) {
    migrate_as_owner();
    for (const auto& [conninfo, sqlstate] :
         {std::pair{test::conninfo_of(kDb, "no_such_role_here"), "28000"},
          std::pair{test::conninfo_of("no_such_database_here"), "3D000"}}) {
        PushStore s(StoreOptions{conninfo, kNames, "Unknown"}, log_);
        auto refused = s.store(Push{{{5201, 5, "Delivered", ""}}, {}, 0}, 1764000000, "login");
        ASSERT_FALSE(refused.ok());
        EXPECT_EQ(refused.error().kind, ErrorKind::misconfigured) << refused.error().reason;
        EXPECT_NE(refused.error().reason.find(sqlstate), std::string::npos) << refused.error().reason;
    }
}

// The phone rules run in C++ (lib/phone.cpp, for the push's senders) and in SQL
// ({schema}.phone(), for numbers stored in Moodle): one truth, checked here.
TEST_F(DropIn, ThePhoneRulesInCppAndInSqlAgree) {
    migrate_as_owner();
    const std::vector<std::string> numbers = {
        "+44 7700 900123", "07700 900123", "447700900123", "0044 7700 900123", " 447700900123", "\n 07700900123 ",
        "(0)7700-900-123", "+1 (555) 010-9999", "0", "", "   ", "abc", "00", "+", "0033 1 23 45 67 89", "12345"};
    for (const PhoneRules& rules : {PhoneRules{"+44", "0"}, PhoneRules{"+33", "0"}, PhoneRules{"+1", ""},
                                    PhoneRules{"353", "0"}}) {
        for (const std::string& raw : numbers) {
            pqxx::nontransaction tx(*db_);
            std::string in_sql = tx.exec_params1("SELECT txtpush.phone($1, $2, $3)", raw, rules.international_prefix,
                                                 rules.national_prefix)[0].as<std::string>();
            EXPECT_EQ(canonical_phone(raw, rules), in_sql)
                << "raw '" << raw << "' with " << rules.international_prefix << "/" << rules.national_prefix;
            std::string key = tx.exec_params1("SELECT txtpush.phone_key($1)", raw)[0].as<std::string>();
            EXPECT_EQ(phone_key(raw), key) << raw;
        }
    }
}

// The widths txtpush cuts values to (lib/row_plan.cpp, one list) are those of
// the database: Moodle's columns as Moodle created them, txtpush's as the
// migrations made them.
TEST_F(DropIn, TheColumnWidthsAreTheDatabases) {
    migrate_as_owner();
    for (const ColumnWidth& w : column_widths()) {
        std::string table = with_names(w.table, kNames);
        EXPECT_EQ(count("SELECT character_maximum_length FROM information_schema.columns "
                        "WHERE (table_schema || '.' || table_name = '" + table + "' OR "
                        "(table_schema = 'public' AND table_name = '" + table + "')) "
                        "AND column_name = '" + std::string(w.column) + "'"),
                  static_cast<int64_t>(w.chars))
            << table << "." << w.column;
    }
}

// uninstall's list of txtpush's own tables is what the migrations create.
TEST_F(DropIn, TheOwnTablesAreWhatTheMigrationsCreate) {
    migrate_as_owner();
    std::set<std::string> made;
    for (const std::string& t : column("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                                       "WHERE n.nspname = 'txtpush' AND c.relkind = 'r'"))
        made.insert(t);
    EXPECT_EQ(made, own_tables());
}
