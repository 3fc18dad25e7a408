// Ramps: the share of requests a fault hits across its phase.
// Decisions on scenario time passed in — no sockets, no clock (helpers: support.h).

#include <catch2/catch.hpp>

#include "tests/faults/support.h"

TEST_CASE("ramp curves: linear, exponential and step", "[faults][rate]") {
    Rate linear{0.0, 1.0};
    Rate expo{0.0, 1.0, Rate::Curve::exponential};
    Rate step{0.0, 1.0, Rate::Curve::step, 4};
    CHECK(linear.at(0.5) == Approx(0.5));
    CHECK(expo.at(0.5) < 0.2);  // slow start
    CHECK(expo.at(1.0) == Approx(1.0));
    CHECK(step.at(0.1) == 0.0);
    CHECK(step.at(0.3) == Approx(1.0 / 3));
    CHECK(step.at(0.99) == Approx(1.0));
}

namespace {

const char* kSpells = R"([[phases]]
start = "0s"
end = "2h"
fault = "busy"
status = 529
rate = { from = 0.4, to = 0.8, spell = "2m" })";

}  // namespace

TEST_CASE("a rate with spells gives every request of a spell the same outcome", "[faults][rate]") {
    // The ramp rises across every spell (0.4 → 0.8 over the phase): a spell's outcome is decided
    // once, at its middle, so its first and last requests meet it too, on every seed.
    for (std::uint64_t seed = 1; seed <= 10; ++seed) {
        auto e = engine(kSpells, 3h, seed);
        for (int spell = 0; spell < 60; ++spell) {
            Duration start = spell * 2min;
            double share = reject_share(e, start + 1min, 50);
            INFO("seed " << seed << " spell " << spell << " share " << share);
            REQUIRE((share == 0.0 || share == 1.0));  // all or none, not a share of the requests
            CHECK(reject_share(e, start, 20) == share);
            CHECK(reject_share(e, start + 2min - 1ms, 20) == share);
        }
    }
}

TEST_CASE("a forced phase with spells is drawn for its request alone", "[faults][rate]") {
    // x-brownout-fault forces a phase on one request: its spell is not shared with the next.
    auto e = engine("");
    auto spec = phases(R"([[phases]]
start = "0s"
fault = "busy"
rate = { from = 0.5, to = 0.5, spell = "1m" })")[0];
    int hit = 0;
    for (int i = 0; i < 2000; ++i) hit += e.decide(10s, chat(), &spec).ends_request();
    CHECK(hit / 2000.0 == Approx(0.5).margin(0.05));
}

TEST_CASE("a rate with spells keeps the share over many seeds, and the scorer sees the draw",
          "[faults][rate]") {
    // Ten seeds × 60 spells: the mean share is the ramp's (0.6), spells or not.
    int rejecting = 0, spells = 0;
    for (std::uint64_t seed = 1; seed <= 10; ++seed) {
        auto e = engine(kSpells, 3h, seed);
        for (int spell = 0; spell < 60; ++spell, ++spells) {
            Duration at = spell * 2min + 30s;
            bool rejects = e.decide(at, chat()).ends_request();
            rejecting += rejects;
            // What the scorer asks (was any healthy path there?) is this spell's draw, not 0.6.
            CHECK(e.reject_probability(at, chat()) == (rejects ? 1.0 : 0.0));
        }
    }
    CHECK(rejecting / double(spells) == Approx(0.6).margin(0.05));
    // Without spells, the scorer's chance is the share itself.
    auto plain = engine(R"([[phases]]
start = "0s"
end = "2h"
fault = "busy"
rate = { from = 0.4, to = 0.8 })",
                        3h);
    CHECK(plain.reject_probability(1h, chat()) == Approx(0.6));
}

TEST_CASE("a rate's spell must be longer than zero", "[faults][rate]") {
    auto error = error_of(R"([[phases]]
start = "0s"
fault = "busy"
rate = { from = 0.4, to = 0.8, spell = "0s" })");
    CHECK_THAT(error, Catch::Contains("t.toml:4") && Catch::Contains("spell") &&
                          Catch::Contains("longer than zero"));
}

TEST_CASE("the scorer looks past a rejecting spell's end within the deadline", "[faults][rate]") {
    auto e = engine(R"([[phases]]
start = "0s"
end = "2h"
fault = "busy"
rate = { from = 0.5, to = 0.5, spell = "1m" })",
                    3h);
    auto rejects = [&](Duration at) { return e.reject_probability(at, chat()) == 1.0; };
    // A rejecting spell followed by a passing one, and one followed by another rejecting one.
    std::optional<Duration> then_passes, then_rejects;
    for (int k = 0; k < 118; ++k) {
        Duration at = k * 1min + 30s;
        if (!rejects(at)) continue;
        if (!rejects(at + 1min) && !then_passes) then_passes = at;
        if (rejects(at + 1min) && !rejects(at + 2min) && !then_rejects) then_rejects = at;
    }
    REQUIRE(then_passes);
    REQUIRE(then_rejects);
    auto within = [&](Duration from, Duration until) {
        return e.reject_probability_within(from, until, chat());
    };
    CHECK(within(*then_passes, *then_passes + 20s) == 1.0);     // the deadline ends in the spell
    CHECK(within(*then_passes, *then_passes + 30s) == 1.0);     // ... at the next one's start
    CHECK(within(*then_passes, *then_passes + 40s) == 0.0);     // the next spell would answer
    CHECK(within(*then_rejects, *then_rejects + 60s) == 1.0);   // the next one rejects too
    CHECK(within(*then_rejects, *then_rejects + 100s) == 0.0);  // the one after does not

    // No phase's end is looked past, spells or not (as before spells): not the spelled phase's
    // own. The same phase running an hour longer has the same spells (its draws do not depend
    // on its end): on a seed where its spell after 2h would let the request through, the phase
    // that ends at 2h does not count that spell.
    auto ending_at = [](const std::string& end, std::uint64_t seed) {
        return engine("[[phases]]\nstart = \"0s\"\nend = \"" + end +
                          "\"\nfault = \"busy\"\nrate = { from = 0.5, to = 0.5, spell = \"1m\" }",
                      3h, seed);
    };
    std::uint64_t seed = 1;
    while (seed < 100) {
        auto longer = ending_at("3h", seed);
        if (longer.reject_probability(2h - 30s, chat()) == 1.0 &&
            longer.reject_probability(2h + 30s, chat()) == 0.0)
            break;
        ++seed;
    }
    REQUIRE(seed < 100);
    CHECK(ending_at("3h", seed).reject_probability_within(2h - 30s, 2h + 40s, chat()) == 0.0);
    CHECK(ending_at("2h", seed).reject_probability_within(2h - 30s, 2h + 40s, chat()) == 1.0);
    // ... nor another phase's, when a spell of the spelled one starts meanwhile. Here the busy
    // phase comes first, so it draws as the one above on every seed: on a seed where its spell
    // at 59m30s rejects and the one from 1h would not, the outage that ends at 1h still rejects
    // as far as this question goes.
    for (seed = 1; seed < 100; ++seed) {
        auto busy = ending_at("3h", seed);
        if (busy.reject_probability(59min + 30s, chat()) == 1.0 &&
            busy.reject_probability(1h + 30s, chat()) == 0.0)
            break;
    }
    REQUIRE(seed < 100);
    auto two = engine(R"([[phases]]
start = "0s"
end = "3h"
fault = "busy"
rate = { from = 0.5, to = 0.5, spell = "1m" }
[[phases]]
start = "0s"
end = "1h"
fault = "outage")",
                      3h, seed);
    CHECK(two.reject_probability(1h + 30s, chat()) == 0.0);
    CHECK(two.reject_probability_within(59min + 30s, 1h + 40s, chat()) == 1.0);
    // A phase that starts within the window is not asked either.
    auto later = engine(R"([[phases]]
start = "10m"
fault = "busy"
rate = { from = 1.0, to = 1.0, spell = "1m" })",
                        3h);
    CHECK(later.reject_probability_within(9min + 50s, 10min + 30s, chat()) == 0.0);
}

TEST_CASE("every kind that rejects a share names its rate, spells and all", "[faults][rate]") {
    // The scorer finds a rejecting phase's spells through Fault::rejecting_rate(): a kind that
    // rejected by a rate without naming it would never be looked past.
    for (std::string kind : {"busy", "outage", "flapping", "feature_loss", "recovery"}) {
        std::string rate_key = kind == "recovery" ? "failures" : "rate";
        std::string extra = kind == "feature_loss" ? "features = [\"vision\"]\n" : "";
        auto spec = phases("[[phases]]\nstart = \"0s\"\nfault = \"" + kind + "\"\n" + extra +
                           rate_key + " = { from = 0.5, to = 0.5, spell = \"1m\" }")[0];
        auto fault = spec.make_fault();
        INFO(kind);
        REQUIRE(fault->rejecting_rate() != nullptr);
        CHECK(fault->rejecting_rate()->spell == 1min);
    }
}
