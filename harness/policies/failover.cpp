#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "harness/policies/policy.h"

namespace brownout::harness {
namespace {

using Kind = AttemptResult::Kind;

// ── failover: what the incident taught ───────────────────────────────────────────────────
// A deadline; an ordered fallback chain with capability-aware routing; a circuit breaker per
// provider with half-open probes (so traffic fails back after recovery); exponential backoff
// with full jitter; a retry budget shared by all requests; a response cache.
class FailoverRun;

class Failover final : public Policy {
public:
    // A breaker per provider over its last 50 outcomes: open when at least half of them failed
    // (with `breaker_failures` outcomes at least), then one half-open probe per cooldown until
    // a probe succeeds.
    struct Breaker {
        std::deque<bool> outcomes;  // true: failure
        bool open = false;
        Duration open_until{};
        bool probing = false;
    };

    Failover(PolicyParams params, std::vector<ProviderTraits> providers, std::uint64_t seed,
             Duration deadline)
        : params_(std::move(params)),
          providers_(std::move(providers)),
          breakers_(providers_.size()),
          rng_(seed),
          deadline_(deadline) {}

    std::unique_ptr<PolicyRun> begin(const UserRequest& r, Duration now) override;

    bool capable(std::size_t i, const UserRequest& r, Duration now) const {
        if (!params_.capability_routing) return true;
        const auto& p = providers_[i];
        if (r.kind == RequestKind::vision && !p.vision) return false;
        if (r.kind == RequestKind::tools && !p.tools) return false;
        auto it = lost_.find({i, r.kind});
        return it == lost_.end() || now >= it->second;
    }
    bool allows(std::size_t i, Duration now) {
        auto& b = breakers_[i];
        if (!b.open) return true;
        if (now < b.open_until || b.probing) return false;
        b.probing = true;
        return true;
    }
    void record(std::size_t i, bool failed, Duration now) {
        auto& b = breakers_[i];
        if (b.open) {
            b.probing = false;
            if (failed) {
                b.open_until = now + params_.breaker_cooldown;
                return;
            }
            b = Breaker{};  // the probe succeeded: close and forget
            return;
        }
        b.outcomes.push_back(failed);
        if (b.outcomes.size() > 50) b.outcomes.pop_front();
        auto failures = std::count(b.outcomes.begin(), b.outcomes.end(), true);
        if (static_cast<int>(b.outcomes.size()) >= params_.breaker_failures &&
            failures * 2 >= static_cast<long>(b.outcomes.size())) {
            b.open = true;
            b.open_until = now + params_.breaker_cooldown;
            b.outcomes.clear();
        }
    }
    void success(std::size_t i, Duration now) { record(i, false, now); }
    void failure(std::size_t i, Duration now) { record(i, true, now); }
    // A provider that cannot do this kind of request is not unhealthy: it is not counted as a
    // failure, but a half-open probe that met it is over.
    void lost_capability(std::size_t i, RequestKind k, Duration now) {
        lost_[{i, k}] = now + params_.breaker_cooldown;
        breakers_[i].probing = false;
    }

    bool take_retry() {
        if (params_.retry_budget < 0) return true;
        if (retry_tokens_ < 1.0) return false;
        retry_tokens_ -= 1.0;
        return true;
    }
    void earn_retry() {
        retry_tokens_ =
            std::min(10.0 + 100.0 * params_.retry_budget, retry_tokens_ + params_.retry_budget);
    }

    struct CacheEntry {
        std::string text;
        std::int64_t freshness;
        Duration stored;
    };
    std::string cache_key(const UserRequest& r) const {
        return fmt::format("{}/{}/{}", r.question, to_string(r.kind), r.freshness);
    }

private:
    friend class FailoverRun;  // one request's run reads and updates the shared state below
    PolicyParams params_;
    std::vector<ProviderTraits> providers_;
    std::vector<Breaker> breakers_;
    std::map<std::pair<std::size_t, RequestKind>, Duration> lost_;
    RandomStream rng_;
    Duration deadline_;
    double retry_tokens_ = 10.0;
    std::map<std::string, CacheEntry> cache_;
    std::map<std::uint64_t, CacheEntry>
        latest_;  // by question: the newest answer (for serve_stale)
};

class FailoverRun final : public PolicyRun {
public:
    FailoverRun(Failover& p, const UserRequest& r, Duration now)
        : p_(p), request_(r), deadline_(now + p.deadline_) {
        if (p_.params_.retry_budget_per_request) p_.earn_retry();
    }

    Step next(Duration now, const AttemptResult* last) override {
        if (last == nullptr) {
            if (p_.params_.cache && request_.kind != RequestKind::tools) {
                auto it = p_.cache_.find(p_.cache_key(request_));
                if (it != p_.cache_.end() && now - it->second.stored < p_.params_.cache_ttl) {
                    return Step{Step::Action::serve_cached, 0, {}, {}, it->second.text};
                }
            }
            return choose(now);
        }
        if (waiting_) {
            waiting_ = false;
            return choose(now);
        }
        if (current_) {
            // Without capability routing, "not supported" is a client error like any other 400:
            // the request fails, as it does with an SDK alone.
            if (last->unsupported && !p_.params_.capability_routing) return give_or_stale(now);
            if (last->unsupported)
                p_.lost_capability(*current_, request_.kind, now);
            else
                p_.failure(*current_, now);
            tried_.push_back(*current_);
        }
        // A broken stream has already been half-shown to the user in a real app; here the
        // stack retries it elsewhere, as a careful client does before showing anything.
        // Falling back to another provider is not amplification against the failing one: it
        // costs no retry budget. Going round the chain again does.
        auto fallback = pick(now);
        if (fallback) {
            current_ = fallback;
            return attempt(*fallback, attempt_timeout(now));
        }
        // Every capable provider was tried: back off and go round again while time remains.
        if (!p_.take_retry()) return give_or_stale(now);
        Duration delay = backoff();
        if (last->retry_after && p_.params_.honor_retry_after)
            delay = std::max(delay, *last->retry_after);
        if (now + delay >= deadline_) return give_or_stale(now);
        tried_.clear();
        waiting_ = true;
        return wait(delay);
    }

    void answered(Duration now, std::size_t provider, const std::string& text) override {
        p_.success(provider, now);
        if (!p_.params_.retry_budget_per_request) p_.earn_retry();
        if (p_.params_.cache) {
            Failover::CacheEntry entry{text, request_.freshness, now};
            p_.cache_[p_.cache_key(request_)] = entry;
            p_.latest_[request_.question] = entry;
        }
    }

private:
    // The wait before going round the chain again (PolicyParams::Jitter).
    Duration backoff() {
        double base = to_seconds(p_.params_.backoff_base);
        double cap = to_seconds(p_.params_.backoff_cap);
        double step = std::min(cap, base * std::pow(2.0, rounds_++));
        switch (p_.params_.jitter) {
            case PolicyParams::Jitter::full:
                return from_seconds(p_.rng_.uniform(0, step));
            case PolicyParams::Jitter::none:
                return from_seconds(step);
            case PolicyParams::Jitter::equal:
                return from_seconds(step / 2 + p_.rng_.uniform(0, step / 2));
            case PolicyParams::Jitter::decorrelated:
                previous_wait_ =
                    std::min(cap, p_.rng_.uniform(base, std::max(base, 3 * previous_wait_)));
                return from_seconds(previous_wait_);
        }
        return from_seconds(step);
    }

    // The first provider in the chain not tried this round that can take the request now.
    std::optional<std::size_t> pick(Duration now) {
        for (std::size_t i = 0; i < p_.providers_.size(); ++i) {
            if (std::find(tried_.begin(), tried_.end(), i) != tried_.end()) continue;
            if (!p_.capable(i, request_, now) || !p_.allows(i, now)) continue;
            return i;
        }
        return std::nullopt;
    }
    Step choose(Duration now) {
        auto i = pick(now);
        if (!i) return give_or_stale(now);
        current_ = i;
        return attempt(*i, attempt_timeout(now));
    }
    Duration attempt_timeout(Duration now) const {
        Duration left = deadline_ - now;
        Duration t = p_.params_.attempt_timeout > Duration::zero() ? p_.params_.attempt_timeout
                                                                   : std::chrono::seconds(20);
        return std::max<Duration>(std::min(t, left), std::chrono::milliseconds(1));
    }
    Step give_or_stale(Duration) {
        if (p_.params_.serve_stale) {
            auto it = p_.latest_.find(request_.question);
            if (it != p_.latest_.end())
                return Step{Step::Action::serve_cached, 0, {}, {}, it->second.text};
        }
        return give_up();
    }

    Failover& p_;
    UserRequest request_;
    Duration deadline_;
    std::optional<std::size_t> current_;
    std::vector<std::size_t> tried_;
    bool waiting_ = false;
    int rounds_ = 0;
    double previous_wait_ = to_seconds(p_.params_.backoff_base);  // decorrelated jitter
};

std::unique_ptr<PolicyRun> Failover::begin(const UserRequest& r, Duration now) {
    return std::make_unique<FailoverRun>(*this, r, now);
}

}  // namespace

std::unique_ptr<Policy> make_failover(const PolicyParams& params,
                                      const std::vector<ProviderTraits>& providers,
                                      std::uint64_t seed, Duration deadline) {
    return std::make_unique<Failover>(params, providers, seed, deadline);
}

}  // namespace brownout::harness
