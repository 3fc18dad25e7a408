// flapping: up and down periods.
// Decisions on scenario time passed in — no sockets, no clock (helpers: support.h).

#include <catch2/catch.hpp>

#include "tests/faults/support.h"

TEST_CASE("flapping alternates up and down periods", "[faults][flapping]") {
    auto e =
        engine("[[phases]]\nstart = \"10m\"\nfault = \"flapping\"\nup = \"5m\"\ndown = \"2m\"\n");
    CHECK(reject_share(e, 12min, 100) == 0.0);  // up
    CHECK(reject_share(e, 16min, 100) == 1.0);  // down (5m..7m into the phase)
    CHECK(reject_share(e, 18min, 100) == 0.0);  // up again
    CHECK(reject_share(e, 23min, 100) == 1.0);  // down in the second cycle
}
