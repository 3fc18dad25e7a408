#pragma once
// Child processes for external client stacks: started with pipes, always reaped.

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <map>
#include <memory>
#include <string>

namespace brownout::harness {

class ChildProcess {
public:
    // Runs `/bin/sh -c command` with `env` added to the environment; stdin and stdout are
    // pipes bound to `ioc`; stderr goes to `stderr_file` (appended).
    ChildProcess(boost::asio::io_context& ioc, const std::string& command,
                 const std::map<std::string, std::string>& env, const std::string& stderr_file,
                 bool with_pipes = true);
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    boost::asio::posix::stream_descriptor& in() { return *stdin_; }
    boost::asio::posix::stream_descriptor& out() { return *stdout_; }
    pid_t pid() const { return pid_; }
    bool running();
    // Closes stdin, waits up to `grace` for an exit, then kills the process group; always reaps.
    void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));

private:
    pid_t pid_ = -1;
    std::unique_ptr<boost::asio::posix::stream_descriptor> stdin_;
    std::unique_ptr<boost::asio::posix::stream_descriptor> stdout_;
    bool reaped_ = false;
};

// BROWNOUT_<ID>_URL (or _KEY: the provider's API key, when the scenario sets one): the id
// upper-cased, anything not a letter or digit as '_'.
std::string provider_env_name(const std::string& id, std::string_view what = "URL");
// The id as it appears in those names: upper-cased, anything else than a letter or digit "_".
std::string provider_env_stem(std::string_view id);

}  // namespace brownout::harness
