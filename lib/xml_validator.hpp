// Parsing and XSD validation of a push document with libxml2.
//
// The document is hostile until validated: no network, no DTD of any kind
// (a DOCTYPE stops the parser on sight, so entities are never declared, let
// alone expanded), no external entity loading, libxml2's default depth and
// size limits (XML_PARSE_HUGE never set).
#pragma once

#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#include <memory>
#include <string>
#include <string_view>

#include "result.hpp"

namespace txtpush {

struct XmlDocFree { void operator()(xmlDoc* d) const { xmlFreeDoc(d); } };
struct XmlParserCtxtFree { void operator()(xmlParserCtxt* c) const { xmlFreeParserCtxt(c); } };
struct XmlSchemaFree { void operator()(xmlSchema* s) const { xmlSchemaFree(s); } };
struct XmlSchemaValidCtxtFree { void operator()(xmlSchemaValidCtxt* c) const { xmlSchemaFreeValidCtxt(c); } };

using XmlDocPtr = std::unique_ptr<xmlDoc, XmlDocFree>;

// Process-wide libxml2 hardening: refuse every external entity load. Call once
// at start-up, before any document is parsed.
void harden_libxml2();

// The XSD compiled once; validates any number of documents, one at a time
// (one validator per worker process).
class PushValidator {
public:
    // Compiles the schema text (the project's push.xsd, built into the binary).
    static Result<PushValidator> compile(std::string_view xsd);
    // Compiles the push.xsd that ships inside the binary.
    static Result<PushValidator> compile_builtin();

    // Parses and validates. On failure the Error carries 400 and the first
    // problem as "line N: message".
    Result<XmlDocPtr> parse(std::string_view xml);

private:
    std::unique_ptr<xmlSchema, XmlSchemaFree> schema_;
    std::unique_ptr<xmlSchemaValidCtxt, XmlSchemaValidCtxtFree> valid_;
    std::unique_ptr<xmlParserCtxt, XmlParserCtxtFree> parser_;
};

// The XSD text compiled into the binary (generated from lib/push.xsd).
std::string_view builtin_push_xsd();

}  // namespace txtpush
