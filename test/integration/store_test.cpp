// PushStore and the migrations against the real PostgreSQL the test harness
// started (deploy/local-stack.sh). Every test runs twice: on a standalone
// mirror (an empty database that `migrate` fills, prefix it_, schema
// it_txtpush) and on a Moodle database as Moodle creates it
// (../shared/moodle-db/schema.sql, prefix mdl_, schema txtpush).
#include <gtest/gtest.h>

#include <fstream>
#include <pqxx/pqxx>
#include <set>
#include <sstream>

#include "migrations.hpp"
#include "push_store.hpp"
#include "test_databases.hpp"
#include "test_support.hpp"
#include "text.hpp"

using namespace txtpush;

namespace {

struct Target {
    const char* db;
    DbNames names;
    bool moodle_schema;  // load Moodle's own schema first
    bool pooled = false;  // statements as behind a transaction pooler: unnamed, sent each time
};

void PrintTo(const Target& t, std::ostream* os) { *os << t.db; }

const Target kMirror{"it_mirror", {"it_", "it_txtpush"}, false};
const Target kMoodle{"it_moodle", {"mdl_", "txtpush"}, true};
const Target kPooled{"it_pooled", {"mdl_", "txtpush"}, true, true};

const char* kTables[] = {"{p}user", "{p}config_plugins", "{p}block_moodletxt_inbox", "{p}block_moodletxt_accounts",
                         "{p}block_moodletxt_status", "{p}block_moodletxt_filter", "{p}block_moodletxt_in_fil",
                         "{p}block_moodletxt_ab", "{p}block_moodletxt_ab_entry", "{p}block_moodletxt_in_ab",
                         "{p}block_moodletxt_in_u", "{s}.unrouted", "{s}.flags", "{s}.status_ledger",
                         "{s}.inbound_ledger"};

// Accounts, users, filters and address books every routing case uses.
const char* kDirectory = R"(
INSERT INTO {p}user (id, username, firstname, lastname, phone1, phone2, deleted) VALUES
  (100, 'default', 'Default', 'User', '', '', 0),
  (101, 'kw1', 'Kim', 'Word', '', '', 0),
  (102, 'kw2', 'Kay', 'Word', '', '', 0),
  (103, 'ph', 'Phil', 'Ter', '', '', 0),
  (201, 'ada', 'Ada', 'Lovelace', '07700 900211', '07700 900201', 0),
  (202, 'gone', 'Gone', 'User', '', '+447700900202', 1);
INSERT INTO {p}block_moodletxt_accounts (id, username, password, description, defaultuser, inboundenabled, lastupdate) VALUES
  (7, 'CollegeSMS', 'x', 'main', 100, 1, 0),
  (8, 'Closed', 'x', 'off', 100, 0, 0),
  (9, 'NoDefault', 'x', 'broken', 999, 1, 0);
INSERT INTO {p}block_moodletxt_filter (id, account, type, value) VALUES
  (1, 7, 'keyword', 'help'), (2, 7, 'phoneno', '07700 900555');
INSERT INTO {p}block_moodletxt_in_fil (filter, userid) VALUES (1, 101), (1, 102), (2, 102), (2, 103);
INSERT INTO {p}block_moodletxt_ab (id, name, type, owner) VALUES
  (1, 'School', 'global', 0), (2, 'Kim''s', 'private', 101), (3, 'Stranger''s', 'private', 999);
INSERT INTO {p}block_moodletxt_ab_entry (id, addressbook, lastname, firstname, company, phoneno) VALUES
  (301, 1, 'Bal', 'Glo', '', '+44 7700 900301'),
  (302, 2, 'Vate', 'Pri', '', '07700900302'),
  (303, 3, 'Book', 'Other', '', '+447700900303');
)";

// Each target's database is made once per test process.
void prepare(const Target& t) {
    static std::set<std::string> done;
    if (!done.insert(t.db).second) return;
    test::recreate_database(t.db);
    if (t.moodle_schema) test::run_sql_file(t.db, test::moodle_schema_path());
    pqxx::connection conn(test::conninfo_of(t.db));
    Log quiet(LogLevel::error);
    auto taken = migrate(conn, t.names, quiet);
    if (!taken) throw std::runtime_error(taken.error().reason);
}

class StoreTest : public ::testing::TestWithParam<Target> {
protected:
    void SetUp() override {
        prepare(GetParam());
        db_.emplace(test::conninfo_of(GetParam().db));
        pqxx::work txn(*db_);
        for (const char* t : kTables) txn.exec(names("TRUNCATE " + std::string(t) + " RESTART IDENTITY"));
        txn.exec(names(kDirectory));
        txn.commit();
        store_ = std::make_unique<PushStore>(StoreOptions{conninfo(), GetParam().names, "Unknown", 0, GetParam().pooled},
                                             log_);
    }

    std::string conninfo() const { return test::conninfo_of(GetParam().db); }
    std::string names(const std::string& text) const {
        return replace_all(replace_all(text, "{p}", GetParam().names.prefix), "{s}", GetParam().names.schema);
    }

    StoreReport store(const Push& push) {
        auto r = store_->store(push, 1764000999, "req-1");
        EXPECT_TRUE(r.ok()) << r.error().reason;
        return r.ok() ? *r : StoreReport{};
    }

    void sql(const std::string& statement) {
        pqxx::work txn(*db_);
        txn.exec(names(statement));
        txn.commit();
    }

    pqxx::result query(const std::string& q) {
        pqxx::work txn(*db_);
        auto r = txn.exec(names(q));
        txn.commit();
        return r;
    }

    // A table of Moodle's by its name without prefix, or with {p}, or "{s}.name".
    int64_t count(const std::string& table) {
        bool placed = table.starts_with("{") || table.find('.') != std::string::npos;
        std::string t = placed ? table : "{p}" + table;
        return query("SELECT count(*) FROM " + t)[0][0].as<int64_t>();
    }

    // "userid:firstname:lastname:source:link" for each inbox row of a ticket.
    std::vector<std::string> inbox_of(int64_t ticket) {
        std::vector<std::string> out;
        auto rows = query(
            "SELECT i.userid, i.sourcefirstname, i.sourcelastname, i.source, "
            "coalesce('u' || u.userid, 'ab' || a.contact, '-') FROM {p}block_moodletxt_inbox i "
            "LEFT JOIN {p}block_moodletxt_in_u u ON u.receivedmessage = i.id "
            "LEFT JOIN {p}block_moodletxt_in_ab a ON a.receivedmessage = i.id "
            "WHERE i.ticket = " + std::to_string(ticket) + " ORDER BY i.userid");
        for (const auto& r : rows)
            out.push_back(r[0].as<std::string>() + ":" + r[1].as<std::string>() + ":" + r[2].as<std::string>() +
                          ":" + r[3].as<std::string>() + ":" + r[4].as<std::string>());
        return out;
    }

    Log log_{LogLevel::error};
    std::optional<pqxx::connection> db_;
    std::unique_ptr<PushStore> store_;
};

InboundSms sms(int64_t ticket, std::string text, std::string phone, std::string account = "CollegeSMS") {
    return InboundSms{ticket, std::move(text), std::move(phone), 1764000000, "88020", std::move(account)};
}

// A DBA query of sql/queries/, which name mdl_ and txtpush, for this target.
std::string dba_query(const std::string& file, const DbNames& names) {
    std::ifstream in(std::string(TXTPUSH_SOURCE_DIR) + "/sql/queries/" + file);
    std::ostringstream s;
    s << in.rdbuf();
    return replace_all(replace_all(s.str(), "mdl_", names.prefix), "txtpush.", names.schema + ".");
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Targets, StoreTest, ::testing::Values(kMirror, kMoodle, kPooled), [](const auto& info) {
    return std::string(info.param.pooled ? "Pooled" : info.param.moodle_schema ? "Moodle" : "Mirror");
});

TEST_P(StoreTest, MigrationsAreIdempotentAndVersioned) {
    Log quiet(LogLevel::error);
    auto again = migrate(*db_, GetParam().names, quiet);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, 0);
    auto version = schema_version(*db_, GetParam().names);
    ASSERT_TRUE(version.ok());
    EXPECT_EQ(*version, static_cast<int>(builtin_migrations().size()));
    auto plugin_tables = query(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND "
        "table_name LIKE '{p}block\\_moodletxt\\_%'");
    EXPECT_EQ(plugin_tables[0][0].as<int>(), 23);
}

TEST_P(StoreTest, StatusUpdatesAreUpsertedOnce) {
    Push push;
    push.statuses = {{900001, 0, "Queued", ""}, {900001, 5, "Delivered", ""}, {900001, 5, "Delivered", ""}};
    StoreReport first = store(push);
    EXPECT_EQ(first.statuses, 2u);
    EXPECT_EQ(first.statuses_new, 2u);
    auto rows = query("SELECT ticketnumber, status, statusmessage, updatetime FROM {p}block_moodletxt_status ORDER BY status");
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[1][2].as<std::string>(), "Delivered");
    EXPECT_EQ(rows[1][3].as<int64_t>(), 1764000999);
    StoreReport replay = store(push);
    EXPECT_EQ(replay.statuses_new, 0u);
    EXPECT_EQ(count("block_moodletxt_status"), 2);
}

TEST_P(StoreTest, LedgerSaysWhenAndInWhichRequestTheGatewayToldUs) {
    Push push;
    push.statuses = {{900, 0, "Queued", ""}};
    push.inbound = {sms(901, "hi", "+447700900999")};
    ASSERT_TRUE(store_->store(push, 1764000100, "first-request").ok());
    ASSERT_TRUE(store_->store(push, 1764000200, "replayed-request").ok());
    auto status = query("SELECT extract(epoch FROM received_at)::bigint, request_id, origin, statusid IS NOT NULL "
                        "FROM {s}.status_ledger WHERE ticketnumber = 900");
    ASSERT_EQ(status.size(), 1u);
    EXPECT_EQ(status[0][0].as<int64_t>(), 1764000100);
    EXPECT_EQ(status[0][1].as<std::string>(), "first-request");
    EXPECT_EQ(status[0][2].as<std::string>(), "push");
    EXPECT_TRUE(status[0][3].as<bool>());
    auto inbound = query("SELECT l.request_id, l.inboxid = i.id FROM {s}.inbound_ledger l "
                         "JOIN {p}block_moodletxt_inbox i ON i.ticket = l.ticket AND i.userid = l.userid");
    ASSERT_EQ(inbound.size(), 1u);
    EXPECT_EQ(inbound[0][0].as<std::string>(), "first-request");
    EXPECT_TRUE(inbound[0][1].as<bool>());
}

TEST_P(StoreTest, DbaQueriesRun) {
    Push first;
    first.statuses = {{900, 0, "Queued", ""}, {901, 2, "Error", ""}};
    first.inbound = {sms(902, "hi", "+447700900999"), sms(903, "hi", "+447700900999", "Nobody")};
    ASSERT_TRUE(store_->store(first, 100).ok());
    Push later;
    later.statuses = {{900, 5, "Delivered", ""}};
    ASSERT_TRUE(store_->store(later, 200).ok());
    auto latest = query(dba_query("latest_status.sql", GetParam().names));
    ASSERT_EQ(latest.size(), 2u);
    EXPECT_EQ(latest[0]["ticketnumber"].as<int64_t>(), 900);
    EXPECT_EQ(latest[0]["status"].as<int>(), 5);
    EXPECT_EQ(latest[0]["meaning"].as<std::string>(), "delivered to the handset");
    EXPECT_TRUE(latest[0]["final"].as<bool>());
    EXPECT_EQ(latest[1]["meaning"].as<std::string>(), "failed: fatal delivery error");
    auto per_day = query(dba_query("inbound_per_account_per_day.sql", GetParam().names));
    ASSERT_EQ(per_day.size(), 1u);
    EXPECT_EQ(per_day[0]["account"].as<std::string>(), "CollegeSMS");
    EXPECT_EQ(per_day[0]["messages"].as<int>(), 1);
    auto unrouted = query(dba_query("unrouted.sql", GetParam().names));
    ASSERT_EQ(unrouted.size(), 1u);
    EXPECT_EQ(unrouted[0]["ticket"].as<int64_t>(), 903);
}

TEST_P(StoreTest, LongTextsAreCutToTheirColumnsAndMetacharactersKept) {
    Push push;
    push.statuses = {{5, 1, std::string(150, 'x') + "'; DROP TABLE x; --", ""}};
    push.inbound = {sms(6, "Robert'); DROP TABLE students;-- \\ \"q\"", "+447700900999")};
    StoreReport r = store(push);
    EXPECT_EQ(r.truncated_values, 1u);
    EXPECT_EQ(query("SELECT statusmessage FROM {p}block_moodletxt_status")[0][0].as<std::string>(), std::string(100, 'x'));
    EXPECT_EQ(query("SELECT messagetext FROM {p}block_moodletxt_inbox")[0][0].as<std::string>(),
              "Robert'); DROP TABLE students;-- \\ \"q\"");
    auto flag = query("SELECT ticket, kind, flag, original FROM {s}.flags");
    ASSERT_EQ(flag.size(), 1u);
    EXPECT_EQ(flag[0][0].as<int64_t>(), 5);
    EXPECT_EQ(flag[0][1].as<std::string>(), "status");
    EXPECT_EQ(flag[0][2].as<std::string>(), "truncated_statusmessage");
    EXPECT_EQ(flag[0][3].as<std::string>(), std::string(150, 'x') + "'; DROP TABLE x; --");
}

TEST_P(StoreTest, ImplausibleSenderIsStoredAsTheBlockStoresItAndFlagged) {
    Push push;
    push.inbound = {sms(60, "hi", " +999 12345 ")};  // the block's rule holds, libphonenumber's not
    StoreReport r = store(push);
    EXPECT_EQ(r.implausible_numbers, 1u);
    EXPECT_EQ(inbox_of(60), (std::vector<std::string>{"100:Unknown:Unknown:+99912345:-"}));
    auto flag = query("SELECT flag, original FROM {s}.flags WHERE ticket = 60");
    ASSERT_EQ(flag.size(), 1u);
    EXPECT_EQ(flag[0][0].as<std::string>(), "implausible_phone");
    EXPECT_EQ(flag[0][1].as<std::string>(), "+999 12345");
}

struct RoutingCase {
    const char* name;
    std::string setup;  // extra SQL before the push
    InboundSms message;
    std::vector<std::string> inbox;  // expected inbox_of(ticket)
};

TEST_P(StoreTest, InboundRoutingTable) {
    const RoutingCase cases[] = {
        {"keyword in any case", "", sms(1, "hElP please", "+447700900999"),
         {"101:Unknown:Unknown:+447700900999:-", "102:Unknown:Unknown:+447700900999:-"}},
        {"phone filter across notations", "", sms(2, "hello", "+44 7700 900555"),
         {"102:Unknown:Unknown:+447700900555:-", "103:Unknown:Unknown:+447700900555:-"}},
        {"keyword and phone filter: union, each user once", "", sms(3, "HELP", "07700900555"),
         {"101:Unknown:Unknown:07700900555:-", "102:Unknown:Unknown:07700900555:-", "103:Unknown:Unknown:07700900555:-"}},
        {"no filter matches: default user", "", sms(4, "hello", "+447700900999"), {"100:Unknown:Unknown:+447700900999:-"}},
        {"sender is a Moodle user via phone2 (default)", "", sms(5, "hi", "+447700900201"),
         {"100:Ada:Lovelace:+447700900201:u201"}},
        {"phone1 is not looked at by default", "", sms(6, "hi", "+447700900211"), {"100:Unknown:Unknown:+447700900211:-"}},
        {"sender via phone1 per setting",
         "INSERT INTO {p}config_plugins (plugin, name, value) VALUES ('moodletxt', 'Phone_Number_Source', 'phone1')",
         sms(7, "hi", "+447700900211"), {"100:Ada:Lovelace:+447700900211:u201"}},
        {"deleted user ignored", "", sms(8, "hi", "+447700900202"), {"100:Unknown:Unknown:+447700900202:-"}},
        {"global contact", "", sms(9, "hi", "07700 900301"), {"100:Glo:Bal:07700900301:ab301"}},
        {"private contact of a receiving user", "", sms(10, "help", "+447700900302"),
         {"101:Pri:Vate:+447700900302:ab302", "102:Pri:Vate:+447700900302:ab302"}},
        {"contact in someone else's private book ignored", "", sms(11, "hi", "+447700900303"),
         {"100:Unknown:Unknown:+447700900303:-"}},
        {"lost + restored", "", sms(12, "hi", " 447700900201"), {"100:Ada:Lovelace:+447700900201:u201"}},
        {"a user given a number just now is found",
         "INSERT INTO {p}user (id, username, firstname, lastname, phone2) VALUES (204, 'new', 'New', 'Comer', '07700 900204')",
         sms(13, "hi", "+447700900204"), {"100:New:Comer:+447700900204:u204"}},
        {"a number changed just now is not matched any more", "UPDATE {p}user SET phone2 = '' WHERE id = 204",
         sms(14, "hi", "+447700900204"), {"100:Unknown:Unknown:+447700900204:-"}},
    };
    for (const RoutingCase& c : cases) {
        SCOPED_TRACE(c.name);
        if (!c.setup.empty()) sql(c.setup);
        Push push;
        push.inbound = {c.message};
        StoreReport r = store(push);
        EXPECT_EQ(r.inbox_rows_new, c.inbox.size());
        EXPECT_EQ(inbox_of(c.message.ticket), c.inbox);
        sql("DELETE FROM {p}config_plugins");
    }
}

TEST_P(StoreTest, UnroutableMessagesAreKeptNotLost) {
    Push push;
    push.inbound = {sms(20, "hi", "+447700900999", "Nobody"), sms(21, "hi", "+447700900999", "Closed"),
                    sms(22, "hi", "+447700900999", "NoDefault")};
    StoreReport r = store(push);
    EXPECT_EQ(r.unrouted, 3u);
    EXPECT_EQ(count("block_moodletxt_inbox"), 0);
    auto rows = query("SELECT ticket, reason, destinationaccount, source FROM {s}.unrouted ORDER BY ticket");
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0][1].as<std::string>(), "unknown account");
    EXPECT_EQ(rows[1][1].as<std::string>(), "inbound disabled for account");
    EXPECT_EQ(rows[2][1].as<std::string>(), "default user does not exist");
    EXPECT_EQ(rows[0][2].as<std::string>(), "Nobody");
    EXPECT_EQ(rows[0][3].as<std::string>(), "+447700900999");
}

TEST_P(StoreTest, UnroutedMessagesCanBeReroutedOnceTheAccountIsFixed) {
    Push push;
    push.inbound = {sms(70, "help", "07700 900201", "Latecomer"), sms(71, "hi", "+447700900999", "Nobody")};
    store(push);
    EXPECT_EQ(count("{s}.unrouted"), 2);
    sql("INSERT INTO {p}block_moodletxt_accounts (id, username, password, description, defaultuser, lastupdate) "
        "VALUES (10, 'latecomer', 'x', 'fixed', 100, 0)");
    auto routed = store_->reroute_unrouted(1764000999);
    ASSERT_TRUE(routed.ok()) << routed.error().reason;
    EXPECT_EQ(*routed, 1u);
    EXPECT_EQ(inbox_of(70), (std::vector<std::string>{"100:Ada:Lovelace:07700900201:u201"}));
    EXPECT_EQ(query("SELECT routed FROM {s}.unrouted WHERE ticket = 70")[0][0].as<int>(), 1);
    EXPECT_EQ(query("SELECT routed FROM {s}.unrouted WHERE ticket = 71")[0][0].as<int>(), 0);
    auto again = store_->reroute_unrouted(1764000999);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, 0u);
    EXPECT_EQ(count("block_moodletxt_inbox"), 1);
}

TEST_P(StoreTest, ABacklogIsReroutedInBatchesNotOneTransaction) {
    Push push;
    for (int64_t t = 1; t <= 1200; ++t) push.inbound.push_back(sms(5000 + t, "hi", "+447700900999", "Latecomer"));
    store(push);
    ASSERT_EQ(count("{s}.unrouted"), 1200);
    sql("INSERT INTO {p}block_moodletxt_accounts (id, username, password, description, defaultuser, lastupdate) "
        "VALUES (10, 'latecomer', 'x', 'fixed', 100, 0)");
    auto routed = store_->reroute_unrouted(1764000999);
    ASSERT_TRUE(routed.ok()) << routed.error().reason;
    EXPECT_EQ(*routed, 1200u);
    EXPECT_EQ(count("block_moodletxt_inbox"), 1200);
    // Each batch of 500 commits on its own: three transactions wrote the rows.
    EXPECT_EQ(query("SELECT count(DISTINCT xmin::text) FROM {p}block_moodletxt_inbox")[0][0].as<int>(), 3);
}

TEST_P(StoreTest, SessionsCommitSynchronouslyWhateverTheServerDefault) {
    // The role's default says "off"; a push must still be on disk when it is answered.
    sql("CREATE TABLE {s}.it_seen (setting text)");
    sql("CREATE FUNCTION {s}.it_note_setting() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN INSERT INTO {s}.it_seen VALUES (current_setting('synchronous_commit')); RETURN NULL; END $$");
    sql("CREATE TRIGGER it_note AFTER INSERT ON {s}.status_ledger FOR EACH STATEMENT "
        "EXECUTE FUNCTION {s}.it_note_setting()");
    PushStore relaxed(StoreOptions{conninfo() + " options='-c synchronous_commit=off'", GetParam().names, "Unknown"},
                      log_);
    Push push;
    push.statuses = {{880001, 5, "Delivered", ""}};
    auto r = relaxed.store(push, 1764000999, "req-sync");
    std::vector<std::string> seen;
    for (const auto& row : query("SELECT setting FROM {s}.it_seen")) seen.push_back(row[0].as<std::string>());
    sql("DROP TABLE {s}.it_seen; DROP FUNCTION {s}.it_note_setting() CASCADE");
    ASSERT_TRUE(r.ok()) << r.error().reason;
    EXPECT_EQ(seen, (std::vector<std::string>{"on"}));
}

TEST_P(StoreTest, ReplayOfEverythingAddsNothing) {
    Push push;
    push.statuses = {{1, 5, "Delivered", ""}};
    push.inbound = {sms(1, "help", "07700900555"), sms(2, "hi", "+447700900201"), sms(3, "hi", "+447700900301"),
                    sms(4, "hi", "+447700900999", "Nobody")};
    store(push);
    std::vector<int64_t> before;
    for (const char* t : kTables) before.push_back(count(t));
    StoreReport again = store(push);
    EXPECT_EQ(again.statuses_new, 0u);
    EXPECT_EQ(again.inbox_rows_new, 0u);
    std::vector<int64_t> after;
    for (const char* t : kTables) after.push_back(count(t));
    EXPECT_EQ(before, after);
    EXPECT_EQ(count("block_moodletxt_inbox"), 3 + 1 + 1);
    EXPECT_EQ(count("block_moodletxt_in_u"), 1);
    EXPECT_EQ(count("block_moodletxt_in_ab"), 1);
}

TEST_P(StoreTest, AFailedPushStoresNothing) {
    // A status row that breaks a constraint makes the whole push roll back,
    // inbound rows included.
    sql("ALTER TABLE {p}block_moodletxt_status ADD CONSTRAINT {p}no_status_6 CHECK (status <> 6)");
    Push push;
    push.inbound = {sms(30, "hi", "+447700900999")};
    push.statuses = {{30, 6, "failed", ""}};
    auto r = store_->store(push, 1);
    sql("ALTER TABLE {p}block_moodletxt_status DROP CONSTRAINT {p}no_status_6");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::permanent);
    EXPECT_EQ(count("{s}.status_ledger"), 0);
    EXPECT_EQ(count("block_moodletxt_inbox"), 0);
    EXPECT_EQ(count("block_moodletxt_status"), 0);
}

TEST_P(StoreTest, ReconnectsAfterTheConnectionIsKilled) {
    Push push;
    push.statuses = {{40, 1, "a", ""}};
    store(push);
    sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
        "AND datname = current_database() AND application_name = ''");
    push.statuses = {{41, 1, "b", ""}};
    StoreReport r = store(push);
    EXPECT_EQ(r.statuses_new, 1u);
    EXPECT_EQ(count("block_moodletxt_status"), 2);
}

TEST_P(StoreTest, UnreachableDatabaseIsTransient) {
    PushStore down(StoreOptions{"host=/nonexistent port=1 dbname=x connect_timeout=1", GetParam().names, "Unknown"}, log_);
    Push push;
    push.statuses = {{50, 1, "a", ""}};
    auto r = down.store(push, 1);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::transient);
}

// On a large site the directory is refreshed by age: the spooler keeps it
// within 100 times what a refresh took, never more than 5 s; a push refreshes
// it itself once it is twice that old (the spooler behind), however slow the
// last refresh was.
TEST_P(StoreTest, OnALargeSiteAPushRefreshesADirectoryTheSpoolerLeftTwiceDue) {
    sql("INSERT INTO {p}user (id, username, firstname, lastname, phone2) "
        "SELECT g, 'u' || g, 'F', 'L', '07711 ' || lpad(g::text, 6, '0') FROM generate_series(10000, 20099) AS g");
    query("SELECT {s}.refresh_phone_directory()");
    ASSERT_GE(query("SELECT entries FROM {s}.phone_directory_state")[0][0].as<int64_t>(), 10000);
    // The last refresh took 10 s (100 times that: 1,000 s) and ended 11 s ago.
    sql("UPDATE {s}.phone_directory_state SET cost = interval '10 s', refreshed_at = now() - interval '11 s'");
    sql("UPDATE {p}user SET phone2 = '07700 900777' WHERE id = 201");
    Push push;
    push.inbound = {sms(950, "hi", "+447700900777")};
    store(push);
    EXPECT_EQ(inbox_of(950), std::vector<std::string>{"100:Ada:Lovelace:+447700900777:u201"});
}

TEST_P(StoreTest, ThePhoneDirectoryFollowsMoodleBucketByBucket) {
    auto directory = [&] {
        std::vector<std::string> out;
        for (const auto& r : query("SELECT kind || ':' || id || ':' || raw FROM {s}.phone_directory ORDER BY 1"))
            out.push_back(r[0].as<std::string>());
        return out;
    };
    auto from_moodle = [&] {
        std::vector<std::string> out;
        for (const auto& r : query("SELECT k || ':' || id || ':' || raw FROM ("
                                   " SELECT 'phone1' AS k, id, phone1 AS raw FROM {p}user WHERE deleted = 0 AND phone1 <> ''"
                                   " UNION ALL SELECT 'phone2', id, phone2 FROM {p}user WHERE deleted = 0 AND phone2 <> ''"
                                   " UNION ALL SELECT 'contact', id, phoneno FROM {p}block_moodletxt_ab_entry"
                                   " WHERE phoneno <> '') AS n ORDER BY 1"))
            out.push_back(r[0].as<std::string>());
        return out;
    };
    query("SELECT {s}.refresh_phone_directory()");
    EXPECT_EQ(directory(), from_moodle());
    // Changes in several buckets of 1024 ids: a new user far away, a changed
    // number, a deleted user, a contact removed.
    sql("INSERT INTO {p}user (id, username, firstname, lastname, phone2) VALUES (5000, 'far', 'Far', 'Away', '07700 905000')");
    sql("UPDATE {p}user SET phone2 = '07700 900999' WHERE id = 201");
    sql("UPDATE {p}user SET deleted = 1, phone1 = '07700 900103' WHERE id = 103");
    sql("DELETE FROM {p}block_moodletxt_ab_entry WHERE id = 303");
    auto changed = query("SELECT {s}.refresh_phone_directory()")[0][0].as<int>();
    EXPECT_GT(changed, 0);
    EXPECT_EQ(directory(), from_moodle());
    EXPECT_EQ(query("SELECT entries FROM {s}.phone_directory_state")[0][0].as<int64_t>(),
              static_cast<int64_t>(from_moodle().size()));
    // Nothing changed: nothing rebuilt.
    EXPECT_EQ(query("SELECT {s}.refresh_phone_directory()")[0][0].as<int>(), 0);
}

// A site of 50,000 accounts of which 500 have a number (most accounts never
// enter one): an inbound push reads Moodle's user table by id, a few rows,
// never the whole table. Counted by PostgreSQL's statistics of the table,
// which a session publishes when it ends.
TEST_P(StoreTest, OnASiteOfManyAccountsAndFewNumbersAPushReadsAFewRowsOfUser) {
    sql("INSERT INTO {p}user (id, username, firstname, lastname, phone2) "
        "SELECT g, 'u' || g, 'F' || g, 'L', CASE WHEN g % 100 = 0 THEN '07711 ' || lpad(g::text, 6, '0') ELSE '' END "
        "FROM generate_series(10000, 59999) AS g");
    query("SELECT {s}.refresh_phone_directory()");
    ASSERT_EQ(query("SELECT entries FROM {s}.phone_directory_state")[0][0].as<int64_t>(), 500 + 2 + 3);
    query("SELECT pg_stat_force_next_flush()");  // this session's reads, published before the count below
    auto user_rows_read = [&] {
        return query("SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) FROM pg_stat_user_tables "
                     "WHERE relid = '{p}user'::regclass")[0][0].as<int64_t>();
    };
    auto inbox_rows_written = [&] {
        return query("SELECT n_tup_ins FROM pg_stat_user_tables WHERE relid = '{p}block_moodletxt_inbox'::regclass")
            [0][0].as<int64_t>();
    };
    int64_t read_before = user_rows_read();
    int64_t written_before = inbox_rows_written();
    {
        PushStore pusher(StoreOptions{conninfo(), GetParam().names, "Unknown", 0, GetParam().pooled}, log_);
        Push push;
        push.inbound = {sms(960, "hi", "+447711020000")};
        auto r = pusher.store(push, 1764000999, "req-960");
        ASSERT_TRUE(r.ok()) << r.error().reason;
    }  // its session ends: its statistics are published
    ASSERT_TRUE(test::wait_until([&] { return inbox_rows_written() > written_before; }, std::chrono::seconds(20)));
    EXPECT_EQ(inbox_of(960), std::vector<std::string>{"100:F20000:L:+447711020000:u20000"});
    EXPECT_LE(user_rows_read() - read_before, 300);
}
