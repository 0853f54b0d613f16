// What the database took of one push: the store returns it, the handler logs
// and answers it, the metrics count it. Plain data, no database code.
#pragma once

#include <cstddef>

namespace txtpush {

struct StoreReport {
    size_t statuses = 0;         // status updates in the push (after de-duplication)
    size_t statuses_new = 0;     // rows actually inserted
    size_t inbound = 0;          // inbound SMS in the push
    size_t inbox_rows = 0;       // inbox rows routing asked for (one per receiving user)
    size_t inbox_rows_new = 0;   // of those, rows actually inserted
    size_t unrouted = 0;         // inbound SMS kept in txtpush.unrouted
    size_t senders_not_a_number = 0;  // of those, kept because the sender is not a phone number
    size_t implausible_numbers = 0;
    size_t truncated_values = 0;  // texts cut to their column's length
};

}  // namespace txtpush
