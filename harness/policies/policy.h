#pragma once
// Built-in client stacks as pure policies, one file each in harness/policies/: they take `now`
// (scenario time) and what the last attempt returned, and say what to do next. No sockets and no
// clock here — the runner carries the steps out, and tests drive policies with scripted results.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/duration.h"
#include "core/random.h"
#include "harness/workload.h"

namespace brownout {
struct KeySpec;
}

namespace brownout {
class TableReader;
}

namespace brownout::harness {

struct AttemptResult {
    enum class Kind {
        answer,         // a 200 with an answer (complete or not: verification decides)
        http_error,     // an error status before any answer
        connect_error,  // refused, reset before headers
        timeout,        // no headers within the attempt timeout
        broken_stream,  // a 200 stream that broke (cut, in-band error, stall past the timeout)
    };
    Kind kind = Kind::answer;
    int status = 0;
    std::optional<Duration> retry_after;  // scenario time
    std::optional<bool> should_retry;
    bool unsupported = false;   // a 400/404 that says the provider cannot do this (feature, model)
    std::string text;           // the answer, for Kind::answer
    std::string finish_reason;  // OpenAI-format answers: "stop", "length",
                                // "insufficient_system_resource", …
};

struct Step {
    enum class Action { attempt, wait, give_up, serve_cached };
    Action action = Action::give_up;
    std::size_t provider = 0;  // index into the stack's providers
    Duration delay{};          // wait
    Duration timeout{};        // attempt
    std::string cached;        // serve_cached
};

// One user request's life under a policy.
class PolicyRun {
public:
    virtual ~PolicyRun() = default;
    // `last` is null for the first step, then the result of the previous attempt (never an answer).
    virtual Step next(Duration now, const AttemptResult* last) = 0;
    // Called once an attempt answered.
    virtual void answered(Duration /*now*/, std::size_t /*provider*/, const std::string& /*text*/) {
    }
};

struct ProviderTraits {
    std::string id;
    bool vision = true;
    bool tools = true;
    bool stream = true;
};

class Policy {
public:
    virtual ~Policy() = default;
    virtual std::unique_ptr<PolicyRun> begin(const UserRequest& request, Duration now) = 0;

    // Whether a 200 counts as an answer, or as a failed attempt the policy goes on from: an
    // answer whose finish_reason says the provider ran out of resources (DeepSeek's
    // "insufficient_system_resource") fails when the policy checks it (check_finish_reason).
    bool accepts(const AttemptResult& answer) const {
        return !(check_finish_reason_ && answer.finish_reason == "insufficient_system_resource");
    }
    void set_check_finish_reason(bool check) { check_finish_reason_ = check; }

private:
    bool check_finish_reason_ = false;
};

struct PolicyParams {
    std::string policy = "failover";  // naive | sdk-default | retry-storm | failover
    int max_retries = -1;             // -1: the policy's default
    Duration attempt_timeout{};       // 0: the policy's default
    Duration backoff_base = std::chrono::milliseconds(250);
    Duration backoff_cap = std::chrono::seconds(4);
    double retry_budget =
        0.2;  // failover: retries allowed per request, on average; < 0: unlimited ("unlimited")
    // failover: what earns the budget — each answered request (gRPC's retry throttling: in a
    // full outage the retries stop), or each request (Google SRE's per-client retry budget: at
    // most that share of requests are retries, whatever happens).
    bool retry_budget_per_request = false;
    int breaker_failures =
        20;  // failover: outcomes a breaker must see before it may open (at >= 50% failures)
    Duration breaker_cooldown = std::chrono::seconds(30);
    bool cache = true;         // failover: answer repeated prompts from a response cache
    bool serve_stale = false;  // failover: serve an older answer when every provider fails
    // An answer whose finish_reason says the provider ran out of resources (DeepSeek's
    // "insufficient_system_resource") is a failed attempt, not an answer. Default: failover only
    // (the official SDKs pass such an answer on as if it were complete).
    std::optional<bool> check_finish_reason;
    bool checks_finish_reason() const { return check_finish_reason.value_or(policy == "failover"); }
    Duration cache_ttl = std::chrono::hours(1);
    // One behaviour each, so that the validity suite can compare stacks that differ in exactly one.
    bool honor_retry_after =
        true;  // sdk-default, failover: wait what Retry-After / retry-after-ms say
    // failover: how a backoff step becomes a wait (Brooker 2015, "Exponential Backoff And
    // Jitter"; step = min(cap, base·2^n)): full U(0, step), none (the step), equal step/2 +
    // U(0, step/2), or decorrelated min(cap, U(base, 3·previous wait)), starting from base.
    enum class Jitter { full, none, equal, decorrelated };
    Jitter jitter = Jitter::full;
    bool capability_routing = true;  // failover: route around a provider that says "not supported"
};

PolicyParams read_policy_params(TableReader& t);
// The keys read_policy_params reads (core/toml_reader.h).
const std::vector<KeySpec>& policy_keys();
// The built-in policies' names, in the order the README lists them.
const std::vector<std::string>& policy_names();
// Throws brownout::Error naming the choices when params.policy is not one of them.
// The steps a policy returns.
inline Step attempt(std::size_t provider, Duration timeout) {
    return Step{Step::Action::attempt, provider, {}, timeout, {}};
}
inline Step wait(Duration d) {
    return Step{Step::Action::wait, 0, d, {}, {}};
}
inline Step give_up() {
    return Step{};
}

// One factory per policy file (harness/policies/<name>.cpp); the registry maps names to them.
using PolicyFactory = std::unique_ptr<Policy> (*)(const PolicyParams& params,
                                                  const std::vector<ProviderTraits>& providers,
                                                  std::uint64_t seed, Duration deadline);
std::unique_ptr<Policy> make_naive(const PolicyParams&, const std::vector<ProviderTraits>&,
                                   std::uint64_t, Duration);
std::unique_ptr<Policy> make_sdk_default(const PolicyParams&, const std::vector<ProviderTraits>&,
                                         std::uint64_t, Duration);
std::unique_ptr<Policy> make_retry_storm(const PolicyParams&, const std::vector<ProviderTraits>&,
                                         std::uint64_t, Duration);
std::unique_ptr<Policy> make_failover(const PolicyParams&, const std::vector<ProviderTraits>&,
                                      std::uint64_t, Duration);

std::unique_ptr<Policy> make_policy(const PolicyParams& params,
                                    const std::vector<ProviderTraits>& providers,
                                    std::uint64_t seed, Duration deadline);

}  // namespace brownout::harness
