#include "push_credentials.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "moodletxt_cipher.hpp"

namespace txtpush {

namespace {

std::string setting(const MoodleTxtSettings& settings, const std::string& name) {
    auto it = settings.find(name);
    return it == settings.end() ? std::string{} : it->second;
}

}  // namespace

Result<Credentials> credentials_from_settings(const MoodleTxtSettings& settings) {
    std::string username = setting(settings, "Push_Username");
    std::string stored = setting(settings, "Push_Password");
    if (username.empty() || stored.empty())
        return fail(ErrorKind::forbidden,
                    "push is not enabled: Push_Username or Push_Password is empty in MoodleTxt's settings");
    auto password = moodletxt_decrypt(setting(settings, "EK"), stored);
    if (!password || password->empty())
        return fail(ErrorKind::forbidden,
                    "push is not enabled: MoodleTxt's Push_Password cannot be decrypted with its key EK "
                    "(save the password again on MoodleTxt's settings page)");
    return Credentials::from_plain(username, *password);
}

// What a caller that has not authenticated is told: the detail is in the log.
static Result<Credentials> for_callers(const Result<Credentials>& r) {
    if (r) return r;
    if (r.error().kind == ErrorKind::forbidden)
        return fail(ErrorKind::forbidden, "push is not enabled on this site (the service log says why)");
    return fail(r.error().kind, "the push credentials cannot be read now; send it again later");
}

Result<Credentials> MoodleTxtCredentials::current(Deadline deadline) {
    auto now = clock_();
    // At most one read per kFreshFor, failed or not: requests nobody
    // authenticated yet must not each cost a query and a reconnect.
    if (now - read_at_ < kFreshFor && (last_ || failed_)) return for_callers(last_ ? *last_ : *failed_);
    read_at_ = now;
    auto settings = read_(deadline);
    if (!settings) {
        if (last_) return *last_;  // what was last read stands
        if (auto known = recall()) return *known;
        Error why = settings.error();
        why.reason = "the push credentials cannot be read from MoodleTxt's settings: " + why.reason;
        report(why);
        failed_ = why;
        return for_callers(why);
    }
    failed_.reset();
    last_ = credentials_from_settings(*settings);
    report(*last_);
    remember(*last_);
    return for_callers(*last_);
}

void MoodleTxtCredentials::remember(const Result<Credentials>& now) {
    std::string digests = now ? now->digests() : std::string{};
    if (remembered_.empty() || digests == written_) return;
    std::error_code failed;
    if (!now) {  // push is not enabled: nothing to recall in an outage either
        std::filesystem::remove(remembered_, failed);
        if (!failed) written_ = digests;
        return;
    }
    // Each worker writes its own temporary file, renamed over the last: a
    // reader sees the old file or the new one, never half of one.
    std::filesystem::path path(remembered_);
    std::filesystem::create_directories(path.parent_path(), failed);  // the spool's folder: made on first use
    const std::string tmp = (path.parent_path() / ("." + path.filename().string() + "." + std::to_string(::getpid()) +
                                                   ".tmp")).string();
    {
        std::ofstream out(tmp, std::ios::trunc);
        std::filesystem::permissions(tmp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                     failed);
        out << digests << "\n";
        out.flush();
        if (!out || failed) return std::filesystem::remove(tmp, failed), void();
    }
    std::filesystem::rename(tmp, remembered_, failed);
    if (!failed) written_ = digests;
}

std::optional<Credentials> MoodleTxtCredentials::recall() const {
    if (remembered_.empty()) return std::nullopt;
    std::ifstream in(remembered_);
    std::string line;
    std::getline(in, line);
    return Credentials::from_digests(line);
}

void MoodleTxtCredentials::report(const Result<Credentials>& now) {
    std::string state = now ? "enabled" : now.error().reason;
    if (state == state_) return;
    state_ = state;
    if (now) log_.info("push_credentials", {{"credentials", "moodletxt"}, {"state", "enabled"}});
    else log_.error("push_credentials", {{"credentials", "moodletxt"}, {"kind", error_kind_name(now.error().kind)},
                                         {"reason", now.error().reason}});
}

}  // namespace txtpush
