#include "spool_replay.hpp"

#include "push_document.hpp"

namespace txtpush {

namespace {

enum class Outcome { stored, database_down, unstorable };

Outcome replay_one(const SpooledPush& item, PushValidator& validator, PushStore& store, Error& why) {
    auto doc = validator.parse(item.xml);
    if (!doc) {
        why = doc.error();
        return Outcome::unstorable;
    }
    auto stored = store.store(extract_push(**doc), item.received, item.request_id);
    if (stored) return Outcome::stored;
    why = stored.error();
    return why.kind == ErrorKind::transient ? Outcome::database_down : Outcome::unstorable;
}

}  // namespace

ReplayResult replay_spool(Spool& spool, Quarantine& quarantine, PushValidator& validator, PushStore& store,
                          const Log& log, size_t max_pushes) {
    ReplayResult result;
    auto files = spool.list();
    size_t done = 0;
    for (const auto& file : files) {
        if (done == max_pushes) break;
        auto item = spool.read(file.name);
        if (!item && item.error().kind == ErrorKind::not_found) {  // replayed meanwhile by another process
            ++done;
            continue;
        }
        Error why;
        Outcome outcome = Outcome::unstorable;
        if (item) {
            outcome = replay_one(*item, validator, store, why);
        } else {
            why = item.error();
        }
        if (outcome == Outcome::database_down) {
            result.database_down = true;
            break;
        }
        ++done;
        if (outcome == Outcome::stored) {
            spool.remove(file.name);
            ++result.stored;
            log.info("spool_replayed", {{"spool_id", file.name}, {"request_id", item->request_id}});
            continue;
        }
        // Kept for the operator rather than retried for ever.
        quarantine.keep(item ? item->xml : std::string{}, why.reason, "spool", item ? item->request_id : "");
        spool.remove(file.name);
        ++result.quarantined;
        log.error("spool_unstorable", {{"spool_id", file.name}, {"reason", why.reason}});
    }
    result.remaining = files.size() - done;
    return result;
}

}  // namespace txtpush
