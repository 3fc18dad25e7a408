// stall: a stream that stops sending.
// Decisions on scenario time passed in — no sockets, no clock (helpers: support.h).

#include <catch2/catch.hpp>

#include "tests/faults/support.h"

TEST_CASE("stall stops a stream after N tokens, with or without keep-alives", "[faults][stall]") {
    auto e = engine(R"([[phases]]
start = "0s"
fault = "stall"
after_tokens = 5
keepalive = true)");
    auto stall = e.decide(10s, stream());
    CHECK(effect<Stall>(stall)->after_tokens == 5);
    CHECK(effect<Stall>(stall)->keepalive);
    CHECK(e.decide(10s, chat()).is_normal());  // a non-streamed answer cannot stall
}
