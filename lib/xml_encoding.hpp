// A push document as UTF-8, whatever encoding it came in, before any parser
// or guard reads it: the guards before libxml2 (lib/xml_validator.cpp) scan
// bytes for `<`, quotes and `=`, which only means something in an encoding
// where those characters are those bytes. UTF-8 (with or without BOM),
// US-ASCII and ISO-8859-1 are taken, and UTF-16 in either byte order (by BOM
// or by its first characters) is converted; every other encoding (EBCDIC,
// UTF-32, Shift_JIS, ...) is refused with its name: the gateway sends UTF-8.
#pragma once

#include <string>
#include <string_view>

#include "result.hpp"

namespace txtpush {

struct Utf8Document {
    std::string converted;  // when the document was not UTF-8 already
    std::string_view text;  // the UTF-8 text: into `converted` or into the input
};

// The document as UTF-8, or bad_input naming the encoding refused.
Result<Utf8Document> as_utf8(std::string_view xml);

}  // namespace txtpush
