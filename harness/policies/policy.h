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
#include "core/toml_reader.h"
#include "harness/workload.h"

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
    std::size_t provider = 0;  // where the attempt went (index into the stack's providers)
    int status = 0;
    std::optional<Duration> retry_after;  // scenario time
    std::optional<bool> should_retry;
    bool unsupported = false;   // a 400/404 that says the provider cannot do this (feature, model)
    std::string text;           // the answer, for Kind::answer
    std::string finish_reason;  // OpenAI-format answers: "stop", "length",
                                // "insufficient_system_resource", …
};

struct Step {
    // await_attempts: nothing now, the attempts in flight go on (with none in flight it is
    // give_up). The first answer any attempt brings ends the request, and the runner abandons
    // the others.
    enum class Action { attempt, wait, give_up, serve_cached, await_attempts };
    Action action = Action::give_up;
    std::size_t provider = 0;  // index into the stack's providers
    Duration delay{};          // wait
    Duration timeout{};        // attempt
    std::string cached;        // serve_cached
    // attempt: when it is still in flight this long after it was sent, the runner asks
    // PolicyRun::hedge for another step (a hedged request). Zero: never.
    Duration hedge_after{};
};

// One user request's life under a policy. A policy may have several attempts in flight at once:
// every attempt that fails comes back through next(), and its result says which provider it was.
class PolicyRun {
public:
    virtual ~PolicyRun() = default;
    // `last` is null for the first step, then the result of the attempt that just failed (never
    // an answer), or the one before when a wait ended.
    virtual Step next(Duration now, const AttemptResult* last) = 0;
    // An attempt sent with `hedge_after` is still in flight: what to do beside it.
    virtual Step hedge(Duration /*now*/) { return Step{Step::Action::await_attempts}; }
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
    explicit Policy(bool check_finish_reason) : check_finish_reason_(check_finish_reason) {}
    virtual ~Policy() = default;
    virtual std::unique_ptr<PolicyRun> begin(const UserRequest& request, Duration now) = 0;

    // Whether a 200 counts as an answer, or as a failed attempt the policy goes on from (the
    // runner then hands it to next() as a broken stream): an answer whose finish_reason says the
    // provider ran out of resources (DeepSeek's "insufficient_system_resource") fails when the
    // policy checks it (check_finish_reason). A policy may check more.
    virtual bool accepts(const AttemptResult& answer) const {
        return !(check_finish_reason_ && answer.finish_reason == "insufficient_system_resource");
    }

private:
    bool check_finish_reason_;
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
    // failover: an attempt still unanswered after this long is hedged, sent again to the next
    // provider in the chain (zero: never); at most `max_hedges` extra attempts per request.
    Duration hedge_after{};
    int max_hedges = 1;
};

// One parameter a policy reads from its client table: the key (for validation, the JSON Schema
// and errors) and how it goes into PolicyParams.
struct PolicyKey {
    KeySpec spec;
    void (*read)(TableReader& t, PolicyParams& p);
};
// Keys that more than one policy reads, declared once (registry.cpp).
const PolicyKey& attempt_timeout_key();
const PolicyKey& max_retries_key();
const PolicyKey& honor_retry_after_key();
// Each policy's own keys, in its file; `policy` and `check_finish_reason` are every policy's.
const std::vector<PolicyKey>& naive_keys();
const std::vector<PolicyKey>& sdk_default_keys();
const std::vector<PolicyKey>& retry_storm_keys();
const std::vector<PolicyKey>& failover_keys();

// `policy` (default failover), then that policy's keys.
PolicyParams read_policy_params(TableReader& t);
// What to say of a key that `policy` does not read but another policy does ("not a key of
// policy … (it is failover's)"); empty for any other key.
std::string policy_key_note(const std::string& policy, std::string_view key);
// The keys a client table of this policy may have beside the stack's own (core/toml_reader.h).
std::vector<KeySpec> policy_keys(const std::string& policy);
// The built-in policies' names, in the order the README lists them.
const std::vector<std::string>& policy_names();

// The steps a policy returns.
inline Step attempt(std::size_t provider, Duration timeout, Duration hedge_after = {}) {
    return Step{Step::Action::attempt, provider, {}, timeout, {}, hedge_after};
}
inline Step wait(Duration d) {
    return Step{Step::Action::wait, 0, d, {}, {}};
}
inline Step give_up() {
    return Step{};
}
inline Step await_attempts() {
    return Step{Step::Action::await_attempts};
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

// Throws brownout::Error naming the choices when params.policy is not one of them.
std::unique_ptr<Policy> make_policy(const PolicyParams& params,
                                    const std::vector<ProviderTraits>& providers,
                                    std::uint64_t seed, Duration deadline);

}  // namespace brownout::harness
