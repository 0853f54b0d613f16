// End to end, as the gateway does it: HTTP POSTs through the real nginx to
// txtpushd (both started by deploy/local-stack.sh), then the tables queried.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "e2e_fixture.hpp"

using namespace txtpush;
using test::fixture;
using test::HttpResponse;

using PushE2E = test::E2ETest;
using test::kPushPath;

TEST_F(PushE2E, StatusUpdateIsStored) {
    HttpResponse r = push(fixture("valid/status-single.xml"));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.body.find("statuses=1"), std::string::npos) << r.body;
    pqxx::work txn(*db_);
    auto rows = txn.exec("SELECT ticketnumber, status, statusmessage, updatetime FROM mdl_block_moodletxt_status");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0][0].as<int64_t>(), 123);
    EXPECT_EQ(rows[0][1].as<int>(), 5);
    EXPECT_EQ(rows[0][2].as<std::string>(), "Delivered To Handset");
    EXPECT_NEAR(rows[0][3].as<double>(), static_cast<double>(time(nullptr)), 60);
}

TEST_F(PushE2E, InboundSmsReachesTheDefaultInbox) {
    HttpResponse r = push(fixture("valid/unicode-text.xml"));
    ASSERT_EQ(r.status, 200) << r.body;
    pqxx::work txn(*db_);
    auto rows = txn.exec("SELECT userid, ticket, messagetext, source, sourcefirstname, timereceived, hasbeenread "
                         "FROM mdl_block_moodletxt_inbox");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0][0].as<int64_t>(), 100);
    EXPECT_EQ(rows[0][1].as<int64_t>(), 5001);
    EXPECT_EQ(rows[0][2].as<std::string>(),
              "Caf\u00e9 \u2615 \u2014 na\u00efve \u65e5\u672c\u8a9e \U0001F642 <not a tag> & ampersand");
    EXPECT_EQ(rows[0][3].as<std::string>(), "+447700900123");
    EXPECT_EQ(rows[0][4].as<std::string>(), "Unknown");
    EXPECT_EQ(rows[0][5].as<int64_t>(), 1764000000);
    EXPECT_EQ(rows[0][6].as<int>(), 0);
}

TEST_F(PushE2E, MixedPushStoresBothKinds) {
    HttpResponse r = push(fixture("valid/mixed-doc-example.xml"));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_status WHERE ticketnumber = 123"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_inbox WHERE ticket = 1278 AND userid = 100"), 1);
}

TEST_F(PushE2E, ReplayAddsNoRow) {
    for (const char* f : {"valid/mixed-doc-example.xml", "valid/status-lifecycle.xml", "valid/batch-50-mixed.xml"})
        ASSERT_EQ(push(fixture(f)).status, 200) << f;
    int64_t before = rows_stored();
    for (const char* f : {"valid/mixed-doc-example.xml", "valid/status-lifecycle.xml", "valid/batch-50-mixed.xml"}) {
        HttpResponse again = push(fixture(f));
        EXPECT_EQ(again.status, 200);
        EXPECT_NE(again.body.find("statuses_new=0"), std::string::npos) << again.body;
        EXPECT_NE(again.body.find("inbox_rows_new=0"), std::string::npos) << again.body;
    }
    EXPECT_EQ(rows_stored(), before);
}

TEST_F(PushE2E, InvalidDocumentsAre400WithTheReasonAndStoreNothing) {
    for (const char* f : {"invalid/not-well-formed.xml", "invalid/status-code-out-of-range.xml",
                          "invalid/xxe-file.xml", "invalid/billion-laughs.xml", "invalid/invalid-utf8.xml",
                          "invalid/wrong-root.xml", "invalid/unknown-element.xml"}) {
        HttpResponse r = push(fixture(f));
        EXPECT_EQ(r.status, 400) << f;
        EXPECT_NE(r.body.find("line "), std::string::npos) << f << ": " << r.body;
    }
    EXPECT_EQ(rows_stored(), 0);
}

TEST_F(PushE2E, WrongPasswordIsRefusedAndStoresNothing) {
    HttpResponse r = push(fixture("valid/mixed-doc-example.xml"), "guess");
    EXPECT_EQ(r.status, 403);
    EXPECT_NE(r.body.find("wrong push username or password"), std::string::npos);
    EXPECT_EQ(rows_stored(), 0);
}

TEST_F(PushE2E, ProtocolErrors) {
    int port = test::stack_http_port();
    HttpResponse get = test::http_request(port, "GET", kPushPath, "", "");
    EXPECT_EQ(get.status, 405);
    EXPECT_EQ(get.headers["allow"], "POST");
    HttpResponse missing = test::http_request(port, "POST", kPushPath, "u=gateway&p=secret");
    EXPECT_EQ(missing.status, 400);
    EXPECT_NE(missing.body.find("missing form field 'x'"), std::string::npos);
    HttpResponse json = test::http_request(port, "POST", kPushPath, "{}", "application/json");
    EXPECT_EQ(json.status, 400);
    std::string huge = test::push_body("gateway", "secret", "<Response>" + std::string(1100 * 1024, ' ') + "</Response>");
    EXPECT_EQ(test::http_request(port, "POST", kPushPath, huge).status, 413);
    EXPECT_EQ(test::http_request(port, "GET", "/txtpush-ping", "", "").body, "pong\n");
    EXPECT_EQ(rows_stored(), 0);
}

TEST_F(PushE2E, FiftyMessageBatchLandsInEveryInbox) {
    // 25 status updates and 25 inbound SMS from senders 900001..900050:
    // HELP goes to the head teacher, the rest to the office; 900001 is a
    // Moodle user (parent), 900005 a global contact.
    std::string xml = "<?xml version='1.0'?>\n<Response>\n";
    for (int i = 1; i <= 50; ++i) {
        if (i % 2 == 0) {
            xml += fmt::format("<MessageStatus><Ticket>{}</Ticket><Status>{}</Status><StatusMessage><![CDATA[s]]>"
                               "</StatusMessage></MessageStatus>\n", 700000 + i, i % 7 - 1);
        } else {
            xml += fmt::format("<InboundMessage><Ticket>{}</Ticket><MessageText><![CDATA[{} msg {}]]></MessageText>"
                               "<Phone>+4477009{:05d}</Phone><Date>{}</Date><Destination>88020</Destination>"
                               "<DestinationAccount>collegesms</DestinationAccount></InboundMessage>\n",
                               800000 + i, i % 3 == 0 ? "help" : "Absent", i, i, 1764000000 + i);
        }
    }
    xml += "</Response>\n";
    HttpResponse r = push(xml);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_status"), 25);
    EXPECT_EQ(count("SELECT count(*) FROM mdl_block_moodletxt_inbox"), 25);
    pqxx::work txn(*db_);
    for (int i = 1; i <= 50; i += 2) {
        auto row = txn.exec(fmt::format(
            "SELECT i.userid, i.source, i.sourcefirstname, i.timereceived, u.userid, a.contact "
            "FROM mdl_block_moodletxt_inbox i LEFT JOIN mdl_block_moodletxt_in_u u ON u.receivedmessage = i.id "
            "LEFT JOIN mdl_block_moodletxt_in_ab a ON a.receivedmessage = i.id WHERE i.ticket = {}", 800000 + i));
        ASSERT_EQ(row.size(), 1u) << i;
        EXPECT_EQ(row[0][0].as<int64_t>(), i % 3 == 0 ? 101 : 100) << i;
        EXPECT_EQ(row[0][1].as<std::string>(), fmt::format("+4477009{:05d}", i));
        EXPECT_EQ(row[0][3].as<int64_t>(), 1764000000 + i);
        std::string name = i == 1 ? "Pat" : i == 5 ? "Carla" : "Unknown";
        EXPECT_EQ(row[0][2].as<std::string>(), name) << i;
        EXPECT_EQ(row[0][4].is_null(), i != 1) << i;
        EXPECT_EQ(row[0][5].is_null(), i != 5) << i;
    }
}
