// kind = "gateway": a program that listens for OpenAI chat requests (Portkey, LiteLLM, a team's
// own proxy) and does its own retries and fallbacks. brownout starts it, waits until it accepts
// connections, and sends it each user's request once, waiting as long as the user would.

#include <fmt/format.h>

#include <boost/asio/ip/tcp.hpp>
#include <thread>

#include "core/text.h"
#include "harness/process.h"
#include "harness/stacks/stack.h"

namespace brownout::harness {
namespace {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

unsigned short free_port() {
    asio::io_context ioc;
    asio::ip::tcp::acceptor a(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();
}

class Gateway final : public Stack {
public:
    Gateway(StackSetup setup, StackHost& host)
        : host_(host), client_(setup.client), log_file_(std::move(setup.log_file)) {
        address_ = address(setup.scenario);
        warped_ = setup.warped;
        PolicyParams once;
        once.policy = "naive";
        once.attempt_timeout = 2 * setup.scenario.workload.deadline;  // the user waits it out
        calls_ = make_policy_stack(host, setup.workload,
                                   make_policy(once, {}, 0, setup.scenario.workload.deadline),
                                   host.connect({address_}));
    }

    void prepare() override {
        if (!client_.command.empty()) {
            std::string command =
                replace_all(client_.command, "{port}", std::to_string(address_.port));
            try {
                child_ = std::make_unique<ChildProcess>(host_.io(), command, host_.child_env(),
                                                        log_file_, false);
            } catch (const std::exception& e) {
                host_.note(fmt::format("gateway did not start: {}", e.what()));
                return;
            }
        }
        // Ready when it accepts connections, within ready_timeout (wall time).
        auto until = SteadyClock::now() +
                     std::chrono::duration_cast<std::chrono::nanoseconds>(client_.ready_timeout);
        while (SteadyClock::now() < until && !host_.stop_requested()) {
            boost::system::error_code ec;
            asio::ip::tcp::socket probe(host_.io());
            probe.connect({asio::ip::make_address(address_.host), address_.port}, ec);
            if (!ec) {
                ready_ = true;
                break;
            }
            if (child_ && !child_->running()) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        if (!ready_) {
            host_.note(fmt::format(
                "gateway never became ready at {} (its log: {}): its requests are failures", url_,
                log_file_));
        }
        if (!client_.command.empty() && !warped_)
            host_.note(
                "gateway: its own timers (retries, timeouts) run in wall time, not scenario time");
    }

    void start(std::size_t user) override {
        if (!ready_) return host_.finish(user, UserRecord::Outcome::failed, "", -1);
        calls_->start(user);
    }
    void abandon(std::size_t user) override { calls_->abandon(user); }
    void stop() override {
        calls_->stop();
        if (child_) child_->stop(std::chrono::milliseconds(1000));
    }
    void close() override {
        calls_->close();
        if (child_) child_->stop();
    }

private:
    // The gateway's chat endpoint, from its url (http://HOST:PORT/PATH, "{port}" a free port).
    ProviderAddress address(const Scenario& scenario) {
        unsigned short port = 0;
        if (client_.url.find("{port}") != std::string::npos) port = free_port();
        url_ = replace_all(client_.url, "{port}", std::to_string(port));
        std::string rest = url_.substr(7);
        auto slash = rest.find('/');
        std::string hostport = rest.substr(0, slash);
        std::string path = slash == std::string::npos ? "" : rest.substr(slash);
        if (path.empty() || path.back() != '/') path += "/";
        ProviderAddress a;
        a.id = client_.name;
        a.host = hostport.substr(0, hostport.rfind(':'));
        a.port = static_cast<unsigned short>(std::stoi(hostport.substr(hostport.rfind(':') + 1)));
        a.dialect = wire::DialectKind::openai;
        a.model = client_.model.empty()
                      ? route_model(scenario, parse_route(client_.providers.front()))
                      : client_.model;
        a.path = path + "chat/completions";
        for (const auto& [k, v] : client_.headers) a.headers.emplace_back(k, host_.expand(v));
        return a;
    }

    StackHost& host_;
    const ClientSpec& client_;
    std::string log_file_;
    ProviderAddress address_;
    std::string url_;
    bool warped_ = false;
    bool ready_ = false;
    std::unique_ptr<Stack> calls_;  // one naive attempt per user, to the gateway
    std::unique_ptr<ChildProcess> child_;
};

}  // namespace

std::unique_ptr<Stack> make_gateway_stack(StackSetup setup, StackHost& host) {
    return std::make_unique<Gateway>(std::move(setup), host);
}

}  // namespace brownout::harness
