#include <gtest/gtest.h>

#include <fmt/format.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "config.hpp"

using namespace txtpush;

TEST(Config, DefaultsApplyToAMinimalFile) {
    auto c = parse_config("[push]\nusername = gw\npassword = pw\n");
    ASSERT_TRUE(c.ok()) << c.error().reason;
    EXPECT_EQ(c->listen, "/run/txtpush/txtpushd.sock");
    EXPECT_EQ(c->socket_mode, 0660u);
    EXPECT_EQ(c->workers, 0);
    EXPECT_EQ(c->body_limit, 1024u * 1024u);
    EXPECT_EQ(c->table_prefix, "mdl_");
    EXPECT_EQ(c->unknown_sender_name, "Unknown");
    EXPECT_TRUE(c->credentials.accepts("gw", "pw"));
}

TEST(Config, ReadsEveryKey) {
    auto c = parse_config(R"([server]
listen = 127.0.0.1:9000
socket_mode = 0600
workers = 3
body_limit = 2048
log_level = debug
[database]
conninfo = host=/tmp dbname=x
table_prefix = m2_
[push]
username = gw
password_sha256 = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
unknown_sender_name = Inconnu
)");
    ASSERT_TRUE(c.ok()) << c.error().reason;
    EXPECT_EQ(c->listen, "127.0.0.1:9000");
    EXPECT_EQ(c->socket_mode, 0600u);
    EXPECT_EQ(c->workers, 3);
    EXPECT_EQ(c->body_limit, 2048u);
    EXPECT_EQ(c->log_level, LogLevel::debug);
    EXPECT_EQ(c->conninfo, "host=/tmp dbname=x");
    EXPECT_EQ(c->table_prefix, "m2_");
    EXPECT_EQ(c->unknown_sender_name, "Inconnu");
    EXPECT_TRUE(c->credentials.accepts("gw", "abc"));
}

TEST(Config, RefusesMistakesWithTheLine) {
    struct Case {
        std::string text;
        const char* expect;
    } cases[] = {
        {"[push]\nusername=a\npassword=b\n[server]\nworkrs = 2\n", "line 5: [server] workrs: unknown key"},
        {"[push]\nusername=a\npassword=b\n[database]\ntable_prefix = mdl; drop\n", "table_prefix: 1 to 20"},
        {"[push]\nusername=a\n", "password or password_sha256 is required"},
        {"[push]\npassword=b\n", "a password without username"},
        {"[push]\nusername=a\npassword_sha256=" + std::string(64, '0') + "\n", "placeholder"},
        {"[push]\nusername=a\npassword=b\npassword_sha256=00\n", "not both"},
        {"[server]\nsocket_mode = 999\n", "octal"},
        {"[nope]\nx=1\n", "unknown section"},
    };
    for (const auto& c : cases) {
        auto r = parse_config(c.text);
        ASSERT_FALSE(r.ok()) << c.text;
        EXPECT_NE(r.error().reason.find(c.expect), std::string::npos) << r.error().reason;
    }
}

TEST(Config, TablePrefixIsSqlSafe) {
    EXPECT_TRUE(valid_table_prefix("mdl_"));
    EXPECT_FALSE(valid_table_prefix(""));
    EXPECT_FALSE(valid_table_prefix("MDL_"));
    EXPECT_FALSE(valid_table_prefix("a\"b"));
}

TEST(Config, TheShippedExampleIsValid) {
    auto c = load_config(std::string(TXTPUSH_SOURCE_DIR) + "/deploy/txtpushd.conf.example");
    ASSERT_TRUE(c.ok()) << c.error().reason;
    EXPECT_EQ(c->socket_mode, 0666u);
    EXPECT_EQ(c->spool_dir, "/var/lib/txtpush/spool");
    EXPECT_EQ(c->request_timeout, 30u);
}

TEST(Config, AKeyGivenTwiceIsRefused) {
    auto c = parse_config("[server]\nworkers = 2\nworkers = 3\n[push]\nusername = gw\npassword = pw\n");
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().reason, "line 3: [server] workers: given twice");
}

TEST(Config, ASectionGivenTwiceIsRefused) {
    auto c = parse_config("[spool]\ndir = /a\n[push]\nusername = gw\npassword = pw\n[spool]\nmax_bytes = 2097152\n");
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().reason, "line 6: [spool]: section given twice");
}

TEST(Config, EveryDocumentedDefaultIsAValueTheParserTakesAndTheExampleShowsEveryKey) {
    std::string example = [] {
        std::ifstream in(std::string(TXTPUSH_SOURCE_DIR) + "/deploy/txtpushd.conf.example");
        std::ostringstream s;
        s << in.rdbuf();
        return s.str();
    }();
    for (const ConfigKeyDoc& k : config_key_docs()) {
        EXPECT_NE(example.find(std::string(k.name) + " ="), std::string::npos) << k.name;
        if (k.default_value.starts_with("(") || k.section == "push") continue;
        auto c = parse_config(fmt::format("[{}]\n{} = {}\n[push]\nusername = gw\npassword = pw\n", k.section, k.name,
                                          k.default_value));
        EXPECT_TRUE(c.ok()) << k.section << "." << k.name << ": " << c.error().reason;
    }
}

TEST(Config, AnIndentedLineIsRefusedNotTakenAsAContinuation) {
    auto c = parse_config("[push]\nusername = gw\npassword = pw\n  [server]\nworkers = 2\n");
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().reason, "line 4: indented line (start keys and sections at the beginning of the line)");
    auto commented = parse_config("\xEF\xBB\xBF[push]\n  ; an indented comment is fine\nusername = gw\npassword = pw\n");
    EXPECT_TRUE(commented.ok()) << commented.error().reason;
}

TEST(Config, DropInsAreReadInNameOrderAndOverrideTheMainFile) {
    auto dir = std::filesystem::temp_directory_path() / ("txtpush-conf-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir / "txtpushd.conf.d");
    std::ofstream(dir / "txtpushd.conf") << "[server]\nworkers = 2\n[database]\nconninfo = dbname=shipped\n";
    std::ofstream(dir / "txtpushd.conf.d" / "50-local.conf") << "[database]\nconninfo = dbname=moodle passfile=/x\n";
    std::ofstream(dir / "txtpushd.conf.d" / "90-last.conf") << "[server]\nworkers = 4\n";
    std::ofstream(dir / "txtpushd.conf.d" / "README") << "not a .conf: not read [nonsense\n";
    auto c = load_config((dir / "txtpushd.conf").string());
    ASSERT_TRUE(c.ok()) << c.error().reason;
    EXPECT_EQ(c->conninfo, "dbname=moodle passfile=/x");
    EXPECT_EQ(c->workers, 4);
    // A mistake in a drop-in is refused with its file and line.
    std::ofstream(dir / "txtpushd.conf.d" / "60-typo.conf") << "[server]\nworkrs = 3\n";
    auto bad = load_config((dir / "txtpushd.conf").string());
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().reason.find("60-typo.conf: line 2: [server] workrs: unknown key"), std::string::npos)
        << bad.error().reason;
    std::filesystem::remove_all(dir);
}
