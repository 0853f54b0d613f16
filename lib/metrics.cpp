#include "metrics.hpp"

#include "version.hpp"

#include <fmt/format.h>

namespace txtpush {

namespace {

constexpr std::string_view kOutcomeNames[] = {"stored",       "spooled",      "method",      "too_large",
                                              "content_type", "form",         "auth",        "invalid_xml",
                                              "store_failed", "spool_failed", "unavailable", "disabled",
                                              "db_misconfigured"};
static_assert(std::size(kOutcomeNames) == static_cast<size_t>(Outcome::kCount));

uint64_t load(const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); }

void add(std::atomic<uint64_t>& a, uint64_t n) { a.fetch_add(n, std::memory_order_relaxed); }

void metric(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

// A metric with no labels: its help, type and value.
void single(std::string& out, std::string_view name, std::string_view type, std::string_view help, uint64_t value) {
    metric(out, name, type, help);
    out += fmt::format("{} {}\n", name, value);
}

}  // namespace

std::string_view outcome_name(Outcome o) { return kOutcomeNames[static_cast<size_t>(o)]; }

bool is_refusal(Outcome o) { return o != Outcome::stored && o != Outcome::spooled; }

void Metrics::count_request(Outcome outcome, const StoreReport* stored, double seconds) {
    add(requests[static_cast<size_t>(outcome)], 1);
    size_t bucket = 0;
    while (bucket < kLatencyBuckets.size() && seconds > kLatencyBuckets[bucket]) ++bucket;
    add(latency[bucket], 1);
    add(latency_sum_us, static_cast<uint64_t>(seconds * 1e6));
    if (stored == nullptr) return;
    add(statuses_stored, stored->statuses_new);
    add(statuses_duplicate, stored->statuses - stored->statuses_new);
    add(inbox_rows_stored, stored->inbox_rows_new);
    add(inbox_rows_duplicate, stored->inbox_rows - stored->inbox_rows_new);
    add(inbound_received, stored->inbound);
    add(unrouted, stored->unrouted);
    add(senders_not_a_number, stored->senders_not_a_number);
    add(implausible_numbers, stored->implausible_numbers);
    add(truncated_values, stored->truncated_values);
}

std::string render_prometheus(const Metrics& m, const PoolGauges& g) {
    std::string out;
    metric(out, "txtpush_requests_total", "counter", "Push requests by outcome.");
    for (size_t i = 0; i < m.requests.size(); ++i)
        out += fmt::format("txtpush_requests_total{{outcome=\"{}\"}} {}\n", kOutcomeNames[i], load(m.requests[i]));
    metric(out, "txtpush_refusals_total", "counter", "Refused push requests by reason.");
    for (size_t i = 0; i < m.requests.size(); ++i)
        if (is_refusal(static_cast<Outcome>(i)))
            out += fmt::format("txtpush_refusals_total{{reason=\"{}\"}} {}\n", kOutcomeNames[i], load(m.requests[i]));
    metric(out, "txtpush_items_stored_total", "counter", "Rows newly stored, by kind.");
    out += fmt::format("txtpush_items_stored_total{{kind=\"status\"}} {}\n", load(m.statuses_stored));
    out += fmt::format("txtpush_items_stored_total{{kind=\"inbox_row\"}} {}\n", load(m.inbox_rows_stored));
    metric(out, "txtpush_duplicates_total", "counter", "Items already stored (replays), by kind.");
    out += fmt::format("txtpush_duplicates_total{{kind=\"status\"}} {}\n", load(m.statuses_duplicate));
    out += fmt::format("txtpush_duplicates_total{{kind=\"inbox_row\"}} {}\n", load(m.inbox_rows_duplicate));
    single(out, "txtpush_inbound_received_total", "counter", "Inbound SMS in stored pushes.", load(m.inbound_received));
    single(out, "txtpush_unrouted_total", "counter", "Inbound SMS kept in txtpush.unrouted.", load(m.unrouted));
    single(out, "txtpush_senders_not_a_number_total", "counter",
           "Inbound SMS kept unrouted because the sender is not a phone number.", load(m.senders_not_a_number));
    single(out, "txtpush_implausible_numbers_total", "counter", "Sender numbers stored as received.", load(m.implausible_numbers));
    single(out, "txtpush_truncated_values_total", "counter", "Values cut to their column.", load(m.truncated_values));
    single(out, "txtpush_spool_replayed_total", "counter", "Spooled pushes stored by the spooler.", load(m.spool_replayed));

    metric(out, "txtpush_request_duration_seconds", "histogram", "Time to handle a push request.");
    uint64_t cumulative = 0;
    for (size_t i = 0; i < m.latency.size(); ++i) {
        cumulative += load(m.latency[i]);
        std::string le = i < kLatencyBuckets.size() ? fmt::format("{}", kLatencyBuckets[i]) : "+Inf";
        out += fmt::format("txtpush_request_duration_seconds_bucket{{le=\"{}\"}} {}\n", le, cumulative);
    }
    out += fmt::format("txtpush_request_duration_seconds_sum {:.6f}\n", load(m.latency_sum_us) / 1e6);
    out += fmt::format("txtpush_request_duration_seconds_count {}\n", cumulative);

    metric(out, "txtpush_workers", "gauge", "Worker processes by state.");
    out += fmt::format("txtpush_workers{{state=\"busy\"}} {}\ntxtpush_workers{{state=\"idle\"}} {}\n", g.workers_busy,
                       g.workers_idle);
    single(out, "txtpush_max_active_workers", "gauge", "Most workers busy at once since start.", load(m.max_active_workers));
    single(out, "txtpush_max_children_reached_total", "counter", "Times every worker was busy at once.", load(m.max_children_reached));
    single(out, "txtpush_worker_restarts_total", "counter", "Workers replaced after dying.", load(m.worker_restarts));
    single(out, "txtpush_worker_recycles_total", "counter", "Workers retired after max_requests.", load(m.worker_recycles));
    single(out, "txtpush_worker_timeouts_total", "counter", "Workers ended for exceeding request_timeout.", load(m.worker_timeouts));
    single(out, "txtpush_crash_loops_total", "counter", "Times restarts were paused after a crash loop.", load(m.crash_loops));
    single(out, "txtpush_reloads_total", "counter", "Configuration reloads applied.", load(m.reloads));
    single(out, "txtpush_database_connections", "gauge", "Workers holding an open database connection.", g.workers_db_connected);
    single(out, "txtpush_database_misconfigured", "gauge",
           "1 while the database lacks what txtpush was migrated for (pushes are answered 503).",
           g.database_misconfigured ? 1 : 0);
    single(out, "txtpush_spool_files", "gauge", "Pushes waiting in the spool.", g.spool_files);
    single(out, "txtpush_spool_bytes", "gauge", "Bytes waiting in the spool.", g.spool_bytes);
    if (g.listen_queue >= 0) {
        metric(out, "txtpush_listen_queue", "gauge", "Connections waiting in the listen backlog.");
        out += fmt::format("txtpush_listen_queue {}\n", g.listen_queue);
    }
    metric(out, "txtpush_child_requests", "gauge", "Requests each child of the pool has served, with its state.");
    for (const ChildState& c : g.children)
        out += fmt::format("txtpush_child_requests{{slot=\"{}\",role=\"{}\",state=\"{}\"}} {}\n", c.slot, c.role,
                           c.state, c.requests);
    metric(out, "txtpush_child_pid", "gauge", "The process id of the child in each slot.");
    for (const ChildState& c : g.children)
        out += fmt::format("txtpush_child_pid{{slot=\"{}\",role=\"{}\"}} {}\n", c.slot, c.role, c.pid);
    single(out, "txtpush_start_time_seconds", "gauge", "When the master started, Unix seconds.", g.start_time);
    metric(out, "txtpush_build_info", "gauge", "The running release (always 1).");
    out += fmt::format("txtpush_build_info{{version=\"{}\"}} 1\n", kVersion);
    return out;
}

}  // namespace txtpush
