#include <fmt/format.h>

#include <algorithm>
#include <boost/container/small_vector.hpp>
#include <cmath>
#include <deque>
#include <map>
#include <memory>
#include <unordered_map>

#include "harness/policies/policy.h"

namespace brownout::harness {
namespace {

using Kind = AttemptResult::Kind;

// ── failover: what the incident taught ───────────────────────────────────────────────────
// A deadline; an ordered fallback chain with capability-aware routing; a circuit breaker per
// provider with half-open probes (so traffic fails back after recovery); exponential backoff
// with full jitter; a retry budget shared by all requests; a response cache; and, when
// `hedge_after` is set, hedged requests: an attempt still unanswered after that long is sent
// again to the next provider in the chain, and the first answer wins (Dean and Barroso, "The
// Tail at Scale", CACM 2013; Polly's hedging strategy: one extra attempt after 2 s).
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
        : Policy(params.checks_finish_reason()),
          params_(std::move(params)),
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
    // A half-open probe abandoned before its outcome came (a hedge that lost the race): over.
    void abandoned(std::size_t i) { breakers_[i].probing = false; }

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

    // One answer, shared by the response cache and the newest-answer store.
    struct CacheEntry {
        std::shared_ptr<const std::string> text;
        std::int64_t freshness;
        Duration stored;
    };
    // The response cache's key: the same question, of the same kind, in the same hour.
    struct CacheKey {
        std::uint64_t question;
        RequestKind kind;
        std::int64_t freshness;
    };
    static CacheKey cache_key(const UserRequest& r) { return {r.question, r.kind, r.freshness}; }
    // A question's answers: its newest (for serve_stale) and those in the cache, one a kind and
    // hour (mostly one). One table by question, where there were two (by question, and by
    // question, kind and hour): a stored answer is one lookup in a table of hundreds of
    // thousands, not two, and one table grows (bench/README.md, "the response cache in one
    // table").
    struct Cached {
        RequestKind kind;
        std::int64_t freshness;
        CacheEntry entry;
    };
    struct Answers {
        CacheEntry newest;
        boost::container::small_vector<Cached, 1> cached;

        Cached* find(RequestKind kind, std::int64_t freshness) {
            for (auto& c : cached)
                if (c.kind == kind && c.freshness == freshness) return &c;
            return nullptr;
        }
    };
    // The answer cached for this request and still current; null when none.
    const CacheEntry* cached(const UserRequest& r, Duration now) {
        auto it = answers_.find(r.question);
        if (it == answers_.end()) return nullptr;
        auto* c = it->second.find(r.kind, r.freshness);
        return c != nullptr && now - c->entry.stored < params_.cache_ttl ? &c->entry : nullptr;
    }
    // Keeps an answer in the cache (and as its question's newest); forgets the cached answers
    // older than cache_ttl, which are never served again.
    void store(const UserRequest& r, const std::string& text, Duration now) {
        CacheEntry entry{std::make_shared<const std::string>(text), r.freshness, now};
        auto& answers = answers_[r.question];
        if (auto* c = answers.find(r.kind, r.freshness))
            c->entry = entry;
        else
            answers.cached.push_back({r.kind, r.freshness, entry});
        answers.newest = std::move(entry);
        cache_order_.emplace_back(now, cache_key(r));
        while (!cache_order_.empty() && now - cache_order_.front().first >= params_.cache_ttl) {
            auto& [stored, old] = cache_order_.front();
            if (auto it = answers_.find(old.question); it != answers_.end()) {
                auto* c = it->second.find(old.kind, old.freshness);
                if (c != nullptr && c->entry.stored == stored)
                    it->second.cached.erase(it->second.cached.begin() +
                                            (c - it->second.cached.data()));
            }
            cache_order_.pop_front();
        }
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
    // Hashed, not ordered: only ever looked up, inserted into and erased from (the cache's order
    // is cache_order_'s). It holds an hour of answers and every question's newest; ordered, the
    // two tables it was were 4.9% of a `run`'s samples at 10,000 users a second, hashed 2.2%
    // (bench/README.md, "the harness on another VM instance").
    std::unordered_map<std::uint64_t, Answers> answers_;     // by question
    std::deque<std::pair<Duration, CacheKey>> cache_order_;  // oldest first, as stored
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
                if (const auto* entry = p_.cached(request_, now))
                    return Step{Step::Action::serve_cached, 0, {}, {}, *entry->text};
            }
            return choose(now);
        }
        if (waiting_) {
            waiting_ = false;
            return choose(now);
        }
        if (!in_flight_.empty()) {
            // With one attempt in flight it is the one that failed; with hedges, the result says.
            std::size_t failed = in_flight_.size() == 1 ? in_flight_.front() : last->provider;
            in_flight_.erase(std::remove(in_flight_.begin(), in_flight_.end(), failed),
                             in_flight_.end());
            // Without capability routing, "not supported" is a client error like any other 400:
            // the request fails, as it does with an SDK alone.
            if (last->unsupported && !p_.params_.capability_routing) {
                release_in_flight();
                return give_or_stale(now);
            }
            if (last->unsupported)
                p_.lost_capability(failed, request_.kind, now);
            else
                p_.failure(failed, now);
            tried_.push_back(failed);
            if (!in_flight_.empty()) return await_attempts();  // a hedge may still answer
        }
        // A broken stream has already been half-shown to the user in a real app; here the
        // stack retries it elsewhere, as a careful client does before showing anything.
        // Falling back to another provider is not amplification against the failing one: it
        // costs no retry budget. Going round the chain again does.
        if (auto fallback = pick(now)) return send(*fallback, now);
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

    // A hedge: the next provider that can take the request, beside the attempts in flight.
    Step hedge(Duration now) override {
        if (hedges_ >= p_.params_.max_hedges) return await_attempts();
        auto i = pick(now);
        if (!i) return await_attempts();
        ++hedges_;
        return send(*i, now);
    }

    void answered(Duration now, std::size_t provider, const std::string& text) override {
        p_.success(provider, now);
        in_flight_.erase(std::remove(in_flight_.begin(), in_flight_.end(), provider),
                         in_flight_.end());
        release_in_flight();
        if (!p_.params_.retry_budget_per_request) p_.earn_retry();
        if (p_.params_.cache) p_.store(request_, text, now);
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
            if (std::find(in_flight_.begin(), in_flight_.end(), i) != in_flight_.end()) continue;
            bool open = p_.breakers_[i].open;
            if (!p_.capable(i, request_, now) || !p_.allows(i, now)) continue;
            if (open) probes_.push_back(i);  // allowed through an open breaker: the probe
            return i;
        }
        return std::nullopt;
    }
    // The attempts still in flight are abandoned (a hedge lost the race, or the request ends):
    // their outcome is never known, so a half-open probe among them is released.
    void release_in_flight() {
        for (auto i : in_flight_) {
            if (std::find(probes_.begin(), probes_.end(), i) != probes_.end()) p_.abandoned(i);
        }
        in_flight_.clear();
    }
    Step choose(Duration now) {
        auto i = pick(now);
        if (!i) return give_or_stale(now);
        return send(*i, now);
    }
    Step send(std::size_t i, Duration now) {
        in_flight_.push_back(i);
        bool hedge = p_.params_.hedge_after > Duration::zero() && hedges_ < p_.params_.max_hedges;
        return attempt(i, attempt_timeout(now), hedge ? p_.params_.hedge_after : Duration{});
    }
    Duration attempt_timeout(Duration now) const {
        Duration left = deadline_ - now;
        Duration t = p_.params_.attempt_timeout > Duration::zero() ? p_.params_.attempt_timeout
                                                                   : std::chrono::seconds(20);
        return std::max<Duration>(std::min(t, left), std::chrono::milliseconds(1));
    }
    Step give_or_stale(Duration) {
        if (p_.params_.serve_stale) {
            auto it = p_.answers_.find(request_.question);
            if (it != p_.answers_.end())
                return Step{Step::Action::serve_cached, 0, {}, {}, *it->second.newest.text};
        }
        return give_up();
    }

    Failover& p_;
    UserRequest request_;
    Duration deadline_;
    std::vector<std::size_t> in_flight_;  // providers with an attempt out (more with hedges)
    std::vector<std::size_t> tried_;
    std::vector<std::size_t> probes_;  // providers whose half-open probe this request holds
    int hedges_ = 0;
    bool waiting_ = false;
    int rounds_ = 0;
    double previous_wait_ = to_seconds(p_.params_.backoff_base);  // decorrelated jitter
};

std::unique_ptr<PolicyRun> Failover::begin(const UserRequest& r, Duration now) {
    return std::make_unique<FailoverRun>(*this, r, now);
}

}  // namespace

namespace {

// The jitter families by name, once: the key's choices and its reading both come from here.
constexpr std::pair<const char*, PolicyParams::Jitter> kJitters[] = {
    {"full", PolicyParams::Jitter::full},
    {"none", PolicyParams::Jitter::none},
    {"equal", PolicyParams::Jitter::equal},
    {"decorrelated", PolicyParams::Jitter::decorrelated},
};
std::vector<std::string> jitter_names() {
    std::vector<std::string> out;
    for (const auto& [name, jitter] : kJitters) out.emplace_back(name);
    return out;
}

}  // namespace

const std::vector<PolicyKey>& failover_keys() {
    using P = PolicyParams;
    using T = TableReader;
    static const std::vector<PolicyKey> keys = {
        attempt_timeout_key(),
        {{"backoff_base", KeyType::duration, "the first backoff"},
         [](T& t, P& p) {
             if (auto d = t.duration("backoff_base")) p.backoff_base = *d;
         }},
        {{"backoff_cap", KeyType::duration, "the longest backoff"},
         [](T& t, P& p) {
             if (auto d = t.duration("backoff_cap")) p.backoff_cap = *d;
         }},
        {{"retry_budget",
          KeyType::any,
          "retries per answer earned (0 to 10), or \"unlimited\"",
          {},
          {},
          {},
          nullptr,
          false,
          R"({"anyOf":[{"type":"number","minimum":0,"maximum":10},{"const":"unlimited"}]})"},
         [](T& t, P& p) {
             if (t.has("retry_budget") && t.node("retry_budget")->is_string()) {
                 if (t.string("retry_budget") != "unlimited")
                     t.fail("retry_budget", "expected a number from 0 to 10, or \"unlimited\"");
                 p.retry_budget = -1;
             } else if (auto b = t.number_in("retry_budget", 0, 10)) {
                 p.retry_budget = *b;
             }
         }},
        {{"retry_budget_per", KeyType::string, "what earns retry budget", {"answer", "request"}},
         [](T& t, P& p) {
             if (auto per = t.choice("retry_budget_per", {"answer", "request"}))
                 p.retry_budget_per_request = *per == "request";
         }},
        {{"breaker_failures",
          KeyType::integer,
          "failures that open a provider's breaker",
          {},
          1,
          1000},
         [](T& t, P& p) {
             if (auto n = t.integer("breaker_failures", 1, 1000))
                 p.breaker_failures = static_cast<int>(*n);
         }},
        {{"breaker_cooldown", KeyType::duration, "how long a breaker stays open"},
         [](T& t, P& p) {
             if (auto d = t.duration("breaker_cooldown")) p.breaker_cooldown = *d;
         }},
        {{"cache", KeyType::boolean, "answer repeated questions from a cache"},
         [](T& t, P& p) {
             if (auto c = t.boolean("cache")) p.cache = *c;
         }},
        {{"serve_stale", KeyType::boolean, "serve the newest cached answer when nothing answers"},
         [](T& t, P& p) {
             if (auto s = t.boolean("serve_stale")) p.serve_stale = *s;
         }},
        {{"cache_ttl", KeyType::duration, "how long a cached answer is served"},
         [](T& t, P& p) {
             if (auto d = t.duration("cache_ttl")) p.cache_ttl = *d;
         }},
        honor_retry_after_key(),
        {{"jitter", KeyType::string, "backoff jitter (Brooker 2015)", jitter_names()},
         [](T& t, P& p) {
             if (auto j = t.choice("jitter", jitter_names())) {
                 for (const auto& [name, jitter] : kJitters)
                     if (*j == name) p.jitter = jitter;
             }
         }},
        {{"capability_routing", KeyType::boolean, "send a request only where its features work"},
         [](T& t, P& p) {
             if (auto c = t.boolean("capability_routing")) p.capability_routing = *c;
         }},
        {{"hedge_after", KeyType::duration, "send a slow attempt again to the next provider"},
         [](T& t, P& p) {
             if (auto d = t.duration("hedge_after")) p.hedge_after = *d;
         }},
        {{"max_hedges", KeyType::integer, "extra attempts in flight per request", {}, 1, 10},
         [](T& t, P& p) {
             if (auto n = t.integer("max_hedges", 1, 10)) p.max_hedges = static_cast<int>(*n);
         }},
    };
    return keys;
}

std::unique_ptr<Policy> make_failover(const PolicyParams& params,
                                      const std::vector<ProviderTraits>& providers,
                                      std::uint64_t seed, Duration deadline) {
    return std::make_unique<Failover>(params, providers, seed, deadline);
}

}  // namespace brownout::harness
