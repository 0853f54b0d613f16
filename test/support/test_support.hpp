// Helpers shared by the test suites: fixtures, the local stack's database,
// and a minimal HTTP client for driving nginx as the gateway would.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <thread>

namespace txtpush::test {

// Polls `done` until it holds or `limit` has passed; whether it held. Tests
// wait for a condition with a deadline, never for a fixed time.
template <class Predicate>
bool wait_until(Predicate done, std::chrono::milliseconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

// test/fixtures/<relative>, read whole.
std::string fixture(std::string_view relative);

// application/x-www-form-urlencoded encoding of one value.
std::string form_encode(std::string_view value);
std::string push_body(std::string_view user, std::string_view password, std::string_view xml);

// libpq conninfo of the database started by deploy/local-stack.sh for the
// tests (directory from TXTPUSH_TEST_STACK).
std::string stack_conninfo();
std::string stack_dir();
int stack_http_port();

// Runs deploy/local-stack.sh ACTION on the test stack (pg-stop, pg-start,
// txtpushd-kill, txtpushd-start); throws when it fails.
void stack_control(std::string_view action);

// txtpushd's log of the test stack, from byte `offset` on.
std::string stack_log(size_t offset = 0);
size_t stack_log_size();

struct HttpResponse {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
};

// One HTTP/1.1 request to 127.0.0.1:port, connection closed after it.
HttpResponse http_request(int port, std::string_view method, std::string_view path, std::string_view body,
                          std::string_view content_type = "application/x-www-form-urlencoded");

}  // namespace txtpush::test
