#include "test_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

namespace txtpush::test {

static std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string fixture(std::string_view relative) {
    return read_file(fmt::format("{}/{}", TXTPUSH_FIXTURES_DIR, relative));
}

std::string form_encode(std::string_view value) {
    std::string out;
    for (unsigned char c : value) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
        else if (c == ' ') out += '+';
        else out += fmt::format("%{:02X}", c);
    }
    return out;
}

std::string push_body(std::string_view user, std::string_view password, std::string_view xml) {
    return fmt::format("u={}&p={}&x={}", form_encode(user), form_encode(password), form_encode(xml));
}

std::string stack_dir() {
    const char* dir = std::getenv("TXTPUSH_TEST_STACK");
    if (dir == nullptr) throw std::runtime_error("TXTPUSH_TEST_STACK is not set: run the tests through ctest");
    return dir;
}

std::string stack_conninfo() {
    std::string pgdir = read_file(stack_dir() + "/pgdir");
    while (!pgdir.empty() && (pgdir.back() == '\n' || pgdir.back() == ' ')) pgdir.pop_back();
    return fmt::format("host={} port=5432 dbname=txtpush user=postgres", pgdir);  // the stack's default port
}

// The port the stack's nginx listens on, read from its config: the tests talk
// to the stack they were given, whatever port its build chose.
int stack_http_port() {
    std::ifstream conf(stack_dir() + "/nginx.conf");
    std::smatch match;
    static const std::regex listen(R"(listen 127\.0\.0\.1:(\d+);)");
    for (std::string line; std::getline(conf, line);)
        if (std::regex_search(line, match, listen)) return std::stoi(match[1]);
    throw std::runtime_error("no listen line in " + stack_dir() + "/nginx.conf");
}

void stack_control(std::string_view action) {
    std::string command = fmt::format("{} {} {} {}", TXTPUSH_STACK_SCRIPT, action, stack_dir(), TXTPUSH_BUILD_DIR);
    if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
}

std::string stack_log(size_t offset) {
    std::string log = read_file(stack_dir() + "/txtpushd.log");
    return offset < log.size() ? log.substr(offset) : std::string{};
}

size_t stack_log_size() { return read_file(stack_dir() + "/txtpushd.log").size(); }

static std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

static HttpResponse parse_response(const std::string& raw) {
    HttpResponse r;
    size_t head_end = raw.find("\r\n\r\n");
    if (head_end == std::string::npos) throw std::runtime_error("malformed HTTP response: " + raw);
    std::istringstream head(raw.substr(0, head_end));
    std::string line;
    std::getline(head, line);
    r.status = std::atoi(line.substr(line.find(' ') + 1).c_str());
    while (std::getline(head, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        r.headers[lower(line.substr(0, colon))] = line.substr(line.find_first_not_of(' ', colon + 1));
    }
    r.body = raw.substr(head_end + 4);
    return r;
}

HttpResponse http_request(int port, std::string_view method, std::string_view path, std::string_view body,
                          std::string_view content_type) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error("socket failed");
    timeval timeout{30, 0};  // a hung server fails the test instead of hanging it
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        ::close(fd);
        throw std::runtime_error(fmt::format("cannot connect to 127.0.0.1:{}", port));
    }
    std::string request = fmt::format("{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n", method, path);
    if (!content_type.empty()) request += fmt::format("Content-Type: {}\r\n", content_type);
    request += fmt::format("Content-Length: {}\r\n\r\n", body.size());
    request += body;
    for (size_t sent = 0; sent < request.size();) {
        ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;  // the server may answer (413) before reading everything
        sent += static_cast<size_t>(n);
    }
    std::string raw;
    char buf[8192];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) raw.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return parse_response(raw);
}

}  // namespace txtpush::test
