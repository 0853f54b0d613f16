// `txtpushd check` against the test stack's real database and socket: it
// passes there, and names each failure with its fix.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <regex>

#include <fmt/format.h>

#include "e2e_fixture.hpp"
#include "grants.hpp"
#include "stack_helpers.hpp"

using namespace txtpush;

namespace {

struct CheckRun {
    int code = -1;
    std::string out;
};

CheckRun check(const std::string& config) {
    std::string command = fmt::format("{}/txtpushd check -c {} 2>&1", TXTPUSH_BUILD_DIR, config);
    CheckRun r;
    FILE* pipe = ::popen(command.c_str(), "r");
    for (char buf[1024]; std::fgets(buf, sizeof buf, pipe);) r.out += buf;
    int status = ::pclose(pipe);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

class Check : public test::E2ETest {
protected:
    std::string config_ = test::stack_dir() + "/txtpushd.conf";
    void TearDown() override { exec(grants_sql(DbNames{"mdl_", "txtpush"}, "txtpush_app")); }
    void exec(const std::string& sql) {
        pqxx::nontransaction tx(*db_);
        tx.exec(sql);
    }
};

}  // namespace

TEST_F(Check, PassesOnTheStackAndSaysWhatConnectTxtNeeds) {
    exec("UPDATE mdl_block_moodletxt_accounts SET inboundenabled = 1 WHERE username = 'CollegeSMS'");
    CheckRun r = check(config_);
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(r.out.find("FAIL"), std::string::npos) << r.out;
    for (const char* line : {"ok   connected as txtpush_app", "ok   every right txtpushd needs is granted",
                             "ok   the role cannot read user.password", "ok   push credentials: MoodleTxt's",
                             "/blocks/moodletxt/push.php", "inbound enabled on account CollegeSMS",
                             "ok   nginx's user"})
        EXPECT_NE(r.out.find(line), std::string::npos) << line << "\n" << r.out;
}

TEST_F(Check, AMissingRightFailsWithItsFix) {
    exec("REVOKE SELECT (phone2) ON mdl_user FROM txtpush_app");
    CheckRun r = check(config_);
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_NE(r.out.find("FAIL missing rights: SELECT (phone2) ON mdl_user -- fix: run txtpushd grants"),
              std::string::npos) << r.out;
}

TEST_F(Check, EachPrivilegeOnTxtpushsOwnTablesIsCheckedOnItsOwn) {
    // has_table_privilege with a list is true when any one is held.
    exec("REVOKE UPDATE ON txtpush.unrouted FROM txtpush_app");
    CheckRun r = check(config_);
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_NE(r.out.find("FAIL missing rights: UPDATE ON TABLE txtpush.unrouted"), std::string::npos) << r.out;
}

TEST_F(Check, ASecretTheRoleCanReadFails) {
    exec("GRANT SELECT ON mdl_user TO txtpush_app");
    CheckRun r = check(config_);
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_NE(r.out.find("FAIL the role can read mdl_user.password"), std::string::npos) << r.out;
}

TEST_F(Check, ALoginThatFailsIsNamed) {
    std::string text = test::read_text(config_);
    std::string broken = test::stack_dir() + "/check-broken.conf";
    std::ofstream(broken) << std::regex_replace(text, std::regex("user=txtpush_app"), "user=no_such_role");
    CheckRun r = check(broken);
    std::remove(broken.c_str());
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_NE(r.out.find("FAIL cannot connect"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("fix: check [database] conninfo"), std::string::npos) << r.out;
}

TEST_F(Check, EmptyPushCredentialsAndPollingLeftOnAreWarnings) {
    exec("UPDATE mdl_config_plugins SET value = '' WHERE plugin = 'moodletxt' AND name = 'Push_Username'");
    exec("INSERT INTO mdl_config_plugins (plugin, name, value) VALUES ('moodletxt', 'Get_Inbound_On_View', '1') "
         "ON CONFLICT (plugin, name) DO UPDATE SET value = '1'");
    CheckRun r = check(config_);
    exec("UPDATE mdl_config_plugins SET value = 'gateway' WHERE plugin = 'moodletxt' AND name = 'Push_Username'");
    exec("DELETE FROM mdl_config_plugins WHERE plugin = 'moodletxt' AND name = 'Get_Inbound_On_View'");
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("warn push is not enabled"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("warn MoodleTxt's Get_Inbound_On_View is still on"), std::string::npos) << r.out;
}
