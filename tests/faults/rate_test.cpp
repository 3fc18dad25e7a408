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
