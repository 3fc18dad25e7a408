#include "harness/process.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>
#include <vector>

#include "core/error.h"

extern char** environ;

namespace brownout::harness {

std::string provider_env_stem(std::string_view id) {
    std::string out;
    for (char c : id)
        out += std::isalnum(static_cast<unsigned char>(c))
                   ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
                   : '_';
    return out;
}

std::string provider_env_name(const std::string& id, std::string_view what) {
    return fmt::format("BROWNOUT_{}_{}", provider_env_stem(id), what);
}

ChildProcess::ChildProcess(boost::asio::io_context& ioc, const std::string& command,
                           const std::map<std::string, std::string>& env,
                           const std::string& stderr_file, bool with_pipes) {
    int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1};
    if (with_pipes && (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0)) {
        throw Error(
            fmt::format("cannot create pipes for \"{}\": {}", command, std::strerror(errno)));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (with_pipes) {
        posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
        posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    } else {
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 1, stderr_file.c_str(),
                                         O_WRONLY | O_CREAT | O_APPEND, 0644);
    }
    posix_spawn_file_actions_addopen(&actions, 2, stderr_file.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Its own process group, so that stop() reaches whatever the command starts (npx → node).
    // SIGPIPE back to its default (brownout ignores it; an ignored signal survives exec).
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);

    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string entry(*e);
        auto name = entry.substr(0, entry.find('='));
        if (!env.count(name)) env_strings.push_back(entry);
    }
    for (const auto& [k, v] : env) env_strings.push_back(fmt::format("{}={}", k, v));
    std::vector<char*> envp;
    envp.reserve(env_strings.size() + 1);
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string shell = "/bin/sh", dash_c = "-c", cmd = command;
    char* argv[] = {shell.data(), dash_c.data(), cmd.data(), nullptr};
    int rc = posix_spawn(&pid_, "/bin/sh", &actions, &attr, argv, envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (with_pipes) {
        ::close(in_pipe[0]);
        ::close(out_pipe[1]);
    }
    if (rc != 0) {
        if (with_pipes) {
            ::close(in_pipe[1]);
            ::close(out_pipe[0]);
        }
        throw Error(fmt::format("cannot start \"{}\": {}", command, std::strerror(rc)));
    }
    if (with_pipes) {
        stdin_ = std::make_unique<boost::asio::posix::stream_descriptor>(ioc, in_pipe[1]);
        stdout_ = std::make_unique<boost::asio::posix::stream_descriptor>(ioc, out_pipe[0]);
    }
}

ChildProcess::~ChildProcess() {
    stop(std::chrono::milliseconds(500));
}

bool ChildProcess::running() {
    if (reaped_ || pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        return false;
    }
    return true;
}

void ChildProcess::stop(std::chrono::milliseconds grace) {
    boost::system::error_code ignored;
    if (stdin_) stdin_->close(ignored);
    if (reaped_ || pid_ <= 0) {
        if (stdout_) stdout_->close(ignored);
        return;
    }
    // First the polite way (stdin closed), then SIGTERM to the group, then SIGKILL.
    auto wait_for_exit = [&](std::chrono::milliseconds d) {
        auto until = std::chrono::steady_clock::now() + d;
        while (std::chrono::steady_clock::now() < until && running())
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    };
    wait_for_exit(grace / 2);
    if (!reaped_) {
        ::kill(-pid_, SIGTERM);
        wait_for_exit(grace / 2);
    }
    if (!reaped_) {
        ::kill(-pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        reaped_ = true;
    } else {
        ::kill(-pid_, SIGKILL);  // anything the command left behind in its group
    }
    if (stdout_) stdout_->close(ignored);
}

}  // namespace brownout::harness
