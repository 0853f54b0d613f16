// Where the push credentials come from. By default from MoodleTxt's own
// settings, as the block's push.php read them: Push_Username in clear,
// Push_Password encrypted with the key EK (lib/moodletxt_cipher). They are
// read again every few seconds, so a change on MoodleTxt's settings page
// takes effect without a restart. Credentials in txtpushd.conf win when given.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "credentials.hpp"
#include "deadline.hpp"
#include "log.hpp"
#include "result.hpp"

namespace txtpush {

// name -> value, as {schema}.moodletxt_settings() returns them.
using MoodleTxtSettings = std::map<std::string, std::string>;


class CredentialSource {
public:
    virtual ~CredentialSource() = default;
    // The credentials a push must present now; an error when there are none:
    // forbidden (push not enabled), transient (cannot be read now),
    // misconfigured (the database lacks what txtpush was migrated for).
    virtual Result<Credentials> current(Deadline deadline = std::nullopt) = 0;
    virtual std::string_view origin() const = 0;  // "config" or "moodletxt", for the start line
};

class ConfiguredCredentials : public CredentialSource {
public:
    explicit ConfiguredCredentials(Credentials credentials) : credentials_(credentials) {}
    Result<Credentials> current(Deadline = std::nullopt) override { return credentials_; }
    std::string_view origin() const override { return "config"; }

private:
    Credentials credentials_;
};

// The credentials MoodleTxt's settings hold: Push_Username, and
// Push_Password decrypted with EK. Empty means push is not enabled there.
Result<Credentials> credentials_from_settings(const MoodleTxtSettings& settings);

class MoodleTxtCredentials : public CredentialSource {
public:
    using Reader = std::function<Result<MoodleTxtSettings>(Deadline)>;
    using Clock = std::function<std::chrono::steady_clock::time_point()>;
    static constexpr std::chrono::seconds kFreshFor{2};

    // `remembered`: a file (in txtpushd's private state folder) where the
    // digests of the last credentials read are kept, so that a worker started
    // while the database is down still knows them; empty: none.
    MoodleTxtCredentials(Reader read, const Log& log, std::string remembered = {},
                         Clock clock = std::chrono::steady_clock::now)
        : read_(std::move(read)), log_(log), remembered_(std::move(remembered)), clock_(std::move(clock)) {}

    // Read at most every kFreshFor; while the settings cannot be read, what
    // was last read stands, in this worker or remembered on disk (a database
    // outage must not refuse the gateway: its pushes are spooled). Errors
    // carry a reason fit for an unauthenticated caller; the log has the detail.
    Result<Credentials> current(Deadline deadline = std::nullopt) override;
    std::string_view origin() const override { return "moodletxt"; }

private:
    void report(const Result<Credentials>& now);  // logs a change of state, once
    void remember(const Result<Credentials>& now);  // on disk, when they changed
    std::optional<Credentials> recall() const;

    Reader read_;
    const Log& log_;
    std::string remembered_;
    Clock clock_;
    std::optional<Result<Credentials>> last_;  // the last settings read (credentials, or push not enabled)
    std::optional<Error> failed_;              // the last read failed, nothing known: its error
    std::chrono::steady_clock::time_point read_at_{};
    std::string state_;  // what was last logged
    std::optional<std::string> written_;  // what was last remembered on disk ("" for none)
};

}  // namespace txtpush
