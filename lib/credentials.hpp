// The push credentials the gateway must present in form fields u and p.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace txtpush {

using Sha256 = std::array<unsigned char, 32>;

Sha256 sha256(std::string_view data);
std::string to_hex(const Sha256& digest);
std::optional<Sha256> sha256_from_hex(std::string_view hex);

// Both fields are kept only as SHA-256 digests and compared in constant time,
// so neither the length nor the content of a guess leaks through timing.
class Credentials {
public:
    Credentials() = default;
    Credentials(std::string_view username, const Sha256& password_digest)
        : username_(sha256(username)), password_(password_digest), configured_(true) {}

    static Credentials from_plain(std::string_view username, std::string_view password) {
        return Credentials(username, sha256(password));
    }

    // Both digests, "USER PASSWORD" in hex, and back: what a worker keeps on
    // disk of the last credentials it read (never the password itself).
    std::string digests() const { return to_hex(username_) + " " + to_hex(password_); }
    static std::optional<Credentials> from_digests(std::string_view text);

    bool configured() const { return configured_; }
    bool accepts(std::string_view username, std::string_view password) const;

private:
    Sha256 username_{};
    Sha256 password_{};
    bool configured_ = false;
};

}  // namespace txtpush
