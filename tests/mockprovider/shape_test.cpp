// How the provider reads a plan's effects when several faults hit one request (mockprovider/shape).

#include "mockprovider/shape.h"

#include <catch2/catch.hpp>

using namespace brownout;
using namespace std::chrono_literals;

namespace {
faults::Plan plan_of(faults::Effects effects) {
    faults::Plan plan;
    plan.effects = std::move(effects);
    return plan;
}
}  // namespace

TEST_CASE("a plan without effects is a normal answer", "[provider][shape]") {
    const faults::Plan plan;
    auto s = mock::shape_of(plan.effects);
    CHECK(s.answers());
    CHECK(s.ttft_factor == 1.0);
    CHECK_FALSE(s.stream_stops_after());
    CHECK(s.malformed == faults::Malformed::none);
}

TEST_CASE("slowdowns multiply, in timeline order", "[provider][shape]") {
    const auto plan = plan_of({faults::Slowdown{2.0, 1.0}, faults::Slowdown{3.0, 0.5}});
    auto s = mock::shape_of(plan.effects);
    CHECK(s.ttft_factor == Approx(6.0));
    CHECK(s.token_rate_factor == Approx(0.5));
    CHECK(s.answers());
}

TEST_CASE("the first rejection, reset or hang is the answer", "[provider][shape]") {
    SECTION("a rejection before a reset") {
        const auto plan =
            plan_of({faults::Rejection{.status = 529}, faults::Reset{}, faults::Rejection{}});
        auto s = mock::shape_of(plan.effects);
        REQUIRE(s.reject);
        CHECK(s.reject->status == 529);
        CHECK(s.reject == std::get_if<faults::Rejection>(&plan.effects.front()));  // not a copy
        CHECK(s.connection == faults::ConnectionAction::none);
        CHECK_FALSE(s.answers());
    }
    SECTION("a hang before a rejection") {
        const auto plan = plan_of({faults::Hang{}, faults::Rejection{.status = 503}});
        auto s = mock::shape_of(plan.effects);
        CHECK(s.connection == faults::ConnectionAction::hang);
        CHECK_FALSE(s.reject);
    }
}

TEST_CASE("the later phase's stall, cut, error or breakage is the one carried out",
          "[provider][shape]") {
    const auto plan = plan_of({
        faults::Stall{.after_tokens = 9},
        faults::Cut{.after_tokens = 7},
        faults::Stall{.after_tokens = 4, .keepalive = true, .keepalive_interval = 2s},
        faults::Cut{.after_bytes = 100},  // leaves the earlier cut's token count alone
        faults::Malform{faults::Malformed::missing_done},
        faults::Malform{faults::Malformed::truncated_sse},
    });
    auto s = mock::shape_of(plan.effects);
    REQUIRE(s.stall);
    CHECK(s.stall->after_tokens == 4);
    CHECK(s.stall->keepalive);
    CHECK(s.stall->keepalive_interval == 2s);
    CHECK(s.cut_after_tokens == 7);
    CHECK(s.cut_after_bytes == 100);
    CHECK(s.malformed == faults::Malformed::truncated_sse);
    // The stream stops at the fewest tokens any of them allows.
    CHECK(s.stream_stops_after() == 4);
    const auto failing_plan =
        plan_of({faults::Cut{.after_tokens = 7},
                 faults::StreamFailure{.after_tokens = 2, .error = {.status = 500}}});
    auto failing = mock::shape_of(failing_plan.effects);
    CHECK(failing.stream_stops_after() == 2);
    CHECK(failing.stream_failure->error.status == 500);
}

TEST_CASE("ignored parts of a request add up; the substitute model and limits are the last said",
          "[provider][shape]") {
    faults::LimitSnapshot limits{.requests_limit = 2, .requests_remaining = 0};
    const auto plan = plan_of(
        {faults::Ignore{faults::Ignored::images}, faults::Substitute{"old-model"},
         faults::Ignore{faults::Ignored::stream}, faults::Substitute{"other-model"},
         faults::ReportLimits{limits}, faults::Hold{.wait = 60s, .then = faults::HoldEnd::empty}});
    auto s = mock::shape_of(plan.effects);
    CHECK(s.ignore_images);
    CHECK(s.ignore_stream);
    CHECK_FALSE(s.ignore_tools);
    CHECK(s.substitute_model == "other-model");
    REQUIRE(s.limits);
    CHECK(s.limits->requests_limit == 2);
    REQUIRE(s.hold);
    CHECK(s.hold->then == faults::HoldEnd::empty);
    CHECK(s.answers());
}
