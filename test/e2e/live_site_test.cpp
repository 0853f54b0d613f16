// On a live Moodle site, over HTTP as the gateway pushes: the credentials
// are MoodleTxt's own, a sender the block cannot show never reaches an inbox,
// and a database without txtpush's tables is refused, not "stored".
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "e2e_fixture.hpp"
#include "moodletxt_cipher.hpp"
#include "stack_helpers.hpp"

using namespace txtpush;
using test::HttpResponse;

namespace {

constexpr const char* kKey = "Qk7zLp2x9R";  // the stack's EK (deploy/local-stack.sh)

std::string status_push(int ticket) {
    return fmt::format("<Response><MessageStatus><Ticket>{}</Ticket><Status>5</Status>"
                       "<StatusMessage>ok</StatusMessage></MessageStatus></Response>",
                       ticket);
}

std::string inbound_push(int ticket, const std::string& phone) {
    return fmt::format("<Response><InboundMessage><Ticket>{}</Ticket><MessageText>Hello</MessageText>"
                       "<Phone>{}</Phone><Date>1764000000</Date><Destination>88020</Destination>"
                       "<DestinationAccount>CollegeSMS</DestinationAccount></InboundMessage></Response>",
                       ticket, phone);
}

size_t occurrences(const std::string& text, const std::string& needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

class LiveSite : public test::E2ETest {
protected:
    void TearDown() override {  // the stack's own settings and tables back, whatever the test did
        setting("Push_Username", "gateway");
        setting("Push_Password", *moodletxt_encrypt(kKey, "secret"));
        exec("DO $$ BEGIN IF to_regclass('mdl_status_gone') IS NOT NULL THEN "
             "ALTER TABLE mdl_status_gone RENAME TO mdl_block_moodletxt_status; END IF; "
             "IF to_regclass('txtpush.status_ledger_gone') IS NOT NULL THEN "
             "ALTER TABLE txtpush.status_ledger_gone RENAME TO status_ledger; END IF; END $$");
        EXPECT_TRUE(wait_for_steady(200, "secret")) << "the stack's credentials did not come back";
    }

    // As MoodleTxt's settings page saves a setting.
    void setting(const std::string& name, const std::string& value) {
        pqxx::work txn(*db_);
        txn.exec_params("UPDATE mdl_config_plugins SET value = $2 WHERE plugin = 'moodletxt' AND name = $1", name,
                        value);
        txn.commit();
    }
    void exec(const std::string& sql) {
        pqxx::work txn(*db_);
        txn.exec(sql);
        txn.commit();
    }

    // Pushes until `n` answers in a row are `status` (every worker has read
    // the settings by then), for at most 15 s; whether they were.
    bool wait_for_steady(int status, const std::string& password, int n = 8) {
        auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
        for (int in_a_row = 0, ticket = 49000; std::chrono::steady_clock::now() < until;) {
            in_a_row = push(status_push(ticket++), password).status == status ? in_a_row + 1 : 0;
            if (in_a_row == n) return true;
        }
        return false;
    }

    // Pushes until the answer is `status`, for at most 15 s.
    HttpResponse wait_for_status(const std::string& xml, int status, const std::string& password = "secret") {
        auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
        HttpResponse r;
        do {
            r = push(xml, password);
            if (r.status == status) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        } while (std::chrono::steady_clock::now() < until);
        return r;
    }
};

}  // namespace

TEST_F(LiveSite, CredentialsSavedOnMoodleTxtsSettingsPageTakeEffectWithoutARestart) {
    pid_t master = test::master_pid();
    ASSERT_EQ(push(status_push(41001)).status, 200);
    setting("Push_Password", *moodletxt_encrypt(kKey, "Rotated42"));
    // Within a few seconds every worker takes the new password and refuses the old.
    EXPECT_TRUE(wait_for_steady(200, "Rotated42"));
    EXPECT_TRUE(wait_for_steady(403, "secret"));
    EXPECT_EQ(push(status_push(41002), "Rotated42").status, 200);
    EXPECT_EQ(push(status_push(41003), "secret").status, 403);
    EXPECT_EQ(test::master_pid(), master);  // no restart, no reload
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_status WHERE ticketnumber = 41003"), 0);
}

TEST_F(LiveSite, EmptyPushCredentialsInMoodleTxtRefuseEveryPushAndEachWorkerLogsWhyOnce) {
    size_t workers = test::child_pids("worker").size();
    size_t at = test::stack_log_size();
    setting("Push_Username", "");
    ASSERT_TRUE(wait_for_steady(403, "secret"));
    for (int i = 0; i < 20; ++i) {
        HttpResponse r = push(status_push(42002 + i));
        EXPECT_EQ(r.status, 403);
        EXPECT_NE(r.body.find("push is not enabled"), std::string::npos) << r.body;
    }
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_status WHERE ticketnumber BETWEEN 42002 AND 42021"), 0);
    // Said once by each worker that met it, not once per push.
    std::string log = test::stack_log(at);
    EXPECT_GE(occurrences(log, "event=push_credentials credentials=moodletxt kind=forbidden"), 1u) << log;
    EXPECT_LE(occurrences(log, "event=push_credentials credentials=moodletxt kind=forbidden"), workers) << log;
    EXPECT_LE(occurrences(log, "level=error"), workers) << log;
    // Not a failed login: fail2ban's filter (outcome=auth) must not ban the gateway for it.
    EXPECT_EQ(occurrences(log, "outcome=auth"), 0u) << log;
    EXPECT_GE(occurrences(log, "status=403 outcome=disabled"), 20u);
}

TEST_F(LiveSite, ASenderThatIsNotAPhoneNumberIsAnsweredAndKeptUnrouted) {
    auto before = test::status_metrics();
    HttpResponse r = push(inbound_push(43001, "<![CDATA[ACMEPOST]]>"));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.body.find("unrouted=1"), std::string::npos) << r.body;
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_inbox"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM txtpush.unrouted WHERE ticket = 43001 AND source = 'ACMEPOST' "
                    "AND reason = 'sender_not_a_number'"), 1);
    auto after = test::status_metrics();
    EXPECT_EQ(after["txtpush_senders_not_a_number_total"] - before["txtpush_senders_not_a_number_total"], 1);
    // A number that lost its + to form decoding, as the block stores it.
    ASSERT_EQ(push(inbound_push(43002, " 447700900009")).status, 200);
    ASSERT_EQ(push(inbound_push(43003, "<![CDATA[+44 7700 900010]]>")).status, 200);
    pqxx::work txn(*db_);
    auto sources = txn.exec("SELECT source FROM mdl_block_moodletxt_inbox ORDER BY ticket");
    ASSERT_EQ(sources.size(), 2u);
    EXPECT_EQ(sources[0][0].as<std::string>(), "+447700900009");
    EXPECT_EQ(sources[1][0].as<std::string>(), "+447700900010");
}

TEST_F(LiveSite, ADatabaseWithoutTheTablesTxtpushWasMigratedForIsAnswered503UntilTheyAreBack) {
    size_t at = test::stack_log_size();
    exec("ALTER TABLE mdl_block_moodletxt_status RENAME TO mdl_status_gone");
    for (int i = 0; i < 10; ++i) {
        HttpResponse r = push(status_push(44001 + i));
        EXPECT_EQ(r.status, 503) << r.body;
        EXPECT_NE(r.body.find("not what txtpush was migrated for"), std::string::npos) << r.body;
        EXPECT_EQ(r.headers["retry-after"], "30");
    }
    EXPECT_EQ(test::status_metrics()["txtpush_database_misconfigured"], 1);
    EXPECT_EQ(count("SELECT count(*) FROM txtpush.status_ledger WHERE ticketnumber > 44000"), 0);
    std::string log = test::stack_log(at);
    EXPECT_GE(occurrences(log, "event=db_misconfigured"), 1u);
    EXPECT_LE(occurrences(log, "event=db_misconfigured"), 2u) << "at most once a minute per worker";
    EXPECT_EQ(occurrences(log, "event=push_spooled"), 0u);
    exec("ALTER TABLE mdl_status_gone RENAME TO mdl_block_moodletxt_status");
    EXPECT_EQ(wait_for_status(status_push(44020), 200).status, 200);
    EXPECT_EQ(test::status_metrics()["txtpush_database_misconfigured"], 0);
    // txtpush's own tables alike.
    exec("ALTER TABLE txtpush.status_ledger RENAME TO status_ledger_gone");
    HttpResponse r = push(status_push(44021));
    exec("ALTER TABLE txtpush.status_ledger_gone RENAME TO status_ledger");
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_EQ(wait_for_status(status_push(44022), 200).status, 200);
}
