// The registry of built-in policies: a name, its keys and its factory. Adding a policy is one
// file in this folder (its factory, its keys and how it reads them) and one row below.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "core/error.h"
#include "harness/policies/policy.h"

namespace brownout::harness {
namespace {

struct Entry {
    const char* name;
    PolicyFactory make;
    const std::vector<PolicyKey>& (*keys)();
};
constexpr Entry kPolicies[] = {
    {"naive", make_naive, naive_keys},
    {"sdk-default", make_sdk_default, sdk_default_keys},
    {"retry-storm", make_retry_storm, retry_storm_keys},
    {"failover", make_failover, failover_keys},
};

const Entry* find_policy(const std::string& name) {
    for (const auto& e : kPolicies) {
        if (name == e.name) return &e;
    }
    return nullptr;
}

// The keys every policy reads.
std::vector<KeySpec> common_keys() {
    return {
        {"policy", KeyType::string, "the built-in policy (default failover)", policy_names()},
        {"check_finish_reason", KeyType::boolean, "treat an unfinished answer as a failure"},
    };
}

}  // namespace

const PolicyKey& attempt_timeout_key() {
    static const PolicyKey key{{"attempt_timeout", KeyType::duration, "one attempt's timeout"},
                               [](TableReader& t, PolicyParams& p) {
                                   if (auto d = t.duration("attempt_timeout"))
                                       p.attempt_timeout = *d;
                               }};
    return key;
}

const PolicyKey& max_retries_key() {
    static const PolicyKey key{
        {"max_retries", KeyType::integer, "retries after the first attempt", {}, 0, 100},
        [](TableReader& t, PolicyParams& p) {
            if (auto n = t.integer("max_retries", 0, 100)) p.max_retries = static_cast<int>(*n);
        }};
    return key;
}

const PolicyKey& honor_retry_after_key() {
    static const PolicyKey key{
        {"honor_retry_after", KeyType::boolean, "wait what Retry-After says"},
        [](TableReader& t, PolicyParams& p) {
            if (auto h = t.boolean("honor_retry_after")) p.honor_retry_after = *h;
        }};
    return key;
}

const std::vector<std::string>& policy_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const auto& e : kPolicies) out.emplace_back(e.name);
        return out;
    }();
    return names;
}

std::vector<KeySpec> policy_keys(const std::string& policy) {
    auto keys = common_keys();
    if (const auto* e = find_policy(policy)) {
        for (const auto& k : e->keys()) keys.push_back(k.spec);
    }
    return keys;
}

PolicyParams read_policy_params(TableReader& t) {
    PolicyParams p;
    // Each key on its own, so that every error in the table is reported; a policy name that is
    // not one reads the default's keys, which leaves its own error alone rather than calling
    // every other key unknown.
    ErrorCollector errors;
    errors.attempt([&] { p.policy = t.choice("policy", policy_names()).value_or("failover"); });
    errors.attempt([&] { p.check_finish_reason = t.boolean("check_finish_reason"); });
    for (const auto& k : find_policy(p.policy)->keys()) errors.attempt([&] { k.read(t, p); });
    errors.throw_if_any();
    return p;
}

std::string policy_key_note(const std::string& policy, std::string_view key) {
    auto is = [&](const PolicyKey& k) { return k.spec.name == key; };
    std::vector<std::string> owners;
    for (const auto& e : kPolicies) {
        if (std::any_of(e.keys().begin(), e.keys().end(), is)) owners.emplace_back(e.name);
    }
    if (owners.empty() || std::find(owners.begin(), owners.end(), policy) != owners.end())
        return "";
    return fmt::format("not a key of policy \"{}\" (it is {}'s)", policy,
                       fmt::join(owners, "'s and "));
}

std::unique_ptr<Policy> make_policy(const PolicyParams& params,
                                    const std::vector<ProviderTraits>& providers,
                                    std::uint64_t seed, Duration deadline) {
    if (const auto* e = find_policy(params.policy))
        return e->make(params, providers, seed, deadline);
    throw Error(fmt::format("unknown policy \"{}\" (built-in policies: {})", params.policy,
                            fmt::join(policy_names(), ", ")));
}

}  // namespace brownout::harness
