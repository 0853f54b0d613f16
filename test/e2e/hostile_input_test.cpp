// Hostile input through nginx: each case gets its 4xx, a log line, stores
// nothing, and the workers go on serving.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include <fmt/format.h>

#include "e2e_fixture.hpp"

using namespace txtpush;
using test::fixture;
using test::form_encode;
using test::HttpResponse;

namespace {

class HostileInput : public test::E2ETest {
protected:
    void expect_served_after() {
        HttpResponse ok = push(fixture("valid/status-single.xml"));
        EXPECT_EQ(ok.status, 200) << "the next push was not served: " << ok.body;
    }
};

struct HostileCase {
    const char* name;
    std::string body;
    std::string content_type;
    int status;
    const char* log_outcome;
    const char* reason_part;
};

std::string with_x(const std::string& xml) { return "u=gateway&p=secret&x=" + form_encode(xml); }

int open_raw_connection() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(test::stack_http_port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) throw std::runtime_error("connect");
    return fd;
}

void send_text(int fd, const std::string& s) { ::send(fd, s.data(), s.size(), MSG_NOSIGNAL); }

std::string receive_all(int fd) {
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) out.append(buf, static_cast<size_t>(n));
    return out;
}

}  // namespace

TEST_F(HostileInput, EachCaseIsRefusedLoggedAndStoresNothing) {
    // Well-formed, so only the depth limit (256 levels) can refuse it.
    std::string deep = "<Response><Error>";
    for (int i = 0; i < 400; ++i) deep += "<a>";
    for (int i = 0; i < 400; ++i) deep += "</a>";
    deep += "</Error></Response>";
    const HostileCase cases[] = {
        {"malformed percent-encoding", "u=gateway&p=secret&x=%zz", "application/x-www-form-urlencoded", 400, "form",
         "percent-encoding"},
        {"truncated percent-encoding", "u=gateway&p=secret&x=%4", "application/x-www-form-urlencoded", 400, "form",
         "percent-encoding"},
        {"repeated field", "u=gateway&p=secret&p=secret&x=%3CResponse%2F%3E", "application/x-www-form-urlencoded", 400,
         "form", "more than once"},
        {"missing field", "u=gateway&x=%3CResponse%2F%3E", "application/x-www-form-urlencoded", 400, "form",
         "missing form field 'p'"},
        {"wrong content type", with_x("<Response/>"), "text/xml", 400, "content_type", "form post"},
        {"multipart", with_x("<Response/>"), "multipart/form-data; boundary=x", 400, "content_type", "form post"},
        {"NUL byte", "u=gateway&p=secret&x=%3CResponse%3E%00%3C%2FResponse%3E", "application/x-www-form-urlencoded",
         400, "invalid_xml", "line "},
        {"billion laughs", with_x(fixture("invalid/billion-laughs.xml")), "application/x-www-form-urlencoded", 400,
         "invalid_xml", "DOCTYPE"},
        {"XXE", with_x(fixture("invalid/xxe-file.xml")), "application/x-www-form-urlencoded", 400, "invalid_xml",
         "DOCTYPE"},
        {"invalid UTF-8", with_x(fixture("invalid/invalid-utf8.xml")), "application/x-www-form-urlencoded", 400,
         "invalid_xml", "UTF-8"},
        {"deep nesting", with_x(deep), "application/x-www-form-urlencoded", 400, "invalid_xml",
         "Excessive depth in document"},
        {"ticket out of range",
         with_x("<Response><MessageStatus><Ticket>99999999999</Ticket><Status>1</Status>"
                "<StatusMessage>x</StatusMessage></MessageStatus></Response>"),
         "application/x-www-form-urlencoded", 400, "invalid_xml", "Ticket"},
        {"wrong password", test::push_body("gateway", "x", "<Response/>"), "application/x-www-form-urlencoded", 403,
         "auth", "wrong push username or password"},
    };
    for (const HostileCase& c : cases) {
        SCOPED_TRACE(c.name);
        size_t log_at = test::stack_log_size();
        HttpResponse r = post(c.body, c.content_type);
        EXPECT_EQ(r.status, c.status) << r.body;
        EXPECT_NE(r.body.find(c.reason_part), std::string::npos) << r.body;
        std::string log = test::stack_log(log_at);
        EXPECT_NE(log.find(fmt::format("status={} outcome={}", c.status, c.log_outcome)), std::string::npos) << log;
        EXPECT_EQ(log.find("secret"), std::string::npos) << "a password reached the log";
    }
    EXPECT_EQ(rows_stored(), 0);
    expect_served_after();
}

TEST_F(HostileInput, FailedLoginsAreLoggedForFail2ban) {
    size_t log_at = test::stack_log_size();
    post(test::push_body("gateway", "hunter2", "<Response/>"));
    std::string log = test::stack_log(log_at);
    EXPECT_NE(log.find("event=push_refused"), std::string::npos);
    EXPECT_NE(log.find("peer=127.0.0.1 status=403 outcome=auth"), std::string::npos) << log;
    EXPECT_EQ(log.find("hunter2"), std::string::npos);
}

TEST_F(HostileInput, InvalidPushesAreQuarantinedWithTheReason) {
    namespace fs = std::filesystem;
    fs::path dir = test::stack_dir() + "/quarantine";
    size_t before = fs::exists(dir) ? std::distance(fs::directory_iterator(dir), fs::directory_iterator{}) : 0;
    HttpResponse r = push(fixture("invalid/status-code-out-of-range.xml"));
    ASSERT_EQ(r.status, 400);
    ASSERT_TRUE(fs::exists(dir));
    std::vector<fs::path> files(fs::directory_iterator(dir), fs::directory_iterator{});
    ASSERT_EQ(files.size(), before + 1);
    std::sort(files.begin(), files.end());
    std::ifstream in(files.back());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("maxInclusive"), std::string::npos) << text;
    EXPECT_NE(text.find("<Status>9</Status>"), std::string::npos) << text;
    // Unauthenticated requests are not kept: nobody may fill the disk.
    post(test::push_body("gateway", "nope", "<Bad/>"));
    EXPECT_EQ(static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator{})), files.size());
}

TEST_F(HostileInput, BodyShorterThanContentLengthHangsNoWorker) {
    for (int i = 0; i < 4; ++i) {  // more than the pool has workers
        int fd = open_raw_connection();
        send_text(fd, "POST /blocks/moodletxt/push.php HTTP/1.1\r\nHost: x\r\nContent-Type: "
                      "application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nu=gateway");
        ::shutdown(fd, SHUT_WR);
        receive_all(fd);
        ::close(fd);
    }
    expect_served_after();
}

TEST_F(HostileInput, BodyLongerThanContentLengthIsCutThere) {
    int fd = open_raw_connection();
    std::string body = test::push_body("gateway", "secret", fixture("valid/status-single.xml"));
    send_text(fd, fmt::format("POST /blocks/moodletxt/push.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                              "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 20\r\n\r\n{}",
                              body));
    std::string raw = receive_all(fd);
    ::close(fd);
    EXPECT_NE(raw.find(" 400 "), std::string::npos) << raw;  // only "u=gateway&p=secret&" arrived
    EXPECT_EQ(rows_stored(), 0);
    expect_served_after();
}

TEST_F(HostileInput, SlowClientsDoNotHoldWorkers) {
    std::vector<int> slow;
    for (int i = 0; i < 4; ++i) {
        int fd = open_raw_connection();
        send_text(fd, "POST /blocks/moodletxt/push.php HTTP/1.1\r\nHost: x\r\nContent-Type: "
                      "application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nu=gat");
        slow.push_back(fd);
    }
    // nginx buffers the slow bodies; the workers stay free for others (a held
    // worker would make this request time out).
    expect_served_after();
    for (int fd : slow) ::close(fd);
}
