// The typed content of a validated push document.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <libxml/tree.h>

namespace txtpush {

// <MessageStatus>: a delivery report for an SMS sent earlier.
struct StatusUpdate {
    int64_t ticket = 0;
    int status = 0;
    std::string message;
    std::string phone;
};

// <InboundMessage>: an SMS a phone sent to one of the customer's numbers.
struct InboundSms {
    int64_t ticket = 0;
    std::string text;
    // As received, untrimmed: a leading space may be a `+` lost to form
    // decoding. Only the document's indentation around a CDATA section is left out.
    std::string phone;
    int64_t date = 0;   // Unix seconds, UTC
    std::string destination;
    std::string account;
};

struct Push {
    std::vector<StatusUpdate> statuses;
    std::vector<InboundSms> inbound;
    int ignored = 0;  // Error, AccountDetail and the other elements a push need not carry

    size_t items() const { return statuses.size() + inbound.size(); }
};

// Reads the records out of a document that passed PushValidator. Every text
// value is trimmed: the gateway pads its CDATA with newlines and indentation.
Push extract_push(const xmlDoc& doc);

}  // namespace txtpush
