#include "push_document.hpp"

#include <charconv>
#include <cstring>
#include <string_view>

#include "text.hpp"

namespace txtpush {

namespace {

std::string_view name_of(const xmlNode* node) { return reinterpret_cast<const char*>(node->name); }

bool blank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

// Concatenated text and CDATA children, untrimmed. Around a CDATA section,
// text that is only white space is the document's indentation, not the value.
std::string raw_text_of(const xmlNode* element) {
    bool has_cdata = false;
    for (const xmlNode* c = element->children; c != nullptr; c = c->next) has_cdata |= c->type == XML_CDATA_SECTION_NODE;
    std::string out;
    for (const xmlNode* c = element->children; c != nullptr; c = c->next) {
        if ((c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE) || c->content == nullptr) continue;
        std::string_view content = reinterpret_cast<const char*>(c->content);
        if (has_cdata && c->type == XML_TEXT_NODE && blank(content)) continue;
        out += content;
    }
    return out;
}

// The same, trimmed: every value but an inbound sender's.
std::string text_of(const xmlNode* element) { return trim(raw_text_of(element)); }

// The schema has already checked range and syntax; this only converts.
int64_t integer_of(const xmlNode* element) {
    std::string s = text_of(element);
    int64_t value = 0;
    const char* begin = s.data();
    if (!s.empty() && s[0] == '+') ++begin;
    std::from_chars(begin, s.data() + s.size(), value);
    return value;
}

template <class Visit>
void for_each_element(const xmlNode* parent, Visit visit) {
    for (const xmlNode* c = parent->children; c != nullptr; c = c->next)
        if (c->type == XML_ELEMENT_NODE) visit(c, name_of(c));
}

StatusUpdate status_of(const xmlNode* element) {
    StatusUpdate s;
    for_each_element(element, [&](const xmlNode* c, std::string_view name) {
        if (name == "Ticket") s.ticket = integer_of(c);
        else if (name == "Status") s.status = static_cast<int>(integer_of(c));
        else if (name == "StatusMessage") s.message = text_of(c);
        else if (name == "Phone") s.phone = text_of(c);
    });
    return s;
}

InboundSms inbound_of(const xmlNode* element) {
    InboundSms m;
    for_each_element(element, [&](const xmlNode* c, std::string_view name) {
        if (name == "Ticket") m.ticket = integer_of(c);
        else if (name == "MessageText") m.text = text_of(c);
        else if (name == "Phone") m.phone = raw_text_of(c);
        else if (name == "Date") m.date = integer_of(c);
        else if (name == "Destination") m.destination = text_of(c);
        else if (name == "DestinationAccount") m.account = text_of(c);
    });
    return m;
}

}  // namespace

Push extract_push(const xmlDoc& doc) {
    Push push;
    const xmlNode* root = xmlDocGetRootElement(&doc);
    if (root == nullptr) return push;
    for_each_element(root, [&](const xmlNode* c, std::string_view name) {
        if (name == "MessageStatus") push.statuses.push_back(status_of(c));
        else if (name == "InboundMessage") push.inbound.push_back(inbound_of(c));
        else ++push.ignored;
    });
    return push;
}

}  // namespace txtpush
