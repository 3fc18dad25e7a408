// Built-in policies against scripted results on a manual clock: no sockets.

#include "harness/policies/policy.h"

#include <catch2/catch.hpp>

using namespace brownout;
using namespace brownout::harness;
using namespace std::chrono_literals;
using Kind = AttemptResult::Kind;
using Action = Step::Action;

namespace {

UserRequest request(RequestKind kind = RequestKind::chat, std::uint64_t question = 1) {
    UserRequest r;
    r.id = question;
    r.kind = kind;
    r.question = question;
    return r;
}

AttemptResult error(int status) {
    AttemptResult r;
    r.kind = Kind::http_error;
    r.status = status;
    return r;
}

AttemptResult of(Kind k) {
    AttemptResult r;
    r.kind = k;
    return r;
}

std::unique_ptr<Policy> policy(const std::string& name,
                               std::vector<ProviderTraits> providers = {{"a"}},
                               PolicyParams p = {}) {
    p.policy = name;
    return make_policy(p, std::move(providers), 7, 60s);
}

}  // namespace

TEST_CASE("naive tries once and gives up", "[policy]") {
    auto p = policy("naive");
    auto run = p->begin(request(), 0s);
    auto first = run->next(0s, nullptr);
    CHECK(first.action == Action::attempt);
    CHECK(first.timeout == 10min);
    auto failure = error(503);
    CHECK(run->next(1s, &failure).action == Action::give_up);
}

TEST_CASE("sdk-default retries twice with the SDK's backoff and honours Retry-After",
          "[policy][sdk]") {
    auto p = policy("sdk-default");
    SECTION("503 twice: waits of 0.375-0.5 s then 0.75-1 s, then gives up") {
        auto run = p->begin(request(), 0s);
        CHECK(run->next(0s, nullptr).action == Action::attempt);
        auto failure = error(503);
        auto w1 = run->next(0s, &failure);
        REQUIRE(w1.action == Action::wait);
        CHECK(w1.delay >= 375ms);
        CHECK(w1.delay <= 500ms);
        CHECK(run->next(1s, &failure).action == Action::attempt);
        auto w2 = run->next(1s, &failure);
        REQUIRE(w2.action == Action::wait);
        CHECK(w2.delay >= 750ms);
        CHECK(w2.delay <= 1s);
        CHECK(run->next(2s, &failure).action == Action::attempt);
        CHECK(run->next(2s, &failure).action == Action::give_up);
    }
    SECTION("Retry-After up to 60 s is obeyed, beyond it the backoff is used") {
        auto run = p->begin(request(), 0s);
        run->next(0s, nullptr);
        auto limited = error(429);
        limited.retry_after = 7s;
        CHECK(run->next(0s, &limited).delay == 7s);
        run->next(7s, &limited);
        limited.retry_after = 90s;
        CHECK(run->next(7s, &limited).delay <= 1s);
    }
    SECTION("no retry on 400, on x-should-retry false, or once a stream has started") {
        auto bad = error(400);
        auto run = p->begin(request(), 0s);
        run->next(0s, nullptr);
        CHECK(run->next(0s, &bad).action == Action::give_up);
        auto told = error(503);
        told.should_retry = false;
        run = p->begin(request(), 0s);
        run->next(0s, nullptr);
        CHECK(run->next(0s, &told).action == Action::give_up);
        auto broken = of(Kind::broken_stream);
        run = p->begin(request(), 0s);
        run->next(0s, nullptr);
        CHECK(run->next(0s, &broken).action == Action::give_up);
        auto forced = error(400);
        forced.should_retry = true;
        run = p->begin(request(), 0s);
        run->next(0s, nullptr);
        CHECK(run->next(0s, &forced).action == Action::wait);
    }
    SECTION("connection errors and timeouts are retried") {
        auto refused = of(Kind::connect_error);
        auto run = p->begin(request(), 0s);
        run->next(0s, nullptr);
        CHECK(run->next(0s, &refused).action == Action::wait);
    }
}

TEST_CASE("retry-storm retries at once, ten times", "[policy]") {
    auto p = policy("retry-storm");
    auto run = p->begin(request(), 0s);
    auto failure = error(503);
    int attempts = 0;
    for (auto s = run->next(0s, nullptr); s.action == Action::attempt; s = run->next(0s, &failure))
        ++attempts;
    CHECK(attempts == 11);
}

TEST_CASE("failover falls back in order and routes vision to a provider that has it",
          "[policy][failover]") {
    auto p = policy("failover", {{"primary", false}, {"secondary", true}});
    auto chat = p->begin(request(), 0s);
    CHECK(chat->next(0s, nullptr).provider == 0);
    auto failure = error(503);
    auto fallback = chat->next(0s, &failure);
    CHECK(fallback.action == Action::attempt);
    CHECK(fallback.provider == 1);
    auto vision = p->begin(request(RequestKind::vision, 2), 0s);
    CHECK(vision->next(0s, nullptr).provider == 1);  // the primary has no vision
}

TEST_CASE("failover learns that a provider lost a feature", "[policy][failover]") {
    auto p = policy("failover", {{"primary"}, {"secondary"}});
    auto run = p->begin(request(RequestKind::vision), 0s);
    CHECK(run->next(0s, nullptr).provider == 0);
    auto unsupported = error(400);
    unsupported.unsupported = true;
    CHECK(run->next(0s, &unsupported).provider == 1);
    auto later = p->begin(request(RequestKind::vision, 3), 5s);
    CHECK(later->next(5s, nullptr).provider == 1);  // straight to the one that can
}

TEST_CASE("failover's breaker opens on failures, probes half-open, and fails back",
          "[policy][failover]") {
    PolicyParams params;
    params.breaker_cooldown = 30s;
    auto p = policy("failover", {{"primary"}, {"secondary"}}, params);
    auto failure = error(503);
    Duration t = 0s;
    for (int i = 0; i < 25; ++i, t += 1s) {
        auto run = p->begin(request(RequestKind::chat, 100 + i), t);
        if (run->next(t, nullptr).provider == 0) run->next(t, &failure);
    }
    // Open: requests skip the primary.
    auto skipped = p->begin(request(RequestKind::chat, 200), t);
    CHECK(skipped->next(t, nullptr).provider == 1);
    // After the cooldown one probe goes to the primary; its success closes the breaker.
    t += 31s;
    auto probe = p->begin(request(RequestKind::chat, 201), t);
    CHECK(probe->next(t, nullptr).provider == 0);
    auto concurrent = p->begin(request(RequestKind::chat, 202), t);
    CHECK(concurrent->next(t, nullptr).provider == 1);  // only one probe at a time
    probe->answered(t, 0, "ok");
    auto after = p->begin(request(RequestKind::chat, 203), t);
    CHECK(after->next(t, nullptr).provider == 0);
}

TEST_CASE("a half-open probe that meets a lost feature does not leave the breaker stuck",
          "[policy][failover]") {
    auto p = policy("failover", {{"primary"}, {"secondary"}});
    auto failure = error(503);
    Duration t = 0s;
    for (int i = 0; i < 25; ++i, t += 1s) {
        auto run = p->begin(request(RequestKind::chat, 300 + i), t);
        if (run->next(t, nullptr).provider == 0) run->next(t, &failure);
    }
    t += 31s;
    auto probe = p->begin(request(RequestKind::vision, 400), t);
    REQUIRE(probe->next(t, nullptr).provider == 0);  // the probe happens to be a vision request
    auto unsupported = error(400);
    unsupported.unsupported = true;
    probe->next(t, &unsupported);
    t += 31s;
    auto next_probe = p->begin(request(RequestKind::chat, 401), t);
    CHECK(next_probe->next(t, nullptr).provider ==
          0);  // probing goes on: the primary can fail back
}

TEST_CASE("failover hedges a slow attempt to the next provider, and waits for what is in flight",
          "[policy][failover][hedging]") {
    PolicyParams params;
    params.hedge_after = 3s;
    auto p = policy("failover", {{"primary"}, {"secondary"}, {"third"}}, params);
    auto from = [](std::size_t provider, AttemptResult r) {
        r.provider = provider;
        return r;
    };
    SECTION("one hedge (max_hedges 1): the second attempt carries no hedge of its own") {
        auto run = p->begin(request(), 0s);
        auto first = run->next(0s, nullptr);
        REQUIRE(first.action == Action::attempt);
        CHECK(first.provider == 0);
        CHECK(first.hedge_after == 3s);
        auto hedge = run->hedge(3s);
        REQUIRE(hedge.action == Action::attempt);
        CHECK(hedge.provider == 1);
        CHECK(hedge.hedge_after == 0s);
        CHECK(run->hedge(6s).action == Action::await_attempts);
        // The hedge fails while the first attempt is still out: wait for it, send nothing.
        auto failed = from(1, error(503));
        CHECK(run->next(7s, &failed).action == Action::await_attempts);
        // Then the first fails too: on to the provider neither attempt went to.
        auto also = from(0, error(503));
        auto third = run->next(8s, &also);
        REQUIRE(third.action == Action::attempt);
        CHECK(third.provider == 2);
    }
    SECTION("the first attempt fails while the hedge is out: the hedge may still answer") {
        auto run = p->begin(request(RequestKind::chat, 2), 0s);
        run->next(0s, nullptr);
        run->hedge(3s);
        auto failed = from(0, error(503));
        CHECK(run->next(4s, &failed).action == Action::await_attempts);
        run->answered(5s, 1, "ok");
    }
    SECTION("without hedge_after no attempt asks for a hedge") {
        auto plain = policy("failover", {{"primary"}, {"secondary"}});
        auto run = plain->begin(request(RequestKind::chat, 3), 0s);
        CHECK(run->next(0s, nullptr).hedge_after == 0s);
    }
    SECTION("max_hedges 2: three attempts in flight, each hedge to the next provider") {
        params.max_hedges = 2;
        auto two = policy("failover", {{"primary"}, {"secondary"}, {"third"}}, params);
        auto run = two->begin(request(RequestKind::chat, 4), 0s);
        run->next(0s, nullptr);
        auto h1 = run->hedge(3s);
        CHECK(h1.provider == 1);
        CHECK(h1.hedge_after == 3s);
        auto h2 = run->hedge(6s);
        CHECK(h2.provider == 2);
        CHECK(h2.hedge_after == 0s);
    }
}

TEST_CASE("a hedged half-open probe that loses the race does not leave the breaker stuck",
          "[policy][failover][hedging]") {
    PolicyParams params;
    params.hedge_after = 3s;
    auto p = policy("failover", {{"primary"}, {"secondary"}}, params);
    auto failure = error(503);
    Duration t = 0s;
    for (int i = 0; i < 25; ++i, t += 1s) {
        auto run = p->begin(request(RequestKind::chat, 500 + i), t);
        if (run->next(t, nullptr).provider == 0) run->next(t, &failure);
    }
    t += 31s;
    // The probe goes to the primary, is hedged to the secondary, and the secondary answers.
    auto probe = p->begin(request(RequestKind::chat, 600), t);
    REQUIRE(probe->next(t, nullptr).provider == 0);
    REQUIRE(probe->hedge(t + 3s).provider == 1);
    probe->answered(t + 4s, 1, "ok");
    t += 31s;
    auto next_probe = p->begin(request(RequestKind::chat, 601), t);
    CHECK(next_probe->next(t, nullptr).provider == 0);  // probing goes on
}

TEST_CASE("a request that ends with a hedge in flight lets go of only the probe it holds",
          "[policy][failover][hedging]") {
    PolicyParams params;
    params.hedge_after = 3s;
    auto failure = error(503);
    auto open_primary = [&](Policy& p, Duration& t, std::uint64_t first) {
        for (int i = 0; i < 25; ++i, t += 1s) {
            auto run = p.begin(request(RequestKind::chat, first + i), t);
            if (run->next(t, nullptr).provider == 0) run->next(t, &failure);
        }
    };
    SECTION("given up on a client error while its probe is out: the probe is released") {
        params.capability_routing = false;
        auto p = policy("failover", {{"primary"}, {"secondary"}}, params);
        Duration t = 0s;
        open_primary(*p, t, 700);
        t += 31s;
        auto probe = p->begin(request(RequestKind::chat, 800), t);
        REQUIRE(probe->next(t, nullptr).provider == 0);
        REQUIRE(probe->hedge(t + 3s).provider == 1);
        auto unsupported = error(400);
        unsupported.unsupported = true;
        unsupported.provider = 1;
        REQUIRE(probe->next(t + 4s, &unsupported).action == Action::give_up);
        auto next_probe = p->begin(request(RequestKind::chat, 801), t + 5s);
        CHECK(next_probe->next(t + 5s, nullptr).provider == 0);
    }
    SECTION("a hedge that wins does not release a probe another request took meanwhile") {
        auto p = policy("failover", {{"primary"}, {"secondary"}}, params);
        auto early = p->begin(request(RequestKind::chat, 900), 0s);
        REQUIRE(early->next(0s, nullptr).provider == 0);  // the breaker is closed: no probe
        REQUIRE(early->hedge(3s).provider == 1);
        Duration t = 4s;
        open_primary(*p, t, 1000);
        t += 31s;
        auto probe = p->begin(request(RequestKind::chat, 1100), t);
        REQUIRE(probe->next(t, nullptr).provider == 0);
        early->answered(t, 1, "ok");  // its primary attempt is abandoned, but it was no probe
        auto other = p->begin(request(RequestKind::chat, 1101), t);
        CHECK(other->next(t, nullptr).provider == 1);  // one probe at a time
    }
}

TEST_CASE("failover answers repeated prompts from its cache and can serve stale answers",
          "[policy][failover]") {
    PolicyParams params;
    params.serve_stale = true;
    auto p = policy("failover", {{"only"}}, params);
    auto first = p->begin(request(RequestKind::chat, 9), 0s);
    first->next(0s, nullptr);
    first->answered(1s, 0, "cached answer");
    auto again = p->begin(request(RequestKind::chat, 9), 2s);
    auto hit = again->next(2s, nullptr);
    CHECK(hit.action == Action::serve_cached);
    CHECK(hit.cached == "cached answer");
    // An hour later the same question is a new one; when the provider fails, the stale answer is
    // served.
    auto later_request = request(RequestKind::chat, 9);
    later_request.freshness = 1;
    auto later = p->begin(later_request, 1h);
    CHECK(later->next(1h, nullptr).action == Action::attempt);
    auto failure = error(503);
    Step s = later->next(1h, &failure);
    while (s.action == Action::wait) s = later->next(1h, &failure);
    if (s.action == Action::attempt) s = later->next(1h, &failure);
    while (s.action == Action::wait || s.action == Action::attempt)
        s = later->next(1h + 1min, &failure);
    CHECK(s.action == Action::serve_cached);
}

TEST_CASE("each switch of the validity pairs changes exactly its one behaviour",
          "[policy][validity]") {
    auto throttled = error(429);
    throttled.retry_after = 20s;
    SECTION("sdk-default with honor_retry_after = false backs off instead of waiting 20 s") {
        PolicyParams params;
        params.honor_retry_after = false;
        for (bool honours : {true, false}) {
            auto p = honours ? policy("sdk-default")
                             : policy("sdk-default", {{"a"}}, params);  // outlives its runs
            auto run = p->begin(request(), 0s);
            run->next(0s, nullptr);
            auto wait = run->next(0s, &throttled);
            REQUIRE(wait.action == Action::wait);
            if (honours)
                CHECK(wait.delay == 20s);
            else
                CHECK(wait.delay <= 500ms);
        }
    }
    SECTION("failover with honor_retry_after = false goes round again on its own backoff") {
        PolicyParams params;
        params.honor_retry_after = false;
        auto p = policy("failover", {{"a"}}, params);
        auto run = p->begin(request(), 0s);
        run->next(0s, nullptr);
        auto wait = run->next(0s, &throttled);
        REQUIRE(wait.action == Action::wait);
        CHECK(wait.delay <= 250ms);
    }
    SECTION("failover with jitter = none waits the whole backoff step") {
        PolicyParams params;
        params.jitter = PolicyParams::Jitter::none;
        auto p = policy("failover", {{"a"}}, params);
        auto run = p->begin(request(), 0s);
        run->next(0s, nullptr);
        auto failure = error(503);
        auto first = run->next(0s, &failure);
        REQUIRE(first.action == Action::wait);
        CHECK(first.delay == 250ms);
        CHECK(run->next(250ms, &failure).action == Action::attempt);  // the wait is over
        auto second = run->next(250ms, &failure);
        REQUIRE(second.action == Action::wait);
        CHECK(second.delay == 500ms);
    }
    SECTION("failover's jitter families keep their bounds (Brooker 2015)") {
        // step n = min(cap, base·2^n) with base 250 ms, cap 4 s: 250, 500, 1000, 2000, 4000, 4000
        auto waits = [&](PolicyParams::Jitter jitter) {
            PolicyParams params;
            params.jitter = jitter;
            params.retry_budget = -1;
            params.breaker_failures = 1000;  // the breaker never opens: every round backs off
            auto p = policy("failover", {{"a"}}, params);
            std::vector<Duration> out;
            for (int user = 0; user < 50; ++user) {
                auto run = p->begin(request(), 0s);
                run->next(0s, nullptr);
                auto failure = error(503);
                for (int n = 0; n < 6; ++n) {
                    auto w = run->next(0s, &failure);
                    REQUIRE(w.action == Action::wait);
                    out.push_back(w.delay);
                    REQUIRE(run->next(0s, &failure).action == Action::attempt);
                }
            }
            return out;
        };
        const std::vector<Duration> steps = {250ms, 500ms, 1000ms, 2000ms, 4000ms, 4000ms};
        auto equal = waits(PolicyParams::Jitter::equal);
        for (std::size_t i = 0; i < equal.size(); ++i) {
            CHECK(equal[i] >= steps[i % 6] / 2);
            CHECK(equal[i] <= steps[i % 6]);
        }
        auto full = waits(PolicyParams::Jitter::full);
        for (std::size_t i = 0; i < full.size(); ++i) CHECK(full[i] <= steps[i % 6]);
        // Decorrelated: each wait in [base, min(cap, 3 × the one before)], the first from base.
        auto decorrelated = waits(PolicyParams::Jitter::decorrelated);
        bool varied = false;
        for (std::size_t i = 0; i < decorrelated.size(); ++i) {
            Duration before = i % 6 == 0 ? 250ms : decorrelated[i - 1];
            CHECK(decorrelated[i] >= 250ms);
            CHECK(decorrelated[i] <= std::min<Duration>(4s, 3 * before));
            varied = varied || decorrelated[i] != decorrelated[0];
        }
        CHECK(varied);
    }
    SECTION("failover without capability routing fails a request its provider cannot do") {
        PolicyParams params;
        params.capability_routing = false;
        auto p = policy("failover", {{"primary", false}, {"secondary", true}}, params);
        auto run = p->begin(request(RequestKind::vision), 0s);
        CHECK(run->next(0s, nullptr).provider == 0);  // no routing by declared capability either
        auto unsupported = error(400);
        unsupported.unsupported = true;
        CHECK(run->next(0s, &unsupported).action == Action::give_up);
    }
    SECTION("failover with retry_budget = unlimited keeps going round until the deadline") {
        PolicyParams limited, unlimited;
        unlimited.retry_budget = -1;
        auto rounds = [&](const PolicyParams& params) {
            auto p = policy("failover", {{"a"}}, params);
            int n = 0;
            auto failure = error(503);
            // Many requests failing at once drain a budget; an unlimited one never runs dry.
            for (int user = 0; user < 30; ++user) {
                auto run = p->begin(request(RequestKind::chat, 100 + user), 0s);
                run->next(0s, nullptr);
                n += run->next(0s, &failure).action == Action::wait;
            }
            return n;
        };
        CHECK(rounds(limited) == 10);  // the budget's initial ten tokens
        CHECK(rounds(unlimited) == 30);
    }
}

TEST_CASE("every built-in policy is made by name, and an unknown name lists the choices",
          "[policy][registry]") {
    for (const auto& name : policy_names()) {
        PolicyParams p;
        p.policy = name;
        CHECK(make_policy(p, {{"a"}}, 1, 60s) != nullptr);
    }
    PolicyParams unknown;
    unknown.policy = "failsafe";
    CHECK_THROWS_WITH(make_policy(unknown, {{"a"}}, 1, 60s),
                      "unknown policy \"failsafe\" (built-in policies: naive, sdk-default, "
                      "retry-storm, failover)");
}

TEST_CASE("a policy owns whether an interrupted generation counts as an answer", "[policy]") {
    AttemptResult interrupted;
    interrupted.finish_reason = "insufficient_system_resource";
    AttemptResult complete;
    complete.finish_reason = "stop";
    PolicyParams p;
    for (const auto& name : policy_names()) {
        p.policy = name;
        auto policy = make_policy(p, {{"a", true, true, true}}, 1, 60s);
        INFO(name);
        CHECK(policy->accepts(complete));
        // By default only failover checks it: the official SDKs pass such an answer on.
        CHECK(policy->accepts(interrupted) == (name != "failover"));
    }
    p.policy = "sdk-default";
    p.check_finish_reason = true;
    CHECK_FALSE(make_policy(p, {{"a", true, true, true}}, 1, 60s)->accepts(interrupted));
}
