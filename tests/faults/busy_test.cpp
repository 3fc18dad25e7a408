// busy: "server busy" errors, with their retry hints.
// Decisions on scenario time passed in — no sockets, no clock (helpers: support.h).

#include <catch2/catch.hpp>

#include "tests/faults/support.h"

TEST_CASE("a busy phase ramps its failure share from 30% to 100%", "[faults][busy]") {
    auto e = engine(R"([[phases]]
start = "10m"
end = "20m"
fault = "busy"
rate = { from = 0.3, to = 1.0 }
message = "Server busy, please try again later.")");
    CHECK(reject_share(e, 5min) == 0.0);
    CHECK(reject_share(e, 10min) == Approx(0.3).margin(0.03));
    CHECK(reject_share(e, 15min) == Approx(0.65).margin(0.03));
    CHECK(reject_share(e, 20min - 1ms) == Approx(1.0).margin(0.01));
    CHECK(reject_share(e, 20min) == 0.0);
    auto plan = e.decide(19min, chat());
    REQUIRE(effect<Rejection>(plan));
    CHECK(effect<Rejection>(plan)->status == 503);
    CHECK(effect<Rejection>(plan)->message == "Server busy, please try again later.");
    CHECK(plan.label() == "busy");
}

TEST_CASE(
    "busy can carry Retry-After in seconds or as an HTTP-date, retry-after-ms and x-should-retry",
    "[faults][busy]") {
    auto e = engine(R"([[phases]]
start = "0s"
end = "1m"
fault = "busy"
status = 429
retry_after = "2s"
retry_after_ms = 1500
should_retry = false
[[phases]]
start = "1m"
fault = "busy"
status = 529
retry_after = "Wed, 21 Oct 2026 07:28:00 GMT")");
    auto a = effect<Rejection>(e.decide(10s, chat()));
    CHECK(a->status == 429);
    CHECK(a->retry_after == 2s);
    CHECK(a->retry_after_ms == 1500ms);
    CHECK(a->should_retry == false);
    auto b = effect<Rejection>(e.decide(2min, chat()));
    CHECK(b->status == 529);
    CHECK(b->retry_after_date == "Wed, 21 Oct 2026 07:28:00 GMT");
}
