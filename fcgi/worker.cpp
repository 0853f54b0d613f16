#include "worker.hpp"

#include <fcgiapp.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "push_handler.hpp"
#include "push_store.hpp"
#include "listen_socket.hpp"
#include "spool.hpp"
#include "signals.hpp"

namespace txtpush {

namespace {

std::string_view param(FCGX_Request& req, const char* name) {
    const char* v = FCGX_GetParam(name, req.envp);
    return v ? std::string_view(v) : std::string_view{};
}

// Reads at most limit+1 bytes into `body` (reused across requests), then
// discards the rest so the connection closes cleanly. libfcgi never checks
// CONTENT_LENGTH, so the cap is enforced here.
bool read_body(FCGX_Request& req, size_t limit, std::string& body) {
    body.clear();
    char chunk[16384];
    size_t total = 0;
    for (int n; (n = FCGX_GetStr(chunk, sizeof(chunk), req.in)) > 0;) {
        total += static_cast<size_t>(n);
        if (body.size() <= limit) body.append(chunk, std::min<size_t>(static_cast<size_t>(n), limit + 1 - body.size()));
    }
    return total <= limit;
}

const char* reason_phrase(int status) {
    switch (status) {
        case 200: return "OK";
        case 202: return "Accepted";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 413: return "Payload Too Large";
        case 503: return "Service Unavailable";
        default: return status >= 500 ? "Internal Server Error" : "Error";
    }
}

void write_response(FCGX_Request& req, const Response& response) {
    std::string head = fmt::format("Status: {} {}\r\n", response.status, reason_phrase(response.status));
    bool typed = false;
    for (const auto& [name, value] : response.headers) {
        head += fmt::format("{}: {}\r\n", name, value);
        typed |= name == "Content-Type";
    }
    if (!typed) head += "Content-Type: text/plain; charset=utf-8\r\n";
    head += fmt::format("Content-Length: {}\r\n\r\n", response.body.size());
    FCGX_PutStr(head.data(), static_cast<int>(head.size()), req.out);
    FCGX_PutStr(response.body.data(), static_cast<int>(response.body.size()), req.out);
}

// One accepted request; finishing it (flush, close) is tied to scope.
class AcceptedRequest {
public:
    explicit AcceptedRequest(FCGX_Request& req) : req_(req) {}
    ~AcceptedRequest() { FCGX_Finish_r(&req_); }
    AcceptedRequest(const AcceptedRequest&) = delete;
    AcceptedRequest& operator=(const AcceptedRequest&) = delete;

private:
    FCGX_Request& req_;
};

// libfcgi's request struct, freed with the worker.
class FcgiRequest {
public:
    explicit FcgiRequest(int listen_fd) { FCGX_InitRequest(&req_, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR); }
    ~FcgiRequest() { FCGX_Free(&req_, 1); }
    FcgiRequest(const FcgiRequest&) = delete;
    FcgiRequest& operator=(const FcgiRequest&) = delete;
    FCGX_Request& get() { return req_; }

private:
    FCGX_Request req_{};
};

Response status_page(Scoreboard& board, int listen_fd) {
    PoolGauges gauges = board.gauges();
    gauges.listen_queue = listen_queue_length(listen_fd);
    Response r{200, render_prometheus(board.metrics, gauges), {}, Outcome::stored, std::nullopt};
    r.headers.emplace_back("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    return r;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

// The config's push credentials, or MoodleTxt's read through this worker's connection.
static std::unique_ptr<CredentialSource> credential_source(const Config& config, PushStore& store, const Log& log) {
    if (config.credentials.configured()) return std::make_unique<ConfiguredCredentials>(config.credentials);
    return std::make_unique<MoodleTxtCredentials>([&store](Deadline d) { return store.read_moodletxt_settings(d); }, log,
                                                  config.spool_dir + "/push-credentials");
}

int run_worker(int listen_fd, const Config& config, PushValidator& validator, Scoreboard& board, WorkerSlot& slot,
               const Log& log) {
    install_stop_handlers();
    if (FCGX_Init() != 0) {
        log.error("fcgi_init_failed");
        return 1;
    }
    // No database connection before accepting: with the database down, pushes
    // are spooled at once; the first request connects.
    BoardInboxFloor inbox_floor(board, slot.generation.load());
    PushStore store(store_options(config), log);
    store.share_inbox_floor(&inbox_floor);
    Spool spool(config.spool_dir, config.spool_max_bytes, &board.spool, board.index_of(slot));
    Quarantine quarantine(config.quarantine_dir, config.quarantine_max_files, config.quarantine_max_bytes);
    std::unique_ptr<CredentialSource> credentials = credential_source(config, store, log);
    PushHandler handler(config, *credentials, validator, store, spool, quarantine, log, unix_now,
                        [&slot](Phase p) { slot.phase.store(static_cast<int>(p)); });
    FcgiRequest fcgi(listen_fd);
    FCGX_Request& req = fcgi.get();
    std::string body;
    unsigned long served = 0;
    slot.state.store(static_cast<int>(SlotState::idle));

    while (!stop_requested()) {
        int accepted_rc = FCGX_Accept_r(&req);
        int accept_errno = errno;
        log_signals_received(log);
        if (accepted_rc < 0) {
            if (stop_requested() || accept_errno == EINTR) continue;
            log.error("fcgi_accept_failed", {{"error", std::strerror(accept_errno)}});
            return 1;
        }
        StopSignalsHeld held;  // declared before `accepted`: released after the answer is flushed
        AcceptedRequest accepted(req);
        std::string_view uri = param(req, "DOCUMENT_URI");
        if (uri == "/txtpush-ping") {
            write_response(req, Response{200, "pong\n", {}, Outcome::stored, std::nullopt});
            continue;
        }
        if (uri == "/txtpush-status") {
            write_response(req, status_page(board, listen_fd));
            continue;
        }
        std::string request_id(param(req, "REQUEST_ID"));
        if (request_id.empty()) request_id = fmt::format("{}-{}", ::getpid(), served);
        auto started = std::chrono::steady_clock::now();
        board.mark_busy(slot, request_id.c_str());
        slot.phase.store(static_cast<int>(Phase::reading));
        bool fits = read_body(req, config.body_limit, body);
        Request request{param(req, "REQUEST_METHOD"), param(req, "CONTENT_TYPE"), body, !fits,
                        param(req, "REMOTE_ADDR"), request_id, started};
        Response response = handler.handle_push(request);
        write_response(req, response);
        board.metrics.count_request(response.outcome, response.stored ? &*response.stored : nullptr,
                                    seconds_since(started));
        if (response.outcome == Outcome::stored || response.outcome == Outcome::misconfigured)
            board.note_database(response.outcome == Outcome::misconfigured);
        slot.db_connected.store(store.connected());
        board.mark_idle(slot);
        if (config.max_requests > 0 && ++served >= config.max_requests) {
            slot.state.store(static_cast<int>(SlotState::stopping));
            return kExitRecycled;
        }
    }
    slot.state.store(static_cast<int>(SlotState::stopping));
    return 0;
}

}  // namespace txtpush
