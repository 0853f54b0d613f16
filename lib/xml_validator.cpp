#include "xml_validator.hpp"

#include <libxml/xmlerror.h>

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "xml_encoding.hpp"

namespace txtpush {

namespace {

// Keeps the first error libxml2 reports while it is installed.
struct FirstError {
    bool set = false;
    int line = 0;
    std::string message;

    static void collect(void* self, xmlError* error) {
        auto* me = static_cast<FirstError*>(self);
        if (me->set || error == nullptr || error->level == XML_ERR_WARNING) return;
        me->set = true;
        me->line = error->line;
        me->message = error->message ? error->message : "unknown error";
        for (char& c : me->message)
            if (c == '\n') c = ' ';
        while (!me->message.empty() && me->message.back() == ' ') me->message.pop_back();
    }

    Error as_error(std::string_view fallback) const {
        if (!set) return fail(ErrorKind::bad_input, std::string(fallback));
        return fail(ErrorKind::bad_input, fmt::format("line {}: {}", line, message));
    }
};

// Routes libxml2's thread-global structured errors to a FirstError for the
// lifetime of this guard.
class ErrorCapture {
public:
    explicit ErrorCapture(FirstError& sink) { xmlSetStructuredErrorFunc(&sink, &FirstError::collect); }
    ~ErrorCapture() { xmlSetStructuredErrorFunc(nullptr, nullptr); }
    ErrorCapture(const ErrorCapture&) = delete;
    ErrorCapture& operator=(const ErrorCapture&) = delete;
};

struct DoctypeSeen {
    bool seen = false;
    int line = 0;
};

// SAX hook called at `<!DOCTYPE`: stop before any declaration is read.
void refuse_doctype(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*) {
    auto* ctxt = static_cast<xmlParserCtxt*>(ctx);
    auto* seen = static_cast<DoctypeSeen*>(ctxt->_private);
    if (seen != nullptr) {
        seen->seen = true;
        seen->line = xmlSAX2GetLineNumber(ctx);
    }
    xmlStopParser(ctxt);
}

xmlParserInputPtr refuse_external_entity(const char*, const char*, xmlParserCtxtPtr) { return nullptr; }

struct SchemaParserCtxtFree {
    void operator()(xmlSchemaParserCtxt* c) const { xmlSchemaFreeParserCtxt(c); }
};

// The text reaches libxml2 as UTF-8 (lib/xml_encoding), so a declared
// encoding is not followed again.
constexpr int kParseOptions = XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOWARNING | XML_PARSE_IGNORE_ENC;

// libxml2 2.9 checks an element's attributes for duplicates in O(n^2): a
// megabyte of attributes costs seconds of CPU. One linear pass refuses an
// element with more than kMaxAttributes before libxml2 sees it. Comments,
// CDATA and processing instructions are skipped; quoted values may hold
// anything. It reads the UTF-8 text libxml2 will read, where `<`, quotes and
// `=` are those bytes and no other.
constexpr size_t kMaxAttributes = 64;

std::optional<Error> too_many_attributes(std::string_view xml) {
    auto skip_past = [&](size_t from, std::string_view end) {
        size_t at = xml.find(end, from);
        return at == std::string_view::npos ? xml.size() : at + end.size();
    };
    for (size_t i = xml.find('<'); i < xml.size(); i = xml.find('<', i)) {
        std::string_view rest = xml.substr(i);
        if (rest.starts_with("<!--")) { i = skip_past(i + 4, "-->"); continue; }
        if (rest.starts_with("<![CDATA[")) { i = skip_past(i + 9, "]]>"); continue; }
        if (rest.starts_with("<?")) { i = skip_past(i + 2, "?>"); continue; }
        size_t start = i, attributes = 0;
        char quote = 0;
        for (++i; i < xml.size(); ++i) {
            char c = xml[i];
            if (quote) quote = c == quote ? 0 : quote;
            else if (c == '"' || c == '\'') quote = c;
            else if (c == '=') ++attributes;
            else if (c == '>') break;
        }
        if (attributes > kMaxAttributes) {
            auto line = 1 + std::count(xml.begin(), xml.begin() + static_cast<std::ptrdiff_t>(start), '\n');
            return fail(ErrorKind::bad_input,
                        fmt::format("line {}: an element has more than {} attributes", line, kMaxAttributes));
        }
    }
    return std::nullopt;
}

}  // namespace

void harden_libxml2() {
    xmlInitParser();
    xmlSetExternalEntityLoader(refuse_external_entity);
}

Result<PushValidator> PushValidator::compile(std::string_view xsd) {
    FirstError first;
    ErrorCapture capture(first);
    std::unique_ptr<xmlSchemaParserCtxt, SchemaParserCtxtFree> pctxt(
        xmlSchemaNewMemParserCtxt(xsd.data(), static_cast<int>(xsd.size())));
    if (!pctxt) return fail(ErrorKind::config, "cannot create schema parser");
    PushValidator v;
    v.schema_.reset(xmlSchemaParse(pctxt.get()));
    if (!v.schema_) return first.as_error("cannot compile the push schema");
    v.valid_.reset(xmlSchemaNewValidCtxt(v.schema_.get()));
    v.parser_.reset(xmlNewParserCtxt());
    if (!v.valid_ || !v.parser_) return fail(ErrorKind::config, "out of memory creating XML contexts");
    v.parser_->sax->internalSubset = refuse_doctype;
    return v;
}

Result<PushValidator> PushValidator::compile_builtin() { return compile(builtin_push_xsd()); }

Result<XmlDocPtr> PushValidator::parse(std::string_view xml) {
    if (xml.size() > static_cast<size_t>(INT32_MAX) / 2) return fail(ErrorKind::too_large, "document too large");
    auto utf8 = as_utf8(xml);
    if (!utf8) return utf8.error();
    xml = utf8->text;
    if (auto refused = too_many_attributes(xml)) return *refused;
    FirstError first;
    ErrorCapture capture(first);
    DoctypeSeen doctype;
    parser_->_private = &doctype;
    XmlDocPtr doc(xmlCtxtReadMemory(parser_.get(), xml.data(), static_cast<int>(xml.size()), "push.xml",
                                    "UTF-8", kParseOptions));
    parser_->_private = nullptr;
    if (doctype.seen) return fail(ErrorKind::bad_input, fmt::format("line {}: a DOCTYPE is not allowed in a push", doctype.line));
    if (!doc || !parser_->wellFormed) return first.as_error("document is not well-formed XML");
    xmlSchemaSetValidStructuredErrors(valid_.get(), &FirstError::collect, &first);
    int rc = xmlSchemaValidateDoc(valid_.get(), doc.get());
    xmlSchemaSetValidStructuredErrors(valid_.get(), nullptr, nullptr);
    if (rc != 0) return first.as_error("document does not match the push schema");
    return doc;
}

}  // namespace txtpush
