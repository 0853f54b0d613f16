#include "moodletxt_cipher.hpp"

#include <cmath>
#include <cstdint>
#include <deque>

namespace txtpush {

namespace {

// The block's two alphabets: printable ASCII without ' " and backslash, in
// two orders.
constexpr std::string_view kPlain =
    "! #$%&()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~";
constexpr std::string_view kScrambled =
    "f^jAE]okIOzU[2&q1{3`h5w_794p@6s8?BgP>dFV=m D<TcS%Ze|r:lGK/uCy.Jx)HiQ!#$~(;Lt-R}Ma,NvW+Ynb*0X";
static_assert(kPlain.size() == kScrambled.size());
constexpr double kAdjustment = 1.75;  // added to each fudge factor as it rotates
constexpr int64_t kModulus = 3;       // a factor divisible by it is negated

// PHP's round(): half away from zero.
double php_round(double x) { return x >= 0 ? std::floor(x + 0.5) : -std::floor(-x + 0.5); }

// The key as numbers: its length, each character's position, their sum.
std::optional<std::deque<double>> fudge_factors(std::string_view key) {
    if (key.empty()) return std::nullopt;
    std::deque<double> out{static_cast<double>(key.size())};
    double total = 0;
    for (char c : key) {
        size_t at = kPlain.find(c);
        if (at == std::string_view::npos) return std::nullopt;
        out.push_back(static_cast<double>(at));
        total += static_cast<double>(at);
    }
    out.push_back(total);
    return out;
}

// The next adjustment: the first factor rotated to the back, grown by the
// adjustment, negated when its integer part is divisible by the modulus (PHP's
// % truncates its operands to integers).
double next_adjustment(std::deque<double>& factors) {
    double fudge = factors.front() + kAdjustment;
    factors.pop_front();
    factors.push_back(fudge);
    return static_cast<int64_t>(fudge) % kModulus == 0 ? -fudge : fudge;
}

size_t in_range(double n) {
    const auto size = static_cast<int64_t>(kPlain.size());
    auto i = static_cast<int64_t>(php_round(n)) % size;
    return static_cast<size_t>(i < 0 ? i + size : i);
}

// Both directions share the rolling factors; `from` and `to` are the alphabets.
std::optional<std::string> transform(std::string_view key, std::string_view text, bool encrypting) {
    auto factors = fudge_factors(key);
    if (!factors || text.empty()) return std::nullopt;
    std::string_view from = encrypting ? kPlain : kScrambled;
    std::string_view to = encrypting ? kScrambled : kPlain;
    std::string out;
    double factor2 = 0;
    for (char c : text) {
        size_t at = from.find(c);
        if (at == std::string_view::npos) return std::nullopt;
        double factor1 = factor2 + next_adjustment(*factors);
        double shift = php_round(factor1);
        size_t mapped = in_range(encrypting ? static_cast<double>(at) + shift : static_cast<double>(at) - shift);
        factor2 = factor1 + static_cast<double>(encrypting ? mapped : at);
        out += to[mapped];
    }
    return out;
}

}  // namespace

std::optional<std::string> moodletxt_decrypt(std::string_view key, std::string_view stored) {
    auto plain = transform(key, stored, false);
    if (plain) plain->erase(plain->find_last_not_of(std::string_view(" \t\n\r\0\x0B", 6)) + 1);
    return plain;
}

std::optional<std::string> moodletxt_encrypt(std::string_view key, std::string_view plain) {
    return transform(key, plain, true);
}

}  // namespace txtpush
