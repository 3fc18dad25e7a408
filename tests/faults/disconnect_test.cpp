// disconnect: a stream cut mid-answer.
// Decisions on scenario time passed in — no sockets, no clock (helpers: support.h).

#include <catch2/catch.hpp>

#include "tests/faults/support.h"

TEST_CASE("disconnect cuts a stream after N tokens", "[faults][disconnect]") {
    auto e = engine(R"([[phases]]
start = "0s"
fault = "disconnect"
after_tokens = 3)");
    CHECK(effect<Cut>(e.decide(10s, stream()))->after_tokens == 3);
}
