// Errors as values: every boundary of lib/ returns a Result instead of throwing.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace txtpush {

// Why a request or an operation was refused. `status` is the HTTP status the
// caller should answer with; `reason` is safe to show to the client and to log.
struct Error {
    int status = 500;
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

inline Error fail(int status, std::string reason) { return Error{status, std::move(reason)}; }

}  // namespace txtpush
