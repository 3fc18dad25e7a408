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
