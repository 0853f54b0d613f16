#include <gtest/gtest.h>

#include "metrics.hpp"

using namespace txtpush;

TEST(Metrics, CountsRequestsItemsAndLatency) {
    Metrics m;
    StoreReport r;
    r.statuses = 3;
    r.statuses_new = 2;
    r.inbox_rows = 4;
    r.inbox_rows_new = 4;
    r.unrouted = 1;
    m.count_request(Outcome::stored, &r, 0.004);
    m.count_request(Outcome::auth, nullptr, 0.0005);
    m.count_request(Outcome::auth, nullptr, 9.0);
    PoolGauges gauges{1, 2, 2, 3, 4096, -1, 1700000000, {{3, 42, "worker", "busy", 7}}};
    std::string text = render_prometheus(m, gauges);
    for (const char* line : {"txtpush_requests_total{outcome=\"stored\"} 1", "txtpush_refusals_total{reason=\"auth\"} 2",
                             "txtpush_items_stored_total{kind=\"status\"} 2",
                             "txtpush_duplicates_total{kind=\"status\"} 1",
                             "txtpush_items_stored_total{kind=\"inbox_row\"} 4", "txtpush_unrouted_total 1",
                             "txtpush_request_duration_seconds_bucket{le=\"0.001\"} 1",
                             "txtpush_request_duration_seconds_bucket{le=\"0.005\"} 2",
                             "txtpush_request_duration_seconds_bucket{le=\"5\"} 2",
                             "txtpush_request_duration_seconds_bucket{le=\"+Inf\"} 3",
                             "txtpush_request_duration_seconds_count 3", "txtpush_workers{state=\"busy\"} 1",
                             "txtpush_workers{state=\"idle\"} 2", "txtpush_spool_files 3", "txtpush_spool_bytes 4096",
                             "# TYPE txtpush_request_duration_seconds histogram",
                             "txtpush_child_requests{slot=\"3\",role=\"worker\",state=\"busy\"} 7",
                             "txtpush_child_pid{slot=\"3\",role=\"worker\"} 42"})
        EXPECT_NE(text.find(std::string(line) + "\n"), std::string::npos) << line;
    EXPECT_EQ(text.find("txtpush_listen_queue"), std::string::npos);  // unknown for unix sockets
    EXPECT_EQ(text.find("refusals_total{reason=\"stored\"}"), std::string::npos);
}
