// The status page: what it says about the timeline, and when.
// Decisions on scenario time passed in — no sockets, no clock (helpers: support.h).

#include "faults/status_page.h"

#include <catch2/catch.hpp>

#include "tests/faults/support.h"

TEST_CASE("a phase can say how long its incident stays in monitoring before it is resolved",
          "[faults][status]") {
    auto e = engine(R"([[phases]]
start = "10m"
end = "40m"
fault = "busy"
status_page = { resolved_after = "16m" })",
                    2h);
    StatusPageConfig config{{"API"}, 7min};
    CHECK(status_at(e, config, 50min).incidents.at(0).status ==
          "monitoring");  // ended at 40m, seen at 47m
    CHECK(status_at(e, config, 62min).incidents.at(0).status == "monitoring");
    CHECK(status_at(e, config, 63min).incidents.at(0).status == "resolved");  // 47m + 16m
    CHECK_THAT(error_of("[[phases]]\nstart = \"0s\"\nfault = \"busy\"\nstatus_page = { "
                        "resolved_after = \"later\" }\n"),
               Catch::Contains("phases[0].status_page.resolved_after"));
}

TEST_CASE("the status page follows the timeline after its lag", "[faults][status]") {
    auto e = engine(R"([[phases]]
name = "major outage"
start = "10m"
end = "40m"
fault = "outage"
[[phases]]
name = "vision still missing"
start = "30m"
fault = "feature_loss"
features = ["vision"]
[[phases]]
name = "silent 529s"
start = "50m"
end = "55m"
fault = "busy"
status_page = { visible = false })",
                    2h);
    StatusPageConfig config{{"API", "Web Chat", "Image Recognition"}, 8min};
    auto at = [&](Duration t) { return status_at(e, config, t); };

    auto before = at(15min);  // the outage began at 10m but is published at 18m
    CHECK(before.indicator == "none");
    CHECK(before.incidents.empty());

    auto during = at(20min);
    CHECK(during.components[0].status == ComponentStatus::major_outage);
    CHECK(during.components[2].status == ComponentStatus::operational);
    CHECK(during.indicator == "critical");
    REQUIRE(during.incidents.size() == 1);
    CHECK(during.incidents[0].status == "investigating");
    CHECK(during.incidents[0].name == "major outage");

    auto after = at(60min);  // outage over (monitoring, then resolved); vision still gone
    CHECK(after.components[0].status == ComponentStatus::operational);
    CHECK(after.components[2].status == ComponentStatus::major_outage);  // feature → its component
    REQUIRE(after.incidents.size() == 2);
    CHECK(after.incidents[1].status == "resolved");
    CHECK(after.incidents[1].updates.front().status == "resolved");  // newest first

    auto silent = at(62min);  // the 529 phase is running and the page says nothing of it
    for (const auto& inc : silent.incidents) CHECK(inc.name != "silent 529s");
}
