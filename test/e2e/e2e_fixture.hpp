// The fixture of the end-to-end suites: a clean set of tables with one
// college account, users, a filter and a contact, and helpers to push as the
// gateway does and to count what was stored.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <pqxx/pqxx>
#include <string>

#include "test_support.hpp"

namespace txtpush::test {

constexpr const char* kPushPath = "/blocks/moodletxt/push.php";

class E2ETest : public ::testing::Test {
protected:
    void SetUp() override {
        db_.emplace(stack_conninfo());
        pqxx::work txn(*db_);
        txn.exec(
            "TRUNCATE mdl_user, mdl_block_moodletxt_status, mdl_block_moodletxt_inbox, mdl_block_moodletxt_accounts, "
            "mdl_block_moodletxt_filter, mdl_block_moodletxt_in_fil, mdl_block_moodletxt_in_u, "
            "mdl_block_moodletxt_in_ab, mdl_block_moodletxt_ab, mdl_block_moodletxt_ab_entry, txtpush.unrouted, "
            "txtpush.flags, txtpush.status_ledger, txtpush.inbound_ledger");
        txn.exec(R"(
INSERT INTO mdl_user (id, username, firstname, lastname, phone2) VALUES
  (100, 'office', 'School', 'Office', ''), (101, 'head', 'Head', 'Teacher', ''),
  (201, 'parent', 'Pat', 'Parent', '07700 900001');
INSERT INTO mdl_block_moodletxt_accounts (id, username, password, description, defaultuser, lastupdate) VALUES
  (1, 'CollegeSMS', 'x', 'College', 100, 0), (2, 'GregJPreece', 'x', 'Doc example', 100, 0);
INSERT INTO mdl_block_moodletxt_filter (id, account, type, value) VALUES (1, 1, 'keyword', 'HELP');
INSERT INTO mdl_block_moodletxt_in_fil (filter, userid) VALUES (1, 101);
INSERT INTO mdl_block_moodletxt_ab (id, name, type, owner) VALUES (1, 'Global', 'global', 0);
INSERT INTO mdl_block_moodletxt_ab_entry (id, addressbook, lastname, firstname, company, phoneno) VALUES
  (1, 1, 'Contact', 'Carla', '', '+447700900005');
)");
        txn.commit();
    }

    HttpResponse push(const std::string& xml, const std::string& password = "secret") {
        return http_request(stack_http_port(), "POST", kPushPath, push_body("gateway", password, xml));
    }

    HttpResponse post(const std::string& body, const std::string& content_type = "application/x-www-form-urlencoded") {
        return http_request(stack_http_port(), "POST", kPushPath, body, content_type);
    }

    int64_t count(const std::string& query) {
        pqxx::work txn(*db_);
        return txn.exec(query)[0][0].as<int64_t>();
    }

    int64_t rows_stored() {
        return count("SELECT (SELECT count(*) FROM mdl_block_moodletxt_status) + "
                     "(SELECT count(*) FROM mdl_block_moodletxt_inbox) + (SELECT count(*) FROM txtpush.unrouted)");
    }

    std::optional<pqxx::connection> db_;
};

}  // namespace txtpush::test
