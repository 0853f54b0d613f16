#include "credentials.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "text.hpp"

namespace txtpush {

Sha256 sha256(std::string_view data) {
    Sha256 out;
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data());
    return out;
}

std::string to_hex(const Sha256& digest) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : digest) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

std::optional<Sha256> sha256_from_hex(std::string_view hex) {
    if (hex.size() != 64) return std::nullopt;
    Sha256 out;
    for (size_t i = 0; i < 32; ++i) {
        int hi = hex_value(hex[i * 2]), lo = hex_value(hex[i * 2 + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out[i] = static_cast<unsigned char>(hi * 16 + lo);
    }
    return out;
}

std::optional<Credentials> Credentials::from_digests(std::string_view text) {
    auto user = sha256_from_hex(text.substr(0, 64));
    auto password = text.size() >= 129 && text[64] == ' ' ? sha256_from_hex(text.substr(65, 64)) : std::nullopt;
    if (!user || !password) return std::nullopt;
    Credentials c;
    c.username_ = *user;
    c.password_ = *password;
    c.configured_ = true;
    return c;
}

bool Credentials::accepts(std::string_view username, std::string_view password) const {
    if (!configured_) return false;
    Sha256 u = sha256(username);
    Sha256 p = sha256(password);
    // Evaluate both comparisons: no early exit on a wrong username.
    int user_differs = CRYPTO_memcmp(u.data(), username_.data(), u.size());
    int pass_differs = CRYPTO_memcmp(p.data(), password_.data(), p.size());
    return (user_differs | pass_differs) == 0;
}

}  // namespace txtpush
