#include "db_names.hpp"

#include "text.hpp"

namespace txtpush {

std::string with_names(std::string_view sql, const DbNames& names) {
    return replace_all(replace_all(sql, "{prefix}", names.prefix), "{schema}", names.schema);
}

}  // namespace txtpush
