// latency: slower first tokens and token rates.
// Decisions on scenario time passed in — no sockets, no clock (helpers: support.h).

#include <catch2/catch.hpp>

#include "tests/faults/support.h"

TEST_CASE("latency factors are fixed, uniform or lognormal", "[faults][latency]") {
    SECTION("fixed") {
        auto e = engine("[[phases]]\nstart = \"0s\"\nfault = \"latency\"\nttft_factor = 5\n");
        CHECK(effect<Slowdown>(e.decide(0s, chat()))->ttft_factor == 5.0);
    }
    SECTION("uniform stays within the spread") {
        auto e = engine(
            "[[phases]]\nstart = \"0s\"\nfault = \"latency\"\nttft_factor = 2\ndistribution = "
            "\"uniform\"\nspread = 0.5\n");
        for (int i = 0; i < 200; ++i) {
            double f = effect<Slowdown>(e.decide(0s, chat()))->ttft_factor;
            REQUIRE(f >= 1.0);
            REQUIRE(f <= 3.0);
        }
    }
    SECTION("lognormal has a long tail") {
        auto e = engine(
            "[[phases]]\nstart = \"0s\"\nfault = \"latency\"\nttft_factor = 1\ndistribution = "
            "\"lognormal\"\nspread = 1.0\n");
        int above_3 = 0;
        for (int i = 0; i < 2000; ++i)
            above_3 += effect<Slowdown>(e.decide(0s, chat()))->ttft_factor > 3.0;
        CHECK(above_3 > 50);  // P(e^Z > 3) ≈ 14%
        CHECK(above_3 < 600);
    }
}
