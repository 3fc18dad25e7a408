// stream_error: an error event inside a stream.
// Decisions on scenario time passed in — no sockets, no clock (helpers: support.h).

#include <catch2/catch.hpp>

#include "tests/faults/support.h"

TEST_CASE("stream_error sends an in-band error after N tokens, an HTTP error when not streamed",
          "[faults][stream_error]") {
    auto e = engine(R"([[phases]]
start = "0s"
fault = "stream_error"
after_tokens = 4
status = 529)");
    auto err = e.decide(10s, stream());
    CHECK(effect<StreamFailure>(err)->after_tokens == 4);
    CHECK(effect<StreamFailure>(err)->error.status == 529);
    CHECK(effect<Rejection>(e.decide(10s, chat()))->status ==
          529);  // not streamed: the same error as HTTP
}
