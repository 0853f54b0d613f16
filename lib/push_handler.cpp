#include "push_handler.hpp"

#include <strings.h>

#include <fmt/format.h>

#include "form.hpp"
#include "push_document.hpp"

namespace txtpush {

int64_t unix_now() {
    using namespace std::chrono;
    return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}


PushHandler::PushHandler(const Config& config, CredentialSource& credentials, PushValidator& validator,
                         PushSink& store, SpoolSink& spool, RefusedSink& quarantine, const Log& log, Clock clock,
                         PhaseObserver observer)
    : config_(config),
      credentials_(credentials),
      validator_(validator),
      store_(store),
      spool_(spool),
      quarantine_(quarantine),
      log_(log),
      clock_(std::move(clock)),
      observer_(std::move(observer)) {}

static bool is_form_post(std::string_view content_type) {
    constexpr std::string_view form = "application/x-www-form-urlencoded";
    if (content_type.empty()) return true;  // the gateway documents none; accept a bare body
    if (content_type.size() < form.size() || strncasecmp(content_type.data(), form.data(), form.size()) != 0)
        return false;
    return content_type.size() == form.size() || content_type[form.size()] == ';';
}

static std::string elapsed_ms(std::chrono::steady_clock::time_point since) {
    auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since).count();
    return fmt::format("{:.2f}", ms);
}

// The one place where what happened becomes an HTTP status.
static int http_status(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::bad_input: return 400;
        case ErrorKind::forbidden: return 403;
        case ErrorKind::method: return 405;
        case ErrorKind::too_large: return 413;
        case ErrorKind::transient:  // reached only when not even the spool could take the push
        case ErrorKind::misconfigured:  // the gateway keeps its copy and sends it again
        case ErrorKind::local_io: return 503;
        case ErrorKind::bug:
        case ErrorKind::not_found:
        case ErrorKind::permanent:
        case ErrorKind::config: return 500;
    }
    return 500;
}

// The outcome counted for an error that is not the push's own.
static Outcome outcome_of(ErrorKind kind, Outcome otherwise) {
    if (kind == ErrorKind::misconfigured) return Outcome::misconfigured;
    if (kind == ErrorKind::transient) return Outcome::unavailable;
    if (kind == ErrorKind::forbidden) return Outcome::disabled;
    return otherwise;
}

Response PushHandler::refuse(const Request& request, const Error& error, Outcome outcome) {
    int status = http_status(error.kind);
    // A database that is not what txtpush was migrated for is logged at error
    // once a minute (db_misconfigured), not with every push it refuses.
    bool alarming = status >= 500 && error.kind != ErrorKind::misconfigured;
    log_.write(alarming ? LogLevel::error : LogLevel::warn, "push_refused",
               {{"request_id", request.request_id},
                {"peer", request.peer},
                {"status", std::to_string(status)},
                {"outcome", outcome_name(outcome)},
                {"kind", error_kind_name(error.kind)},
                {"reason", error.reason},
                {"ms", elapsed_ms(started_)}});
    Response response{status, fmt::format("error: {}\n", error.reason), {}, outcome, std::nullopt};
    if (status == 405) response.headers.emplace_back("Allow", "POST");
    if (status == 503) response.headers.emplace_back("Retry-After", "30");
    return response;
}

// The database cannot take the push now: once it is durable in the spool the
// gateway gets 202 and the spooler stores it later; if not even that, 503.
Response PushHandler::spool(const Request& request, std::string_view xml, int64_t received, const Error& why) {
    enter(Phase::spooling);
    auto id = spool_.put(xml, received, request.request_id);
    if (!id)
        return refuse(request, fail(ErrorKind::local_io, fmt::format("{}; {}", why.reason, id.error().reason)),
                      Outcome::spool_failed);
    log_.warn("push_spooled", {{"request_id", request.request_id},
                               {"peer", request.peer},
                               {"status", "202"},
                               {"outcome", "spooled"},
                               {"spool_id", *id},
                               {"reason", why.reason},
                               {"ms", elapsed_ms(started_)}});
    return Response{202, fmt::format("accepted: spooled as {}, will be stored when the database is back\n", *id), {},
                    Outcome::spooled, std::nullopt};
}

Response PushHandler::handle_push(const Request& request) {
    started_ = request.arrived != std::chrono::steady_clock::time_point{} ? request.arrived
                                                                          : std::chrono::steady_clock::now();
    // The answer is due before request_timeout, when the master would end
    // the worker: half a second is left to spool the push if the database
    // has not taken it by then.
    Deadline deadline;
    if (config_.request_timeout > 0)
        deadline = started_ + std::chrono::seconds(config_.request_timeout) - std::chrono::milliseconds(500);

    if (request.method != "POST") return refuse(request, fail(ErrorKind::method, "only POST is accepted"), Outcome::method);
    if (request.body_too_large)
        return refuse(request, fail(ErrorKind::too_large, fmt::format("body larger than {} bytes", config_.body_limit)),
                      Outcome::too_large);
    if (!is_form_post(request.content_type))
        return refuse(request, fail(ErrorKind::bad_input, "expected an application/x-www-form-urlencoded form post"),
                      Outcome::content_type);

    enter(Phase::decoding);
    auto form = decode_push_form(request.body);
    if (!form) return refuse(request, form.error(), Outcome::form);

    // What was typed as the password never reaches a log line.
    enter(Phase::authenticating);
    auto credentials = credentials_.current(deadline);
    if (!credentials) return refuse(request, credentials.error(), outcome_of(credentials.error().kind, Outcome::unavailable));
    if (!credentials->accepts(form->u, form->p))
        return refuse(request, fail(ErrorKind::forbidden, "wrong push username or password"), Outcome::auth);

    enter(Phase::validating);
    auto doc = validator_.parse(form->x);
    if (!doc) {
        quarantine_.keep(form->x, doc.error().reason, request.peer, request.request_id);
        return refuse(request, doc.error(), Outcome::invalid_xml);
    }
    Push push = extract_push(**doc);

    enter(Phase::storing);
    int64_t received = clock_();
    auto stored = store_.store(push, received, request.request_id, deadline);
    if (!stored) {
        switch (stored.error().kind) {
            case ErrorKind::transient:  // the database cannot take it now
            case ErrorKind::bug:        // not the push's fault: kept until txtpushd can store it
                return spool(request, form->x, received, stored.error());
            case ErrorKind::misconfigured:  // it could never be stored here: the gateway keeps it
                return refuse(request, stored.error(), Outcome::misconfigured);
            default:  // its own values are refused
                quarantine_.keep(form->x, stored.error().reason, request.peer, request.request_id);
                return refuse(request, stored.error(), Outcome::store_failed);
        }
    }

    const StoreReport& r = *stored;
    log_.info("push_stored", {{"request_id", request.request_id},
                              {"peer", request.peer},
                              {"status", "200"},
                              {"outcome", "stored"},
                              {"statuses", std::to_string(r.statuses)},
                              {"statuses_new", std::to_string(r.statuses_new)},
                              {"inbound", std::to_string(r.inbound)},
                              {"inbox_rows_new", std::to_string(r.inbox_rows_new)},
                              {"unrouted", std::to_string(r.unrouted)},
                              {"senders_not_a_number", std::to_string(r.senders_not_a_number)},
                              {"ignored", std::to_string(push.ignored)},
                              {"implausible_numbers", std::to_string(r.implausible_numbers)},
                              {"truncated", std::to_string(r.truncated_values)},
                              {"ms", elapsed_ms(started_)}});
    return Response{200,
                    fmt::format("ok statuses={} statuses_new={} inbound={} inbox_rows_new={} unrouted={} ignored={}\n",
                                r.statuses, r.statuses_new, r.inbound, r.inbox_rows_new, r.unrouted, push.ignored),
                    {},
                    Outcome::stored,
                    r};
}

}  // namespace txtpush
