// What txtpushd's runtime role may do, and `txtpushd grants ROLE` prints:
// on Moodle's tables, SELECT on exactly the columns its statements name
// (never user.password, block_moodletxt_accounts.password or config_plugins:
// the plugin's settings come through {schema}.moodletxt_settings()), INSERT
// on the four tables a push writes; everything on txtpush's own schema.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "db_names.hpp"

namespace txtpush {

struct ColumnsRead {
    std::string_view table;  // without prefix
    std::vector<std::string_view> columns;
};

// Every Moodle column a statement of txtpushd reads, by table.
const std::vector<ColumnsRead>& moodle_columns_read();

// The Moodle tables a push inserts into (without prefix).
const std::vector<std::string_view>& moodle_tables_written();

// Moodle tables on which earlier versions granted more than now (whole-table
// SELECT): `grants` revokes everything there first.
const std::vector<std::string_view>& moodle_tables_revoked();

// What the role gets on txtpush's own schema: `privileges` on each object
// (tables, sequences or functions, without the schema); `txtpushd check`
// tests each privilege of each object from this same list.
struct OwnGrant {
    std::string_view privileges;  // "SELECT, INSERT"
    std::string_view kind;        // TABLE, SEQUENCE or FUNCTION
    std::vector<std::string_view> objects;
};
const std::vector<OwnGrant>& own_grants();

// The REVOKEs and GRANTs, one transaction, to run as the owner of Moodle's tables.
std::string grants_sql(const DbNames& names, std::string_view role);

}  // namespace txtpush
