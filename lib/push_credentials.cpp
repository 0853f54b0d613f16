#include "push_credentials.hpp"

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

Result<Credentials> MoodleTxtCredentials::current() {
    auto now = clock_();
    if (last_ && now - read_at_ < kFreshFor) return *last_;
    auto settings = read_();
    if (!settings) {
        if (last_) return *last_;  // not marked fresh: the next push tries again
        if (auto known = recall()) return *known;
        Error why = settings.error();
        why.reason = "the push credentials cannot be read from MoodleTxt's settings: " + why.reason;
        report(why);
        return why;
    }
    last_ = credentials_from_settings(*settings);
    read_at_ = now;
    report(*last_);
    remember(*last_);
    return *last_;
}

void MoodleTxtCredentials::remember(const Result<Credentials>& now) {
    std::string digests = now ? now->digests() : std::string{};
    if (remembered_.empty() || digests == written_) return;
    written_ = digests;
    std::error_code ignored;
    if (!now) {  // push is not enabled: nothing to recall in an outage either
        std::filesystem::remove(remembered_, ignored);
        return;
    }
    const std::string tmp = remembered_ + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        std::filesystem::permissions(tmp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                     ignored);
        out << now->digests() << "\n";
        if (!out) return;
    }
    std::filesystem::rename(tmp, remembered_, ignored);
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
