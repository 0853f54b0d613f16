// Where txtpush's SQL points: Moodle's table prefix and txtpush's own schema.
#pragma once

#include <string>
#include <string_view>

namespace txtpush {

struct DbNames {
    std::string prefix = "mdl_";     // Moodle's tables: {prefix}block_moodletxt_status, ...
    std::string schema = "txtpush";  // txtpush's objects: {schema}.status_ledger, ...
};

// `sql` with {prefix} and {schema} replaced.
std::string with_names(std::string_view sql, const DbNames& names);

}  // namespace txtpush
