// rate_limit: emptied buckets and when they refill.
// Decisions on scenario time passed in — no sockets, no clock (helpers: support.h).

#include <catch2/catch.hpp>

#include "tests/faults/support.h"

TEST_CASE("a rate_limit phase empties its buckets and says when they refill",
          "[faults][rate_limit]") {
    auto e = engine(R"([[phases]]
start = "0s"
fault = "rate_limit"
requests_per_minute = 2)");
    CHECK_FALSE(effect<Rejection>(e.decide(0s, chat())));
    auto second = e.decide(0s, chat());
    CHECK_FALSE(effect<Rejection>(second));
    REQUIRE(effect<ReportLimits>(second));
    CHECK(effect<ReportLimits>(second)->limits.requests_limit == 2);
    CHECK(effect<ReportLimits>(second)->limits.requests_remaining == 0);
    CHECK(effect<ReportLimits>(second)->limits.requests_reset == 60s);
    auto third = e.decide(0s, chat());
    REQUIRE(effect<Rejection>(third));
    CHECK(effect<Rejection>(third)->status == 429);
    CHECK(effect<Rejection>(third)->retry_after == 30s);
    CHECK(effect<Rejection>(third)->rate_limit_on_tokens == false);
    CHECK_FALSE(effect<Rejection>(e.decide(30s, chat())));  // one token refilled
}
