#include "child_process.hpp"

#include <unistd.h>

#include <cstdio>
#include <exception>

namespace txtpush {

void run_child(const std::function<int()>& body, const Log& log) {
    int code = 1;
    try {
        code = body();
    } catch (const std::exception& e) {
        log.error("child_failed", {{"error", e.what()}});
    } catch (...) {
        log.error("child_failed", {{"error", "unknown exception"}});
    }
    std::fflush(nullptr);
    ::_exit(code);
}

}  // namespace txtpush
