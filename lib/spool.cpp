#include "spool.hpp"

#include <charconv>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

namespace txtpush {

namespace {

constexpr std::string_view kMagic = "txtpush-spool 1\n";

// "key value\n" header lines, a blank line, then the document.
std::string_view header_value(std::string_view head, std::string_view key) {
    for (size_t at = 0; at < head.size();) {
        size_t end = head.find('\n', at);
        std::string_view line = head.substr(at, end - at);
        if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ' ')
            return line.substr(key.size() + 1);
        if (end == std::string_view::npos) break;
        at = end + 1;
    }
    return {};
}

// "--" may not appear inside an XML comment.
std::string comment_safe(std::string_view s) {
    std::string out(s);
    for (size_t at; (at = out.find("--")) != std::string::npos;) out[at + 1] = '~';
    return out;
}

}  // namespace

uint64_t SpoolUsage::reserved() const {
    uint64_t total = 0;
    for (const auto& r : in_flight) total += r.load();
    return total;
}

Spool::Spool(std::string dir, uint64_t max_bytes, SpoolUsage* usage, size_t writer)
    : files_(std::move(dir)),
      max_bytes_(max_bytes),
      own_(usage ? nullptr : std::make_unique<SpoolUsage>()),
      usage_(usage ? usage : own_.get()),
      in_flight_(usage_->in_flight.at(writer)) {
    if (!usage) recount();
}

void Spool::recount() {
    files_.remove_temporary_files();
    uint64_t bytes = 0;
    auto listed = list();
    for (const QueuedFile& f : listed) bytes += f.bytes;
    usage_->files.store(listed.size());
    usage_->bytes.store(bytes);
}

namespace {

// Never below zero: a counter that wrapped would report the spool full for ever.
void subtract(std::atomic<uint64_t>& counter, uint64_t n) {
    uint64_t seen = counter.load();
    while (!counter.compare_exchange_weak(seen, seen >= n ? seen - n : 0)) {
    }
}

}  // namespace

void Spool::release(uint64_t bytes) {
    subtract(usage_->files, 1);
    subtract(usage_->bytes, bytes);
}

Result<std::string> Spool::put(std::string_view xml, int64_t received, std::string_view request_id) {
    if (auto made = files_.ensure_dir(); !made) return made.error();
    std::string id = files_.next_name(kSuffix);
    std::string content = fmt::format("{}received {}\nrequest_id {}\n\n", kMagic, received, request_id);
    content.append(xml);
    // Reserved first, then checked with everyone's: two writers racing both
    // see both reservations, so neither overshoots (one may refuse early).
    // Reservations read before what is written: one moving from the first to
    // the second in between is then counted twice, never missed.
    in_flight_.fetch_add(content.size());
    uint64_t reserved = usage_->reserved();
    if (usage_->bytes.load() + reserved > max_bytes_) {
        subtract(in_flight_, content.size());
        return fail(ErrorKind::local_io, fmt::format("spool full ({} bytes at most)", max_bytes_));
    }
    auto written = files_.write(id, content, true);  // all or nothing
    if (!written) {
        subtract(in_flight_, content.size());
        return written.error();
    }
    // Counted as written before the reservation goes: killed in between, it
    // is counted twice until its reaper forgets the reservation, never lost.
    usage_->bytes.fetch_add(content.size());
    usage_->files.fetch_add(1);
    subtract(in_flight_, content.size());
    return id;
}

bool Spool::remove(const QueuedFile& file) {
    if (!files_.remove(file.name, true)) return false;
    release(file.bytes);
    return true;
}

Result<bool> Spool::set_aside(const QueuedFile& file, std::string_view reason) {
    FileQueue aside(unstorable_dir());
    if (auto made = aside.ensure_dir(); !made) return made.error();
    if (auto noted = aside.write(file.name + ".reason", std::string(reason) + "\n", true); !noted) return noted.error();
    if (auto moved = files_.move_to(file.name, aside); !moved) return moved.error();
    release(file.bytes);
    return true;
}

Result<SpooledPush> Spool::read(const std::string& id) const {
    auto content = files_.read(id);
    if (!content) return content.error();
    std::string_view text = *content;
    size_t blank = text.find("\n\n");
    if (text.substr(0, kMagic.size()) != kMagic || blank == std::string_view::npos)
        return fail(ErrorKind::permanent, fmt::format("{}: not a spool file", id));
    std::string_view head = text.substr(kMagic.size(), blank + 1 - kMagic.size());
    SpooledPush push{id, 0, std::string(header_value(head, "request_id")), std::string(text.substr(blank + 2))};
    std::string_view received = header_value(head, "received");
    std::from_chars(received.data(), received.data() + received.size(), push.received);
    return push;
}

void Quarantine::keep(std::string_view xml, std::string_view reason, std::string_view peer,
                      std::string_view request_id) {
    if (max_files_ == 0 || !files_.ensure_dir()) return;
    std::string content = fmt::format("<!-- txtpush quarantine: request_id={} peer={} reason: {} -->\n",
                                      comment_safe(request_id), comment_safe(peer), comment_safe(reason));
    content.append(xml);
    if (content.size() > max_bytes_) content.resize(max_bytes_);
    if (files_.write(files_.next_name(kSuffix), content, false)) trim();
}

void Quarantine::trim() {
    auto files = files_.list(kSuffix);
    uint64_t total = 0;
    for (const auto& f : files) total += f.bytes;
    for (size_t i = 0; i < files.size() && (files.size() - i > max_files_ || total > max_bytes_); ++i) {
        files_.remove(files[i].name, false);
        total -= files[i].bytes;
    }
}

void Spool::note_waiting(std::string_view reason) const {
    const std::string path = files_.dir() + "/waiting";
    std::error_code ignored;
    if (reason.empty()) {
        std::filesystem::remove(path, ignored);
        return;
    }
    {
        std::ofstream out(path + ".tmp", std::ios::trunc);
        out << reason << "\n";
    }
    std::filesystem::rename(path + ".tmp", path, ignored);
}

std::string Spool::waiting() const {
    std::ifstream in(files_.dir() + "/waiting");
    std::string reason;
    std::getline(in, reason);
    return reason;
}

}  // namespace txtpush
