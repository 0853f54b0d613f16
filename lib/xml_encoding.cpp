#include "xml_encoding.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace txtpush {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// The encoding="..." of an XML declaration at the start, or empty.
std::string declared_encoding(std::string_view xml) {
    if (!xml.starts_with("<?xml")) return {};
    std::string_view decl = xml.substr(0, std::min(xml.find("?>"), xml.size()));
    size_t at = decl.find("encoding");
    if (at == std::string_view::npos) return {};
    size_t quote = decl.find_first_of("\"'", at);
    if (quote == std::string_view::npos) return {};
    size_t end = decl.find(decl[quote], quote + 1);
    return end == std::string_view::npos ? std::string{} : lower(decl.substr(quote + 1, end - quote - 1));
}

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

Result<std::string> from_utf16(std::string_view bytes, bool big_endian) {
    if (bytes.size() % 2 != 0) return fail(ErrorKind::bad_input, "UTF-16 document with an odd number of bytes");
    auto unit = [&](size_t i) {
        auto hi = static_cast<unsigned char>(bytes[big_endian ? i : i + 1]);
        auto lo = static_cast<unsigned char>(bytes[big_endian ? i + 1 : i]);
        return static_cast<uint32_t>(hi << 8 | lo);
    };
    std::string out;
    out.reserve(bytes.size());
    for (size_t i = 0; i < bytes.size(); i += 2) {
        uint32_t cp = unit(i);
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 3 < bytes.size() && unit(i + 2) >= 0xDC00 && unit(i + 2) <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (unit(i + 2) - 0xDC00);
            i += 2;
        } else if (cp >= 0xD800 && cp <= 0xDFFF) {
            return fail(ErrorKind::bad_input, "UTF-16 document with an unpaired surrogate");
        }
        append_utf8(out, cp);
    }
    return out;
}

std::string from_latin1(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    for (char c : bytes) append_utf8(out, static_cast<unsigned char>(c));
    return out;
}

Error refused(std::string_view encoding) {
    return fail(ErrorKind::bad_input,
                fmt::format("encoding {} is not accepted: send the push as UTF-8", encoding));
}

}  // namespace

Result<Utf8Document> as_utf8(std::string_view xml) {
    auto starts = [&](std::string_view bytes) { return xml.substr(0, bytes.size()) == bytes; };
    using namespace std::string_view_literals;
    if (starts("\x00\x00\xFE\xFF"sv) || starts("\xFF\xFE\x00\x00"sv) || starts("\x00\x00\x00<"sv) ||
        starts("<\x00\x00\x00"sv))
        return refused("UTF-32");
    bool le_bom = starts("\xFF\xFE"sv), be_bom = starts("\xFE\xFF"sv);
    if (le_bom || be_bom || starts("<\x00"sv) || starts("\x00<"sv)) {
        auto text = from_utf16(xml.substr(le_bom || be_bom ? 2 : 0), be_bom || starts("\x00<"sv));
        if (!text) return text.error();
        Utf8Document doc{std::move(*text), {}};
        doc.text = doc.converted;
        return doc;
    }
    if (starts("\x4C\x6F\xA7\x94"sv)) return refused("EBCDIC");  // "<?xm" in EBCDIC
    std::string_view body = starts("\xEF\xBB\xBF"sv) ? xml.substr(3) : xml;
    std::string encoding = declared_encoding(body);
    if (encoding.empty() || encoding == "utf-8" || encoding == "utf8" || encoding == "us-ascii" ||
        encoding == "ascii")
        return Utf8Document{{}, body};
    if (encoding == "iso-8859-1" || encoding == "latin1" || encoding == "latin-1") {
        Utf8Document doc{from_latin1(body), {}};
        doc.text = doc.converted;
        return doc;
    }
    if (encoding == "utf-16" || encoding == "utf16") return refused("UTF-16 declared on 8-bit text");
    return refused(encoding);
}

}  // namespace txtpush
