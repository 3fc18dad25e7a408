// The registry of built-in policies: a name, its factory, and the one reader of the parameters
// they share. Adding a policy is one file in this folder and one row below.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <utility>

#include "core/error.h"
#include "core/toml_reader.h"
#include "harness/policies/policy.h"

namespace brownout::harness {
namespace {

struct Entry {
    const char* name;
    PolicyFactory make;
};
constexpr Entry kPolicies[] = {
    {"naive", make_naive},
    {"sdk-default", make_sdk_default},
    {"retry-storm", make_retry_storm},
    {"failover", make_failover},
};

// The jitter families by name, once: the key's choices and its reading both come from here.
constexpr std::pair<const char*, PolicyParams::Jitter> kJitters[] = {
    {"full", PolicyParams::Jitter::full},
    {"none", PolicyParams::Jitter::none},
    {"equal", PolicyParams::Jitter::equal},
    {"decorrelated", PolicyParams::Jitter::decorrelated},
};
const std::vector<std::string>& jitter_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const auto& [name, jitter] : kJitters) out.emplace_back(name);
        return out;
    }();
    return names;
}

}  // namespace

const std::vector<std::string>& policy_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const auto& e : kPolicies) out.emplace_back(e.name);
        return out;
    }();
    return names;
}

const std::vector<KeySpec>& policy_keys() {
    static const std::vector<KeySpec> keys = {
        {"policy", KeyType::string, "the built-in policy (default failover)", policy_names()},
        {"max_retries", KeyType::integer, "retries after the first attempt", {}, 0, 100},
        {"attempt_timeout", KeyType::duration, "one attempt's timeout"},
        {"backoff_base", KeyType::duration, "the first backoff"},
        {"backoff_cap", KeyType::duration, "the longest backoff"},
        {"retry_budget",
         KeyType::any,
         "retries per answer earned (0 to 10), or \"unlimited\"",
         {},
         {},
         {},
         nullptr,
         false,
         R"({"anyOf":[{"type":"number","minimum":0,"maximum":10},{"const":"unlimited"}]})"},
        {"retry_budget_per", KeyType::string, "what earns retry budget", {"answer", "request"}},
        {"breaker_failures",
         KeyType::integer,
         "failures that open a provider's breaker",
         {},
         1,
         1000},
        {"breaker_cooldown", KeyType::duration, "how long a breaker stays open"},
        {"cache", KeyType::boolean, "answer repeated questions from a cache"},
        {"serve_stale", KeyType::boolean, "serve the newest cached answer when nothing answers"},
        {"cache_ttl", KeyType::duration, "how long a cached answer is served"},
        {"check_finish_reason", KeyType::boolean, "treat an unfinished answer as a failure"},
        {"honor_retry_after", KeyType::boolean, "wait what Retry-After says"},
        {"jitter", KeyType::string, "backoff jitter (Brooker 2015)", jitter_names()},
        {"capability_routing", KeyType::boolean, "send a request only where its features work"},
    };
    return keys;
}

PolicyParams read_policy_params(TableReader& t) {
    PolicyParams p;
    p.policy = t.choice("policy", policy_names()).value_or("failover");
    if (auto n = t.integer("max_retries", 0, 100)) p.max_retries = static_cast<int>(*n);
    if (auto d = t.duration("attempt_timeout")) p.attempt_timeout = *d;
    if (auto d = t.duration("backoff_base")) p.backoff_base = *d;
    if (auto d = t.duration("backoff_cap")) p.backoff_cap = *d;
    if (t.has("retry_budget") && t.node("retry_budget")->is_string()) {
        if (t.string("retry_budget") != "unlimited")
            t.fail("retry_budget", "expected a number from 0 to 10, or \"unlimited\"");
        p.retry_budget = -1;
    } else if (auto b = t.number_in("retry_budget", 0, 10)) {
        p.retry_budget = *b;
    }
    if (auto per = t.choice("retry_budget_per", {"answer", "request"}))
        p.retry_budget_per_request = *per == "request";
    if (auto n = t.integer("breaker_failures", 1, 1000)) p.breaker_failures = static_cast<int>(*n);
    if (auto d = t.duration("breaker_cooldown")) p.breaker_cooldown = *d;
    if (auto c = t.boolean("cache")) p.cache = *c;
    if (auto s = t.boolean("serve_stale")) p.serve_stale = *s;
    if (auto d = t.duration("cache_ttl")) p.cache_ttl = *d;
    p.check_finish_reason = t.boolean("check_finish_reason");
    if (auto h = t.boolean("honor_retry_after")) p.honor_retry_after = *h;
    if (auto j = t.choice("jitter", jitter_names())) {
        for (const auto& [name, jitter] : kJitters)
            if (*j == name) p.jitter = jitter;
    }
    if (auto c = t.boolean("capability_routing")) p.capability_routing = *c;
    return p;
}

std::unique_ptr<Policy> make_policy(const PolicyParams& params,
                                    const std::vector<ProviderTraits>& providers,
                                    std::uint64_t seed, Duration deadline) {
    for (const auto& e : kPolicies) {
        if (params.policy != e.name) continue;
        auto policy = e.make(params, providers, seed, deadline);
        policy->set_check_finish_reason(params.checks_finish_reason());
        return policy;
    }
    throw Error(fmt::format("unknown policy \"{}\" (built-in policies: {})", params.policy,
                            fmt::join(policy_names(), ", ")));
}

}  // namespace brownout::harness
