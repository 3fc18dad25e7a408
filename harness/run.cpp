#include "harness/run.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "core/text.h"
#include "harness/transport.h"
#include "mockprovider/answer.h"
#include "mockprovider/server.h"

namespace brownout::harness {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

std::string judge_answer(const UserRequest& request, const std::string& text) {
    auto expected = expected_request(request);
    if (request.kind == RequestKind::tools) {
        // A tool call's arguments carry the request digest instead of a tag.
        return text.find("bo-" + to_hex(expected.text_digest, 8)) != std::string::npos ? "ok" : "wrong_request";
    }
    auto verdict = mock::verify_answer(text, expected);
    if (verdict == mock::Verdict::wrong_request) {
        for (std::int64_t hour = request.freshness - 1; hour >= 0 && hour >= request.freshness - 48; --hour) {
            UserRequest older = request;
            older.freshness = hour;
            if (mock::verify_answer(text, expected_request(older)) == mock::Verdict::ok) return "stale";
        }
    }
    return std::string(mock::to_string(verdict));
}

namespace {

// One client stack's run: its fleet, its transport, its policy, its users.
class StackDriver {
public:
    StackDriver(const Scenario& s, const ClientSpec& client, std::shared_ptr<ScaledClock> clock, const std::vector<UserRequest>& workload)
        : scenario_(s), client_(client), clock_(std::move(clock)), workload_(workload), arrivals_(ioc_), watchdog_(ioc_) {
        mock::ServerLimits limits;
        limits.shutdown_grace = std::chrono::milliseconds(200);
        fleet_ = std::make_unique<mock::Fleet>(s.providers, clock_, limits);
        fleet_->start("127.0.0.1", {}, 1);
        auto endpoints = fleet_->endpoints();
        std::vector<ProviderAddress> addresses;
        std::vector<ProviderTraits> traits;
        for (const auto& id : client.providers) {
            for (std::size_t i = 0; i < s.providers.size(); ++i) {
                const auto& p = s.providers[i];
                if (p.id != id) continue;
                addresses.push_back({p.id, "127.0.0.1", endpoints[i].port, p.dialect, p.models.front()});
                traits.push_back({p.id, p.has_feature("vision"), p.has_feature("tools"), p.has_feature("stream")});
            }
        }
        transport_ = std::make_unique<Transport>(ioc_, addresses, *clock_);
        policy_ = make_policy(client.params, traits, hash64(client.name, s.seed), s.workload.deadline);
        users_.resize(workload_.size());
        for (std::size_t i = 0; i < workload_.size(); ++i) {
            users_[i].id = workload_[i].id;
            users_[i].arrival = workload_[i].arrival;
            users_[i].kind = workload_[i].kind;
        }
    }

    void run(std::atomic<bool>* stop) {
        stop_ = stop;
        schedule(0);
        watch();
        ioc_.run();
        transport_->close_all();
        fleet_->shutdown();
        fleet_->join();
    }

    StackRun result() {
        StackRun r;
        r.client = client_;
        r.users = users_;
        r.attempts = fleet_->journal().since(0);
        return r;
    }

    std::pair<std::size_t, std::size_t> progress() const { return {done_.load(), good_.load()}; }
    bool interrupted() const { return interrupted_; }

private:
    struct Flight {
        std::size_t index;
        std::unique_ptr<PolicyRun> run;
        asio::steady_timer timer;
        std::optional<AttemptResult> last;
        std::uint64_t handle = 0;
        bool done = false;
        Flight(asio::io_context& ioc, std::size_t i) : index(i), timer(ioc) {}
    };

    Duration now() const { return clock_->now(); }
    SteadyClock::time_point wall_at(Duration scenario_time) const {
        auto ahead = scenario_time - now();
        return SteadyClock::now() + (ahead > Duration::zero() ? clock_->to_wall(ahead) : std::chrono::nanoseconds::zero());
    }

    void schedule(std::size_t i) {
        if (i >= workload_.size()) {
            arrivals_done_ = true;
            return;
        }
        arrivals_.expires_at(wall_at(workload_[i].arrival));
        arrivals_.async_wait([this, i](boost::system::error_code ec) {
            if (ec) return;
            start(i);
            schedule(i + 1);
        });
    }

    // Ends the run when every user is done, the stop flag is set, or nothing can change any more.
    void watch() {
        watchdog_.expires_after(std::chrono::milliseconds(50));
        watchdog_.async_wait([this](boost::system::error_code ec) {
            if (ec) return;
            bool stop = stop_ != nullptr && stop_->load();
            if (stop) interrupted_ = true;
            // A user still waiting at twice the deadline is hung: the stack never answered.
            Duration t = now();
            for (auto& [index, flight] : flights_) {
                if (!flight->done && t - users_[index].arrival > 2 * scenario_.workload.deadline) {
                    finish(*flight, UserRecord::Outcome::hung, "");
                }
            }
            std::erase_if(flights_, [](const auto& kv) { return kv.second->done; });
            if (stop || (arrivals_done_ && flights_.empty())) {
                arrivals_.cancel();
                for (auto& [index, flight] : flights_) {
                    flight->timer.cancel();
                    transport_->abandon(flight->handle);
                }
                flights_.clear();
                return;  // the io_context runs out of work and returns
            }
            watch();
        });
    }

    void start(std::size_t i) {
        auto flight = std::make_shared<Flight>(ioc_, i);
        flight->run = policy_->begin(workload_[i], now());
        flights_[i] = flight;
        step(flight, flight->run->next(now(), nullptr));
    }

    void step(const std::shared_ptr<Flight>& f, Step s) {
        if (f->done) return;
        switch (s.action) {
            case Step::Action::give_up:
                return finish(*f, UserRecord::Outcome::failed, "");
            case Step::Action::serve_cached:
                users_[f->index].provider = -2;
                return finish(*f, UserRecord::Outcome::answered, s.cached);
            case Step::Action::wait:
                f->timer.expires_after(clock_->to_wall(s.delay));
                f->timer.async_wait([this, f](boost::system::error_code ec) {
                    if (ec || f->done) return;
                    step(f, f->run->next(now(), f->last ? &*f->last : nullptr));
                });
                return;
            case Step::Action::attempt: {
                const auto& request = workload_[f->index];
                const auto& address = transport_->providers()[s.provider];
                ++users_[f->index].attempts;
                std::size_t provider = s.provider;
                f->handle = transport_->send(provider, render_request(request, address.dialect, address.model), request.stream(),
                                             s.timeout, [this, f, provider](AttemptResult r) {
                                                 if (f->done) return;
                                                 if (r.kind == AttemptResult::Kind::answer) {
                                                     f->run->answered(now(), provider, r.text);
                                                     users_[f->index].provider = static_cast<int>(provider);
                                                     return finish(*f, UserRecord::Outcome::answered, r.text);
                                                 }
                                                 f->last = r;
                                                 step(f, f->run->next(now(), &*f->last));
                                             });
                return;
            }
        }
    }

    void finish(Flight& f, UserRecord::Outcome outcome, const std::string& text) {
        if (f.done) return;
        f.done = true;
        f.timer.cancel();
        auto& u = users_[f.index];
        u.outcome = outcome;
        u.finished = now();
        if (outcome == UserRecord::Outcome::answered) {
            u.verdict = judge_answer(workload_[f.index], text);
            if (u.verdict == "ok" && u.finished - u.arrival <= scenario_.workload.deadline) ++good_;
        }
        if (outcome == UserRecord::Outcome::hung) transport_->abandon(f.handle);
        ++done_;
    }

    const Scenario& scenario_;
    const ClientSpec& client_;
    std::shared_ptr<ScaledClock> clock_;
    const std::vector<UserRequest>& workload_;
    asio::io_context ioc_;
    asio::steady_timer arrivals_;
    asio::steady_timer watchdog_;
    std::unique_ptr<mock::Fleet> fleet_;
    std::unique_ptr<Transport> transport_;
    std::unique_ptr<Policy> policy_;
    std::vector<UserRecord> users_;
    std::map<std::size_t, std::shared_ptr<Flight>> flights_;
    std::atomic<bool>* stop_ = nullptr;
    bool arrivals_done_ = false;
    bool interrupted_ = false;
    std::atomic<std::size_t> done_{0};
    std::atomic<std::size_t> good_{0};
};

}  // namespace

RunResult run_scenario(Scenario scenario, const RunOptions& options) {
    if (options.time_scale) scenario.time_scale = *options.time_scale;
    if (options.seed) {
        scenario.seed = *options.seed;
        for (auto& p : scenario.providers) p.seed = hash64(p.id, scenario.seed);
    }
    if (!options.clients.empty()) {
        std::vector<ClientSpec> chosen;
        for (const auto& name : options.clients) {
            auto it = std::find_if(scenario.clients.begin(), scenario.clients.end(), [&](const ClientSpec& c) { return c.name == name; });
            if (it == scenario.clients.end()) throw Error(fmt::format("--client {}: the scenario has no such client", name));
            chosen.push_back(*it);
        }
        scenario.clients = std::move(chosen);
    }
    RunResult result;
    auto workload = generate_workload(scenario.workload, scenario.duration, scenario.seed);
    // One clock for every stack: they all live the same incident at the same moment.
    auto clock = std::make_shared<ScaledClock>(scenario.time_scale);
    std::vector<std::unique_ptr<StackDriver>> drivers;
    for (const auto& client : scenario.clients) drivers.push_back(std::make_unique<StackDriver>(scenario, client, clock, workload));
    clock->jump_to(Duration::zero());
    auto started = SteadyClock::now();
    std::vector<std::thread> threads;
    for (auto& d : drivers) threads.emplace_back([&d, &options] { d->run(options.stop); });
    std::atomic<std::size_t> running = threads.size();
    while (true) {
        bool all_done = true;
        for (auto& t : threads) {
            (void)t;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        std::vector<std::pair<std::size_t, std::size_t>> progress;
        std::size_t finished_users = 0;
        for (auto& d : drivers) {
            progress.push_back(d->progress());
            finished_users += d->progress().first;
        }
        all_done = finished_users == workload.size() * drivers.size();
        static auto last_report = SteadyClock::now();
        if (options.progress && SteadyClock::now() - last_report >= std::chrono::seconds(1)) {
            last_report = SteadyClock::now();
            options.progress(clock->now(), progress);
        }
        if (all_done || (options.stop != nullptr && options.stop->load())) break;
    }
    for (auto& t : threads) t.join();
    (void)running;
    result.wall_seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
    for (auto& d : drivers) {
        result.partial = result.partial || d->interrupted();
        result.stacks.push_back(d->result());
    }
    if (options.stop != nullptr && options.stop->load()) result.partial = true;
    result.scenario = std::move(scenario);
    return result;
}

}  // namespace brownout::harness
