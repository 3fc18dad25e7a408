// The engine: which phases apply, in what order, deterministically; injected and forced phases;
// phase errors. Decisions on scenario time passed in — no sockets, no clock (helpers: support.h).

#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/faults/support.h"

// The time-to-first-token factor a plan's slowdown carries (1: none).
static double ttft_factor(const Plan& plan) {
    auto slowdown = effect<Slowdown>(plan);
    return slowdown ? slowdown->ttft_factor : 1.0;
}

TEST_CASE("the same seed and request sequence give the same decisions", "[faults][determinism]") {
    const std::string toml = R"([[phases]]
start = "0s"
fault = "busy"
rate = 0.5
[[phases]]
start = "0s"
fault = "latency"
ttft_factor = 3
distribution = "lognormal"
spread = 0.7
[[phases]]
start = "0s"
fault = "disconnect"
after_tokens = 3
rate = 0.2)";
    auto a = engine(toml), b = engine(toml), c = engine(toml, 1h, 43);
    int differences_with_other_seed = 0;
    for (int i = 0; i < 500; ++i) {
        auto facts = i % 2 ? chat() : stream();
        auto pa = a.decide(Duration(i * 1s), facts);
        auto pb = b.decide(Duration(i * 1s), facts);
        auto pc = c.decide(Duration(i * 1s), facts);
        REQUIRE(pa.label() == pb.label());
        REQUIRE(ttft_factor(pa) == ttft_factor(pb));
        differences_with_other_seed += pa.label() != pc.label();
    }
    CHECK(differences_with_other_seed > 50);
}

TEST_CASE("rejecting faults are checked first and modifiers compose", "[faults][engine]") {
    auto e = engine(R"([[phases]]
start = "0s"
fault = "latency"
ttft_factor = 2
[[phases]]
start = "0s"
fault = "latency"
ttft_factor = 3
token_rate_factor = 0.5
[[phases]]
start = "30m"
fault = "outage")");
    auto plan = e.decide(1min, chat());
    CHECK_FALSE(plan.ends_request());
    // Each phase's slowdown, in timeline order: the provider multiplies them (mockprovider/shape).
    REQUIRE(plan.effects.size() == 2);
    auto first = std::get<Slowdown>(plan.effects[0]), second = std::get<Slowdown>(plan.effects[1]);
    CHECK(first.ttft_factor == Approx(2.0));
    CHECK(second.ttft_factor == Approx(3.0));
    CHECK(second.token_rate_factor == Approx(0.5));
    CHECK(plan.label() == "latency+latency");
    auto down = e.decide(31min, chat());
    REQUIRE(effect<Rejection>(down));
    CHECK(down.label() == "outage");  // no modifiers on a rejected request
}

TEST_CASE("a phase can be restricted to some models", "[faults][engine]") {
    auto e =
        engine("[[phases]]\nstart = \"0s\"\nfault = \"outage\"\nmodels = [\"gpt-4.1-nano\"]\n");
    CHECK(effect<Rejection>(e.decide(0s, RequestFacts{"gpt-4.1-nano"})));
    CHECK(e.decide(0s, RequestFacts{"gpt-4o"}).is_normal());
}

TEST_CASE("phases injected at runtime apply until cleared", "[faults][engine]") {
    auto e = engine("");
    CHECK(e.decide(5min, chat()).is_normal());
    e.inject(phase_from_json(R"({"fault":"busy","status":529,"duration":"10m"})", 5min));
    CHECK(effect<Rejection>(e.decide(6min, chat()))->status == 529);
    CHECK(e.decide(16min, chat()).is_normal());  // its duration passed
    e.inject(phase_from_json(R"({"fault":"outage"})", 20min));
    CHECK(effect<Rejection>(e.decide(21min, chat())));
    CHECK_FALSE(e.refusing(21min));
    e.inject(phase_from_json(R"({"fault":"outage","mode":"refuse"})", 21min));
    CHECK(e.refusing(21min));  // an injected outage refuses connections too
    CHECK(e.clear_injected() == 3);
    CHECK(e.decide(22min, chat()).is_normal());
    CHECK_FALSE(e.refusing(22min));
}

TEST_CASE("the x-brownout-fault header forces one fault on one request", "[faults][header]") {
    auto e = engine("");
    auto spec = phase_from_header("busy;status=429;retry_after=2s;message=slow down");
    auto plan = e.decide(0s, chat(), &spec);
    REQUIRE(effect<Rejection>(plan));
    CHECK(effect<Rejection>(plan)->status == 429);
    CHECK(effect<Rejection>(plan)->retry_after == 2s);
    CHECK(effect<Rejection>(plan)->message == "slow down");
    CHECK(e.decide(0s, chat()).is_normal());
    CHECK_THROWS_AS(phase_from_header("bussy"), Error);
}

TEST_CASE("phase errors name file, line, column and key", "[faults][validation]") {
    CHECK(error_of("[[phases]]\nstart = \"10m\"\nend = \"5m\"\nfault = \"busy\"\n") ==
          "t.toml:3:7: phases[0].end: the phase ends (5m) before it starts (10m)");
    CHECK(error_of("[[phases]]\nstart = \"0s\"\nfault = \"bussy\"\n") ==
          "t.toml:3:9: phases[0].fault: unknown fault kind \"bussy\", did you mean \"busy\"? "
          "(known: outage, busy, rate_limit, latency, stall, disconnect, malformed, stream_error, "
          "feature_loss, recovery, flapping, hold)");
    CHECK(error_of("[[phases]]\nstart = \"0s\"\nfault = \"busy\"\nrate = 1.5\n") ==
          "t.toml:4:8: phases[0].rate: 1.5 is outside [0, 1]");
    CHECK(error_of("[[phases]]\nstart = \"0s\"\nfault = \"busy\"\nstatuss = 503\n") ==
          "t.toml:4:1: phases[0].statuss: unknown key (did you mean \"status\"?)");
    CHECK_THAT(error_of("[[phases]]\nstart = \"soon\"\nfault = \"busy\"\n"),
               Catch::Contains("phases[0].start: \"soon\" is not a duration"));
    CHECK_THAT(
        error_of("[[phases]]\nstart = \"0s\"\nfault = \"busy\"\nrate = { from = 0.2, to = 2 }\n"),
        Catch::Contains("phases[0].rate.to: 2 is outside [0, 1]"));
    CHECK_THAT(
        error_of("[[phases]]\nstart = \"0s\"\nfault = \"outage\"\nmode = \"refuse\"\nrate = 0.5\n"),
        Catch::Contains("its rate must be 1.0"));
}

TEST_CASE("every registered fault kind is one file with its own test file", "[faults][registry]") {
    // The convention the README's contributor notes give: faults/<kind>.cpp, one registry row
    // (faults/common.cpp), tests/faults/<kind>_test.cpp.
    for (const auto& kind : fault_kinds()) {
        INFO(kind);
        CHECK(find_fault_parser(kind) != nullptr);
        CHECK(
            std::filesystem::exists(std::string(BROWNOUT_SOURCE_DIR) + "/faults/" + kind + ".cpp"));
        CHECK(std::filesystem::exists(std::string(BROWNOUT_SOURCE_DIR) + "/tests/faults/" + kind +
                                      "_test.cpp"));
    }
}
