// outage: resets, hangs, refused connections or HTTP errors, and capacity taken away.
// Decisions on scenario time passed in — no sockets, no clock (helpers: support.h).

#include <catch2/catch.hpp>

#include "tests/faults/support.h"

TEST_CASE("outage modes become resets, hangs or HTTP errors, and take capacity away",
          "[faults][outage]") {
    auto e = engine(R"([[phases]]
start = "0s"
end = "10m"
fault = "outage"
mode = "reset"
[[phases]]
start = "10m"
end = "20m"
fault = "outage"
mode = "hang"
[[phases]]
start = "20m"
end = "30m"
fault = "outage"
mode = "refuse"
[[phases]]
start = "30m"
end = "40m"
fault = "outage"
status = 500)");
    CHECK(effect<Reset>(e.decide(1min, chat())));
    CHECK(effect<Hang>(e.decide(11min, chat())));
    CHECK_FALSE(e.refusing(11min));
    CHECK(e.refusing(21min));
    CHECK(effect<Rejection>(e.decide(31min, chat()))->status == 500);
    CHECK(e.capacity_factor(31min) == 0.0);
    CHECK(e.capacity_factor(41min) == 1.0);
}
