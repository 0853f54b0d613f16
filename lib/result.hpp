// Errors as values: every boundary of lib/ returns a Result instead of throwing.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace txtpush {

// What happened, not what to answer: HTTP statuses are chosen only at the
// edge (handle_push), from the kind.
enum class ErrorKind {
    bad_input,   // the request or document is malformed or fails the schema
    too_large,   // more bytes than allowed
    forbidden,   // wrong credentials
    method,      // not a POST
    transient,   // the database cannot take it now; the same work may succeed later
    permanent,   // the database refuses this work for good
    local_io,    // a local file or folder could not be written or read (disk, permissions)
    not_found,   // no such file (spool id, quarantine name)
    config,      // the configuration or the environment is wrong
    misconfigured,  // the database is not what txtpush was migrated for (missing table, column, function,
                    // schema): no retry helps until an operator acts; the gateway must keep its copy
    bug,         // txtpushd itself failed (an unexpected exception): not the push's fault
};

std::string_view error_kind_name(ErrorKind kind);

// Why a request or an operation failed. `reason` is safe to show to the
// client and to log.
struct Error {
    ErrorKind kind = ErrorKind::permanent;
    std::string reason;
};

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error error) : v_(std::move(error)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const Error& error() const { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

inline Error fail(ErrorKind kind, std::string reason) { return Error{kind, std::move(reason)}; }

inline std::string_view error_kind_name(ErrorKind kind) {
    constexpr std::string_view names[] = {"bad_input", "too_large", "forbidden", "method",   "transient",
                                          "permanent", "local_io",  "not_found", "config",
                                          "misconfigured", "bug"};
    return names[static_cast<int>(kind)];
}

}  // namespace txtpush
