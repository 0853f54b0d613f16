#include "spool_replay.hpp"

#include "push_document.hpp"

namespace txtpush {

namespace {

// What to do with one spooled push, decided from the kind of its error.
enum class Verdict { stored, wait_for_database, set_aside, keep, gone };

Verdict replay_one(const Spool& spool, const QueuedFile& file, PushValidator& validator, PushStore& store,
                   Error& why) {
    auto item = spool.read(file.name);
    if (!item) {
        why = item.error();
        switch (why.kind) {
            case ErrorKind::not_found: return Verdict::gone;       // replayed meanwhile by another process
            case ErrorKind::permanent: return Verdict::set_aside;  // not a spool file: never storable
            default: return Verdict::keep;                         // cannot read it now: try again later
        }
    }
    auto doc = validator.parse(item->xml);
    if (!doc) {  // it passed this schema when it was spooled: the schema changed since
        why = doc.error();
        return Verdict::set_aside;
    }
    auto stored = store.store(extract_push(**doc), item->received, item->request_id);
    if (stored) return Verdict::stored;
    why = stored.error();
    switch (why.kind) {
        case ErrorKind::permanent: return Verdict::set_aside;  // its own values are refused
        case ErrorKind::bug: return Verdict::keep;             // tried again later; the others go on
        default: return Verdict::wait_for_database;
    }
}

}  // namespace

ReplayResult replay_spool(Spool& spool, PushValidator& validator, PushStore& store, const Log& log,
                          const std::function<bool()>& stop) {
    ReplayResult result;
    auto files = spool.list();
    result.listed = files.size();
    size_t done = 0;
    for (; done < files.size() && !stop(); ++done) {
        const QueuedFile& file = files[done];
        Error why;
        switch (replay_one(spool, file, validator, store, why)) {
            case Verdict::stored:
                spool.remove(file);
                ++result.stored;
                log.info("spool_replayed", {{"spool_id", file.name}});
                break;
            case Verdict::wait_for_database:
                result.database_down = true;
                result.waiting = why;
                result.remaining = files.size() - done;
                return result;
            case Verdict::set_aside:
                if (auto moved = spool.set_aside(file, why.reason); moved) {
                    ++result.set_aside;
                    log.error("spool_unstorable", {{"spool_id", file.name},
                                                   {"kind", error_kind_name(why.kind)},
                                                   {"reason", why.reason},
                                                   {"kept_in", spool.dir() + "/unstorable"}});
                } else {
                    ++result.kept;
                    log.error("spool_set_aside_failed", {{"spool_id", file.name}, {"error", moved.error().reason}});
                }
                break;
            case Verdict::keep:
                ++result.kept;
                log.error(why.kind == ErrorKind::bug ? "spool_replay_failed" : "spool_read_failed",
                          {{"spool_id", file.name}, {"error", why.reason}});
                break;
            case Verdict::gone:
                break;
        }
    }
    result.remaining = files.size() - done;
    return result;
}

}  // namespace txtpush
