#include "grants.hpp"

#include <fmt/format.h>

#include "text.hpp"

namespace txtpush {

namespace {

std::string quoted_identifier(std::string_view name) { return "\"" + replace_all(name, "\"", "\"\"") + "\""; }

std::string joined(const std::vector<std::string_view>& items, std::string_view before = "",
                   std::string_view after = "") {
    std::string out;
    for (std::string_view item : items) out += fmt::format("{}{}{}{}", out.empty() ? "" : ", ", before, item, after);
    return out;
}

}  // namespace

const std::vector<ColumnsRead>& moodle_columns_read() {
    // Kept with the statements (lib/store_statements.cpp, the directory's
    // functions in sql/migrations): a column missing here fails the store
    // suite's runtime-role tests with 42501.
    static const std::vector<ColumnsRead> all = {
        {"user", {"id", "deleted", "firstname", "lastname", "phone1", "phone2"}},
        {"block_moodletxt_accounts", {"id", "username", "defaultuser", "inboundenabled"}},
        {"block_moodletxt_filter", {"id", "account", "type", "value"}},
        {"block_moodletxt_in_fil", {"filter", "userid"}},
        {"block_moodletxt_ab", {"id", "type", "owner"}},
        {"block_moodletxt_ab_entry", {"id", "addressbook", "firstname", "lastname", "phoneno"}},
        {"block_moodletxt_status", {"ticketnumber", "status"}},
        {"block_moodletxt_inbox", {"id", "ticket", "userid", "timereceived"}},
    };
    return all;
}

const std::vector<std::string_view>& moodle_tables_written() {
    static const std::vector<std::string_view> all = {"block_moodletxt_status", "block_moodletxt_inbox",
                                                      "block_moodletxt_in_u", "block_moodletxt_in_ab"};
    return all;
}

const std::vector<std::string_view>& moodle_tables_revoked() {
    static const std::vector<std::string_view> all = {
        "config_plugins",         "user",                   "block_moodletxt_accounts", "block_moodletxt_filter",
        "block_moodletxt_in_fil", "block_moodletxt_ab",     "block_moodletxt_ab_entry", "block_moodletxt_status",
        "block_moodletxt_inbox",  "block_moodletxt_in_u",   "block_moodletxt_in_ab"};
    return all;
}

const std::vector<OwnGrant>& own_grants() {
    static const std::vector<OwnGrant> all = {
        {"SELECT", "TABLE", {"schema_version"}},
        {"SELECT, INSERT", "TABLE", {"status_ledger", "inbound_ledger", "flags"}},
        {"SELECT, INSERT, UPDATE", "TABLE", {"unrouted"}},
        {"SELECT, INSERT, DELETE", "TABLE", {"phone_directory", "phone_directory_buckets"}},
        {"SELECT, UPDATE", "TABLE", {"phone_directory_state", "inbox_watch"}},
        {"USAGE", "SEQUENCE", {"unrouted_id_seq", "flags_id_seq"}},
        // MoodleTxt's settings, only those txtpushd uses, through a SECURITY DEFINER function.
        {"EXECUTE", "FUNCTION",
         {"moodletxt_settings()", "phone(text, text, text)", "phone_key(text)", "directory_fingerprint()",
          "directory_buckets()", "refresh_phone_directory()",
          "directory_due(double precision)"}},
    };
    return all;
}

std::string grants_sql(const DbNames& n, std::string_view role) {
    const std::string r = quoted_identifier(role);
    const std::string& p = n.prefix;
    std::string sql = fmt::format(
        "-- txtpushd as {0}: reads the routing columns it names, writes four MoodleTxt tables and its own\n"
        "-- schema {1}. Run as the owner of Moodle's tables (the role that ran txtpushd migrate).\n"
        "BEGIN;\n"
        "-- What earlier versions granted (whole tables, config_plugins) is taken back first.\n"
        "REVOKE ALL ON {2} FROM {0};\n",
        r, n.schema, joined(moodle_tables_revoked(), p));
    for (const ColumnsRead& t : moodle_columns_read())
        sql += fmt::format("GRANT SELECT ({}) ON {}{} TO {};\n", joined(t.columns), p, t.table, r);
    sql += fmt::format("GRANT INSERT ON {} TO {};\n", joined(moodle_tables_written(), p), r);
    sql += fmt::format("GRANT USAGE ON SEQUENCE {} TO {};\n", joined(moodle_tables_written(), p, "_id_seq"), r);
    sql += fmt::format(
        "GRANT USAGE ON SCHEMA {1} TO {0};\n"
        "-- The phone directory's refresh uses temporary tables (PUBLIC has this right unless revoked).\n"
        "DO $$ BEGIN EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO {2}', current_database()); END $$;\n",
        r, n.schema, replace_all(r, "'", "''"));
    const std::string prefix = n.schema + ".";
    for (const OwnGrant& g : own_grants())
        sql += fmt::format("GRANT {} ON {} {} TO {};\n", g.privileges, g.kind, joined(g.objects, prefix), r);
    return sql + "COMMIT;\n";
}

}  // namespace txtpush
