// The metastable effect (DESIGN §5, scoring.md §1.3): under the same capacity-drop trigger,
// clients that retry at once keep a capacity-limited provider saturated long after the trigger
// ended, while clients with jittered backoff and a retry budget let it recover.
//
// Wall time = scenario time here (time_scale 1). Timeline: steady 0–4 s, capacity at 20% from
// 4 s to 7 s, then full capacity again. Service takes 0.5 s; 8 slots and a queue of 24 give a
// capacity of 16 answers/s against 6 users/s. A client gives an attempt 1 s.

#include <catch2/catch.hpp>
#include <mutex>
#include <thread>

#include "core/random.h"
#include "harness/scenario.h"
#include "tests/integration/fleet_fixture.h"
#include "tests/support/http_client.h"

using namespace brownout;
using namespace brownout::test;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

namespace {

const std::string kProbeScenario = R"(
[scenario]
name = "metastability"
duration = "30s"
time_scale = 1
seed = 99
[[providers]]
id = "p"
models = ["m"]
latency = { ttft = "500ms", tokens_per_second = 0, jitter = 0 }
capacity = { concurrency = 8, queue = 24, abandoned_work = "continue" }
  [[providers.phases]]
  name = "capacity drop"
  start = "4s"
  end = "7s"
  fault = "recovery"
  failures = 0.0
  capacity = 0.2
)";

struct Policy {
    int max_attempts;
    bool backoff;  // full-jitter exponential backoff and a retry budget; otherwise retry at once
};

// Retries allowed at most one a second, two in a burst (a token bucket, as the AWS SDKs do).
class RetryBudget {
public:
    bool try_take() {
        std::lock_guard lock(mutex_);
        auto now = SteadyClock::now();
        tokens_ = std::min(2.0, tokens_ + std::chrono::duration<double>(now - last_).count());
        last_ = now;
        if (tokens_ < 1.0) return false;
        tokens_ -= 1.0;
        return true;
    }

private:
    std::mutex mutex_;
    double tokens_ = 2.0;
    SteadyClock::time_point last_ = SteadyClock::now();
};

struct User {
    double arrival = 0;  // seconds since the start
    bool ok = false;
};

bool run_user(unsigned short port, const Policy& policy, RetryBudget& budget, std::uint64_t seed) {
    RandomStream rng(seed);
    for (int attempt = 0; attempt < policy.max_attempts; ++attempt) {
        try {
            HttpConnection c(port, 1000ms);
            auto r = c.request("POST", "/v1/chat/completions",
                               R"({"model":"m","messages":[{"role":"user","content":"x"}]})");
            if (r.status == 200 && r.error.empty()) return true;
        } catch (const std::exception&) {
        }
        if (!policy.backoff) continue;
        if (!budget.try_take()) return false;
        double cap = std::min(4.0, 0.5 * std::pow(2.0, attempt));
        std::this_thread::sleep_for(std::chrono::duration<double>(rng.uniform(0.0, cap)));
    }
    return false;
}

// Runs 6 users a second for 15 s against a fresh fleet; returns every user's outcome.
std::vector<User> drive(const Policy& policy, std::vector<mock::Attempt>& journal) {
    auto scenario = harness::load_scenario_text(kProbeScenario, "metastability.toml");
    auto clock = std::make_shared<ScaledClock>(1.0);
    mock::Fleet fleet(scenario.providers, clock, LiveFleet::quick_limits());
    fleet.start("127.0.0.1", {}, 1);
    auto port = fleet.endpoints()[0].port;
    RetryBudget budget;
    std::vector<User> users(90);
    std::vector<std::thread> threads;
    auto t0 = SteadyClock::now();
    for (std::size_t i = 0; i < users.size(); ++i) {
        std::this_thread::sleep_until(t0 + i * std::chrono::microseconds(166'667));
        users[i].arrival = std::chrono::duration<double>(SteadyClock::now() - t0).count();
        threads.emplace_back([&, i] { users[i].ok = run_user(port, policy, budget, i + 1); });
    }
    for (auto& t : threads) t.join();
    fleet.shutdown();
    fleet.join();
    journal = fleet.journal().since(0);
    return users;
}

double goodput(const std::vector<User>& users, double from, double to) {
    int n = 0, ok = 0;
    for (const auto& u : users) {
        if (u.arrival < from || u.arrival >= to) continue;
        ++n;
        ok += u.ok;
    }
    return n == 0 ? 0.0 : ok / double(n);
}

}  // namespace

TEST_CASE(
    "immediate retries keep a provider down after the trigger while jittered backoff lets it "
    "recover",
    "[integration][metastable]") {
    std::vector<mock::Attempt> storm_journal, backoff_journal;
    std::vector<User> storm, backoff;
    // The two stacks run side by side, each against its own fleet.
    std::thread a([&] { storm = drive(Policy{6, false}, storm_journal); });
    std::thread b([&] { backoff = drive(Policy{3, true}, backoff_journal); });
    a.join();
    b.join();

    double storm_steady = goodput(storm, 0.5, 4.0), storm_after = goodput(storm, 11.0, 15.0);
    double backoff_steady = goodput(backoff, 0.5, 4.0),
           backoff_after = goodput(backoff, 11.0, 15.0);
    INFO("retry-storm goodput: steady " << storm_steady << ", 4-8 s after the trigger "
                                        << storm_after);
    INFO("backoff goodput:     steady " << backoff_steady << ", 4-8 s after the trigger "
                                        << backoff_after);
    CHECK(storm_steady > 0.9);
    CHECK(backoff_steady > 0.9);
    // Metastable: goodput below half of steady long after the trigger ended.
    CHECK(storm_after < 0.5 * storm_steady);
    CHECK(backoff_after > 0.8 * backoff_steady);
    // The storm's sustaining effect is visible in the provider's own journal.
    CHECK(storm_journal.size() > 2 * backoff_journal.size());
}
