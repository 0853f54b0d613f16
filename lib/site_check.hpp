// `txtpushd check`: like `nginx -t`, but against the real database and the
// real socket. Connects as txtpushd's runtime role and checks what it needs to
// serve: the migration level, every right (and that the site's secrets stay
// out of reach), the connection budget, that nginx's user can reach the
// socket, MoodleTxt's push settings; and says what ConnectTxt needs.
#pragma once

#include <string>
#include <vector>

#include "config.hpp"

namespace txtpush {

struct Finding {
    enum Level { ok, warn, fail, info } level = ok;
    std::string what;
    std::string fix;  // for warn and fail
};

// Every finding, in order; `pool_size` the workers the service runs.
std::vector<Finding> check_site(const Config& config, int pool_size);

// One line per finding: "ok   ...", "warn ... (fix)", "FAIL ... (fix)", "     ...".
std::string render_findings(const std::vector<Finding>& findings);
bool all_pass(const std::vector<Finding>& findings);

}  // namespace txtpush
