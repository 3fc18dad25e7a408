// recovery: failures ramping down while capacity comes back.
// Decisions on scenario time passed in — no sockets, no clock (helpers: support.h).

#include <catch2/catch.hpp>

#include "tests/faults/support.h"

TEST_CASE("recovery ramps failures down and capacity up", "[faults][recovery]") {
    auto e = engine(R"([[phases]]
start = "0s"
end = "40m"
fault = "recovery"
failures = { from = 0.8, to = 0.0 }
capacity = { from = 0.2, to = 1.0 })");
    CHECK(reject_share(e, 0s) == Approx(0.8).margin(0.03));
    CHECK(reject_share(e, 20min) == Approx(0.4).margin(0.03));
    CHECK(e.capacity_factor(0s) == Approx(0.2));
    CHECK(e.capacity_factor(20min) == Approx(0.6));
    CHECK(e.capacity_factor(40min) == 1.0);
}
