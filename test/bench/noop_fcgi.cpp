// The transport ceiling of the benchmark: a FastCGI responder that does no
// work. Same libfcgi, unix socket, backlog and pre-forked worker count as
// txtpushd; reads the whole body (as txtpushd does) and answers 200.
//   noop_fcgi SOCKET_PATH WORKERS
#include <fcgiapp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/stat.h>
#include <string>
#include <vector>

namespace {

int listen_unix(const char* path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
    ::unlink(path);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::chmod(path, 0666) != 0 ||
        ::listen(fd, 511) != 0) {
        std::perror("noop_fcgi: listen");
        std::exit(1);
    }
    return fd;
}

[[noreturn]] void serve(int fd) {
    FCGX_Init();
    FCGX_Request req;
    FCGX_InitRequest(&req, fd, 0);
    std::string body;
    char chunk[16384];
    static const char answer[] = "Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n";
    while (FCGX_Accept_r(&req) == 0) {
        body.clear();
        for (int n; (n = FCGX_GetStr(chunk, sizeof(chunk), req.in)) > 0;) body.append(chunk, static_cast<size_t>(n));
        FCGX_PutStr(answer, sizeof(answer) - 1, req.out);
        FCGX_Finish_r(&req);
    }
    std::exit(0);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: noop_fcgi SOCKET_PATH WORKERS\n");
        return 2;
    }
    int fd = listen_unix(argv[1]);
    int workers = std::atoi(argv[2]);
    std::vector<pid_t> children;
    for (int i = 0; i < workers; ++i) {
        pid_t pid = ::fork();
        if (pid == 0) serve(fd);
        children.push_back(pid);
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    int sig = 0;
    sigwait(&set, &sig);
    for (pid_t pid : children) ::kill(pid, SIGTERM);
    for (pid_t pid : children) ::waitpid(pid, nullptr, 0);
    return 0;
}
