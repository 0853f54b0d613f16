// MoodleTxt's reversible cipher for its stored secrets (the block's
// lib/MoodletxtEncryption.php, A J Marston's scheme): Push_Password is kept
// encrypted with the key in setting EK. No library has it; this is a port,
// exact to the block's PHP, checked against values the block produced.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace txtpush {

// The stored value decrypted with `key` and right-trimmed, as the block's
// decrypt() returns it; nothing when the key or the value is empty or holds a
// character outside the scheme's alphabet (the block's decrypt then fails too).
std::optional<std::string> moodletxt_decrypt(std::string_view key, std::string_view stored);

// The inverse, as the block's encrypt() (no padding): for tests and fixtures.
std::optional<std::string> moodletxt_encrypt(std::string_view key, std::string_view plain);

}  // namespace txtpush
