// The scorer on hand-built journals with known answers.

#include "harness/score.h"

#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "harness/metric.h"
#include "harness/report.h"

using namespace brownout;
using namespace brownout::harness;
using namespace std::chrono_literals;
using Outcome = UserRecord::Outcome;

namespace {

Scenario scenario() {
    return load_scenario_text(R"(
[scenario]
name = "s"
duration = "1h"
[workload]
deadline = "30s"
fail_fast = "5s"
[[providers]]
id = "primary"
  [[providers.phases]]
  start = "10m"
  end = "20m"
  fault = "outage"
[[providers]]
id = "secondary"
[[clients]]
name = "c"
providers = ["primary", "secondary"]
[[expect]]
client = "c"
metric = "availability"
phase = "incident"
min = 0.9
[[expect]]
metric = "wrong_answers"
max = 0
)",
                              "s.toml");
}

UserRecord user(std::uint64_t id, Duration arrival, Outcome outcome, Duration took,
                AnswerVerdict verdict = AnswerVerdict::ok, int provider = 0) {
    UserRecord u;
    u.id = id;
    u.arrival = arrival;
    u.outcome = outcome;
    u.finished = arrival + took;
    u.verdict = verdict;
    u.provider = provider;
    return u;
}

// `provider`: "primary" or "secondary", the test scenario's providers in its order.
AttemptRecord attempt(const std::string& provider, Duration at, int status,
                      std::uint64_t digest = 0, Duration retry_after = 0s) {
    REQUIRE((provider == "primary" || provider == "secondary"));
    AttemptRecord a;
    a.provider = provider == "primary" ? 0 : 1;
    a.at = at;
    a.status = status;
    a.digest = digest;
    a.retry_after = retry_after;
    a.prompt_tokens = 1000;
    a.completion_tokens = 500;
    return a;
}

}  // namespace

TEST_CASE("phase windows come from the primary's timeline", "[score]") {
    auto w = phase_windows(scenario());
    REQUIRE(w.size() == 4);
    CHECK(w[0].name == "steady");
    CHECK(w[1].name == "incident");
    CHECK(w[1].from == 10min);
    CHECK(w[1].to == 20min);
    CHECK(w[2].name == "recovery");
    CHECK(w[2].to == 35min);  // max(15m, 10% of the run)
    CHECK(w[3].name == "after");
}

namespace {

// The primary's phases in a one-hour run, as TOML.
Scenario with_phases(const std::string& phases) {
    return load_scenario_text(fmt::format(R"(
[scenario]
name = "w"
duration = "1h"
[[providers]]
id = "primary"
{}
)",
                                          phases),
                              "w.toml");
}

}  // namespace

TEST_CASE("the incident ends with the last refusing phase, or with the last phase of any kind",
          "[score]") {
    SECTION("a slow answer after the last refusal is recovery, not incident") {
        auto w = phase_windows(with_phases(R"(
  [[providers.phases]]
  start = "10m"
  end = "20m"
  fault = "busy"
  [[providers.phases]]
  start = "20m"
  end = "30m"
  fault = "latency"
  ttft_factor = 3)"));
        REQUIRE(w.size() == 4);
        CHECK(w[1].to == 20min);
    }
    SECTION("streams cut until 50m and nothing refused: the incident ends at 50m") {
        auto w = phase_windows(with_phases(R"(
  [[providers.phases]]
  start = "10m"
  end = "50m"
  fault = "disconnect"
  after_tokens = 8
  rate = 0.2
  [[providers.phases]]
  start = "20m"
  end = "40m"
  fault = "stall"
  after_tokens = 4)"));
        REQUIRE(w.size() == 3);
        CHECK(w[1].name == "incident");
        CHECK(w[1].from == 10min);
        CHECK(w[1].to == 50min);
        CHECK(w[2].name == "recovery");
        CHECK(w[2].to == 60min);
    }
    SECTION("an open-ended feature loss does not keep the incident open") {
        auto w = phase_windows(with_phases(R"(
  [[providers.phases]]
  start = "10m"
  end = "20m"
  fault = "busy"
  [[providers.phases]]
  start = "10m"
  fault = "feature_loss"
  features = ["vision"])"));
        REQUIRE(w.size() == 4);
        CHECK(w[1].to == 20min);
    }
    SECTION("nothing with an end: the incident lasts to the end of the run") {
        auto w = phase_windows(with_phases(R"(
  [[providers.phases]]
  start = "10m"
  fault = "disconnect"
  rate = 0.2)"));
        REQUIRE(w.size() == 2);
        CHECK(w[1].to == 60min);
    }
}

TEST_CASE("availability, wrong answers, hung and latency per phase", "[score]") {
    auto s = scenario();
    StackRun run;
    run.client = s.clients[0];
    // steady: 2 good
    run.users.push_back(user(1, 1min, Outcome::answered, 2s));
    run.users.push_back(user(2, 2min, Outcome::answered, 4s));
    // incident: 1 good via the secondary, 1 too slow, 1 wrong (truncated), 1 failed, 1 hung
    run.users.push_back(user(3, 11min, Outcome::answered, 3s, AnswerVerdict::ok, 1));
    run.users.push_back(user(4, 12min, Outcome::answered, 40s));
    run.users.push_back(user(5, 13min, Outcome::answered, 1s, AnswerVerdict::missing_tag));
    run.users.push_back(user(6, 14min, Outcome::failed, 1s));
    run.users.push_back(user(7, 15min, Outcome::hung, 61s));
    for (const auto& u : run.users)
        run.attempts.push_back(
            attempt(u.arrival < 10min ? "primary" : "secondary", u.arrival, 200));
    auto score = score_stack(s, run, phase_windows(s));
    const auto& steady = score.phases.at("steady");
    const auto& incident = score.phases.at("incident");
    CHECK(steady.at("availability") == 1.0);
    CHECK(steady.at("latency_p50") == Approx(3.0));
    CHECK(incident.at("requests") == 5);
    CHECK(incident.at("availability") ==
          Approx(0.2));  // a path existed (the secondary): the failure is not excused
    CHECK(incident.at("wrong_answers") == 1);
    CHECK(incident.at("hung") == 1);
    CHECK(score.phases.at("all").at("hung") == 1);
    CHECK(score.score <= 50);  // a hung request caps the score
    CHECK(score.phases.at("all").at("cost") == Approx(7 * (1000 * 1.0 + 500 * 4.0) / 1e6));
}

TEST_CASE(
    "a clean fast error when no provider could answer is graceful degradation, not availability",
    "[score]") {
    auto s = load_scenario_text(R"(
[scenario]
name = "alone"
duration = "1h"
[workload]
fail_fast = "5s"
[[providers]]
id = "only"
  [[providers.phases]]
  start = "10m"
  end = "20m"
  fault = "outage"
)",
                                "alone.toml");
    StackRun run;
    run.client = s.clients[0];
    run.users.push_back(user(1, 12min, Outcome::failed, 1s));   // fast: graceful
    run.users.push_back(user(2, 13min, Outcome::failed, 30s));  // slow: not graceful
    auto score = score_stack(s, run, phase_windows(s));
    CHECK(score.phases.at("incident").at("availability") == 0.0);  // users received nothing
    CHECK(score.phases.at("incident").at("graceful_degradation") == Approx(0.5));
    CHECK(score.served[0] == Served::graceful_failure);
    CHECK(score.served[1] == Served::failure);
    // Mitigation counts the best possible outcome: the minute with the slow error is not mitigated.
    CHECK(score.phases.at("all").at("time_to_mitigate") == Approx(240));
}

TEST_CASE("an out-of-date cached answer is degraded within max_staleness and wrong beyond it",
          "[score][cache]") {
    auto text = [](const std::string& staleness) {
        return fmt::format(R"(
[scenario]
name = "alone"
duration = "3h"
[workload]
max_staleness = "{}"
[[providers]]
id = "only"
  [[providers.phases]]
  start = "1h"
  end = "2h"
  fault = "outage"
)",
                           staleness);
    };
    auto cached = [](std::uint64_t id, Duration arrival, Duration outdated_by) {
        auto u = user(id, arrival, Outcome::answered, 10ms, AnswerVerdict::stale, -2);
        u.outdated_by = outdated_by;
        return u;
    };
    for (auto [staleness, expected] :
         {std::pair{"1h", Served::degraded_answer}, std::pair{"10m", Served::wrong_answer}}) {
        auto s = load_scenario_text(text(staleness), "alone.toml");
        StackRun run;
        run.client = s.clients[0];
        run.users.push_back(cached(1, 70min, 30min));                 // the 0:xx answer at 1:10
        run.users.push_back(user(2, 75min, Outcome::failed, 100ms));  // a clean fast error
        run.users.push_back(user(3, 30min, Outcome::answered, 1s, AnswerVerdict::ok));  // steady
        auto score = score_stack(s, run, phase_windows(s));
        CAPTURE(staleness);
        CHECK(score.served[0] == expected);
        bool acceptable = expected == Served::degraded_answer;
        CHECK(score.phases.at("incident").at("availability") == Approx(acceptable ? 0.5 : 0.0));
        CHECK(score.phases.at("incident").at("degraded_answers") == (acceptable ? 1 : 0));
        CHECK(score.phases.at("all").at("wrong_answers") == (acceptable ? 0 : 1));
        // Both requests had no healthy path: a usable cached answer handled its request well.
        CHECK(score.phases.at("incident").at("graceful_degradation") ==
              Approx(acceptable ? 1.0 : 0.5));
    }
}

TEST_CASE("the scorer writes exactly the metrics harness/metric.h declares, in every phase",
          "[score]") {
    auto s = scenario();
    StackRun run;
    run.client = s.clients[0];
    run.users.push_back(user(1, 1min, Outcome::answered, 2s));
    run.users.push_back(user(2, 12min, Outcome::failed, 1s));
    for (const auto& u : run.users) run.attempts.push_back(attempt("primary", u.arrival, 200));
    auto score = score_stack(s, run, phase_windows(s));
    std::set<std::string> declared(metric::names().begin(), metric::names().end());
    for (const auto& [phase, metrics] : score.phases) {
        INFO(phase);
        std::set<std::string> written;
        for (const auto& [name, value] : metrics) written.insert(name);
        // The overall score is written for "all" only.
        if (phase != "all") written.insert(std::string(metric::score));
        CHECK(written == declared);
    }
    for (const auto& name : metric::names()) CHECK(metric::format(name, 0.5) != "");
    CHECK(metric::format(metric::availability, 0.5) == "50.00%");
    CHECK(metric::format(metric::metastable, 1.0) == "YES");
}

TEST_CASE("latency in the score counts a request without an answer as the whole deadline",
          "[score][latency]") {
    auto s =
        scenario();  // deadline 30 s; the secondary stays healthy, so every request was answerable
    StackRun fast_but_failing, slow_but_answering;
    fast_but_failing.client = slow_but_answering.client = s.clients[0];
    for (int i = 0; i < 10; ++i) {
        Duration at = 11min + i * 10s;
        fast_but_failing.users.push_back(i < 2 ? user(i, at, Outcome::answered, 1s)
                                               : user(i, at, Outcome::failed, 1s));
        slow_but_answering.users.push_back(user(i, at, Outcome::answered, 8s));
    }
    auto w = phase_windows(s);
    auto a = score_stack(s, fast_but_failing, w), b = score_stack(s, slow_but_answering, w);
    CHECK(a.phases.at("incident").at("latency_p50") == Approx(1.0));  // of answers, as documented
    CHECK(a.phases.at("incident").at("wait_p50") ==
          Approx(30.0));  // what users waited for an answer
    CHECK(b.phases.at("incident").at("wait_p50") == Approx(8.0));
    CHECK(b.score > a.score);
}

TEST_CASE("users who fail after the provider recovered cost the recovery availability component",
          "[score]") {
    auto s = scenario();  // incident 10m–20m, recovery 20m–35m, a healthy secondary throughout
    StackRun clean, herd;
    clean.client = herd.client = s.clients[0];
    for (int i = 0; i < 120; ++i) {  // one user every 30 s for the hour
        Duration at = i * 30s;
        clean.users.push_back(user(i, at, Outcome::answered, 1s));
        // The two users of the recovery's first minute fail: the recovery window's 30 users get
        // 28 answers, and the last bad minute ends 60 s after the incident (time to recover full
        // marks), so this component is the only one that differs.
        bool fails = at >= 20min && at < 21min;
        herd.users.push_back(user(i, at, fails ? Outcome::failed : Outcome::answered, 1s));
    }
    auto w = phase_windows(s);
    auto a = score_stack(s, clean, w), b = score_stack(s, herd, w);
    auto component = [](const StackScore& score, const std::string& name) {
        for (const auto& c : score.components)
            if (c.name == name) return c;
        FAIL("no component " << name);
        return ScoreComponent{};
    };
    CHECK(b.phases.at("recovery").at("availability") == Approx(28.0 / 30));
    CHECK(component(a, "recovery availability").weight == 10);
    CHECK(component(a, "recovery availability").value == Approx(1.0));
    double ramped = (28.0 / 30 - 0.9) / (0.999 - 0.9);  // the anchors are steady availability's
    CHECK(component(b, "recovery availability").value == Approx(ramped));
    CHECK(component(b, "time to recover").value == Approx(component(a, "time to recover").value));
    double weights = 0;
    for (const auto& c : a.components)
        if (!std::isnan(c.value)) weights += c.weight;
    CHECK(a.score - b.score == Approx(100 * 10 * (1 - ramped) / weights));
    // An incident that lasts to the end leaves no recovery window: not measurable, left out.
    auto to_the_end = load_scenario_text(R"(
[scenario]
name = "s"
duration = "1h"
[[providers]]
id = "primary"
  [[providers.phases]]
  start = "10m"
  fault = "outage"
[[clients]]
name = "c"
providers = ["primary"]
)",
                                         "s.toml");
    StackRun one_provider = clean;
    one_provider.client = to_the_end.clients[0];
    auto ends = score_stack(to_the_end, one_provider, phase_windows(to_the_end));
    CHECK(std::isnan(component(ends, "recovery availability").value));
}

TEST_CASE("retry amplification and Retry-After violations come from the journal", "[score]") {
    auto s = scenario();
    StackRun run;
    run.client = s.clients[0];
    run.users.push_back(user(1, 11min, Outcome::failed, 1s));
    run.users.push_back(user(2, 12min, Outcome::failed, 1s));
    // Request 1: a 429 asking for 10 s, retried after 2 s (a violation), then after 12 s (fine).
    run.attempts.push_back(attempt("primary", 11min, 429, 1, 10s));
    run.attempts.push_back(attempt("primary", 11min + 2s, 429, 1, 10s));
    run.attempts.push_back(attempt("primary", 11min + 14s, 503, 1));
    // Request 3: told 10 s, back after 9.5 s: within the tolerance of a tenth of the wait.
    run.attempts.push_back(attempt("primary", 13min, 429, 3, 10s));
    run.attempts.push_back(attempt("primary", 13min + 9500ms, 200, 3));
    // Request 2: three attempts, no hints.
    for (int i = 0; i < 3; ++i) run.attempts.push_back(attempt("primary", 12min + i * 1s, 503, 2));
    auto score = score_stack(s, run, phase_windows(s));
    CHECK(score.phases.at("incident").at("retry_amplification") == Approx(4.0));
    CHECK(score.phases.at("incident").at("retry_after_violations") == 1);
    // Three retries came after an announced wait; one of them was early.
    CHECK(score.phases.at("incident").at("retry_after_compliance") == Approx(2.0 / 3.0));
}

TEST_CASE("a retry is judged against the request's last attempt at that provider, in any window",
          "[score]") {
    auto s = scenario();  // steady until 10m, incident 10m-20m
    StackRun run;
    run.client = s.clients[0];
    run.users.push_back(user(1, 9min, Outcome::failed, 1s));
    // Told to wait 2 minutes in the steady phase, back 30 s later in the incident: a violation
    // there, though the attempt that was told is in another window.
    run.attempts.push_back(attempt("primary", 9min + 50s, 429, 7, 120s));
    // The same request at the secondary in between, told nothing: it is another provider's.
    run.attempts.push_back(attempt("secondary", 10min + 5s, 503, 7));
    run.attempts.push_back(attempt("primary", 10min + 20s, 429, 7, 60s));
    // Back at the secondary: its last attempt announced no wait, so nothing to comply with.
    run.attempts.push_back(attempt("secondary", 10min + 25s, 503, 7));
    // And at the primary after the minute it was told last: compliant.
    run.attempts.push_back(attempt("primary", 11min + 30s, 200, 7));
    auto score = score_stack(s, run, phase_windows(s));
    const auto& incident = score.phases.at("incident");
    CHECK(incident.at("retry_after_violations") == 1);
    CHECK(incident.at("retry_after_compliance") == Approx(0.5));
    CHECK(std::isnan(score.phases.at("steady").at("retry_after_compliance")));
    const auto& all = score.phases.at("all");
    CHECK(all.at("retry_after_violations") == 1);
    CHECK(all.at("retry_after_compliance") == Approx(0.5));
    // The answer's cost: 1000 prompt and 500 completion tokens at the default prices.
    CHECK(all.at("cost") == Approx((1000 * 1.0 + 500 * 4.0) / 1e6));
}

TEST_CASE("a run whose goodput stays below half of steady long after the trigger is metastable",
          "[score]") {
    auto s = scenario();
    StackRun healthy, stuck;
    healthy.client = stuck.client = s.clients[0];
    for (int m = 0; m < 60; ++m) {
        healthy.users.push_back(user(m, m * 1min, Outcome::answered, 1s));
        bool down = m >= 10;
        stuck.users.push_back(
            user(m, m * 1min, down ? Outcome::failed : Outcome::answered, down ? 20s : 1s));
    }
    auto w = phase_windows(s);
    CHECK(score_stack(s, healthy, w).phases.at("all").at("metastable") == 0.0);
    auto flagged = score_stack(s, stuck, w);
    CHECK(flagged.phases.at("all").at("metastable") == 1.0);
    CHECK(flagged.score <= 20);
}

TEST_CASE("expectations pass and fail with the measured value", "[score][expect]") {
    auto s = scenario();
    StackRun run;
    run.client = s.clients[0];
    run.users.push_back(user(1, 11min, Outcome::answered, 1s, AnswerVerdict::ok, 1));
    run.users.push_back(user(2, 12min, Outcome::answered, 1s, AnswerVerdict::image_ignored, 1));
    auto score = score_stack(s, run, phase_windows(s));
    auto results = check_expectations(s, {score});
    REQUIRE(results.size() == 2);
    CHECK_FALSE(results[0].passed);
    CHECK(results[0].measured == Approx(0.5));
    CHECK(results[0].message == "c availability (incident) = 0.5, expected >= 0.9");
    CHECK_FALSE(results[1].passed);
    CHECK(results[1].message == "c wrong_answers (all) = 1, expected <= 0");
}

TEST_CASE("an external stack's lag: each request's first attempt from its arrival on, claimed once",
          "[score][lag]") {
    auto s = scenario();
    StackRun run;
    run.client = s.clients[0];
    run.client.kind = "stdio";
    auto asked = [&](std::uint64_t id, Duration arrival, std::uint64_t digest) {
        auto u = user(id, arrival, Outcome::answered, 5s);
        u.digest = digest;
        run.users.push_back(u);
    };
    // Users 1 and 3 ask the same question (digest 7). User 1 reaches the primary 2 s after it
    // arrived and retries; its retry at 1m31s is before user 3 arrived, so user 3's first attempt
    // is the one 4 s after its arrival, not the retry. User 2 is 0.5 s late; user 5 asks user 2's
    // question 0.2 s after it, before user 2's attempt, which is user 2's: user 5's is the next
    // one, 1.8 s after its arrival. User 4 never reached a provider and has no lag.
    asked(1, 1min, 7);
    asked(2, 1min + 10s, 8);
    asked(5, 1min + 10s + 200ms, 8);
    asked(3, 1min + 40s, 7);
    asked(4, 2min, 9);
    run.attempts.push_back(attempt("primary", 1min + 2s, 503, 7));
    run.attempts.push_back(attempt("primary", 1min + 10s + 500ms, 200, 8));
    run.attempts.push_back(attempt("primary", 1min + 12s, 200, 8));
    run.attempts.push_back(attempt("secondary", 1min + 31s, 200, 7));
    run.attempts.push_back(attempt("primary", 1min + 44s, 200, 7));
    // User 6 asks user 1's question and fails at once without reaching a provider: user 1's
    // retry at 1m31s, after user 6 ended, is not its attempt. User 7 is answered from the stack's
    // cache: the attempt with its question (a refresh) is not its.
    asked(6, 1min + 5s, 7);
    run.users.back().outcome = Outcome::failed;
    run.users.back().finished = 1min + 6s;
    asked(7, 1min + 45s, 10);
    run.users.back().provider = -2;
    run.attempts.push_back(attempt("primary", 1min + 45s + 50ms, 200, 10));
    auto lag = stack_lag(run);
    REQUIRE(lag.has_value());
    CHECK(lag->requests == 4);
    CHECK(lag->p50 == 1900ms);
    CHECK(lag->max == 4s);
    CHECK(lag->p99 == 3940ms);

    SECTION("said in the report, in scenario and wall time, once it reaches a second") {
        s.time_scale = 30;
        auto score = score_stack(s, run, phase_windows(s));
        REQUIRE(score.lag.has_value());
        auto note = std::find_if(score.notes.begin(), score.notes.end(), [](const std::string& n) {
            return n.find("reached a provider") != std::string::npos;
        });
        REQUIRE(note != score.notes.end());
        CHECK_THAT(*note,
                   Catch::Contains("1.9s after they arrived (median)") &&
                       Catch::Contains("3.9s at the 99th percentile (131ms of wall time at ×30)") &&
                       Catch::Contains("4s at most"));
        RunResult result;
        result.scenario = s;
        result.stacks.push_back(run);
        Report report{result, phase_windows(s), {score}, {}};
        CHECK_THAT(report_json(report),
                   Catch::Contains(R"("lag":{"requests":4,"p50_s":1.9,"p99_s":3.94,"max_s":4})"));
    }
    SECTION("not said below a second") {
        run.attempts[0].at = 1min + 100ms;
        run.attempts[2].at = 1min + 10s + 900ms;
        run.attempts[4].at = 1min + 40s + 300ms;
        auto score = score_stack(s, run, phase_windows(s));
        REQUIRE(score.lag.has_value());
        CHECK(score.lag->max < 1s);
        for (const auto& n : score.notes) CHECK_THAT(n, !Catch::Contains("reached a provider"));
    }
    SECTION("a built-in stack has none: its users carry no digest") {
        for (auto& u : run.users) u.digest = 0;
        CHECK_FALSE(stack_lag(run).has_value());
        CHECK_FALSE(score_stack(s, run, phase_windows(s)).lag.has_value());
    }
}
