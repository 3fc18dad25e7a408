// Changing a scenario by key path (sweeps), and reading numbers back exactly (merges).

#include "harness/override.h"

#include <fmt/format.h>

#include <catch2/catch.hpp>

#include "core/error.h"
#include "harness/json_exact.h"
#include "harness/scenario.h"

using namespace brownout;
using namespace brownout::harness;

namespace {

const char* kSweptScenario = R"(
[scenario]
name = "override"
duration = "1h"
[workload]
rate = "600/h"
[[providers]]
id = "primary"
  [[providers.phases]]
  start = "10m"
  end = "20m"
  fault = "busy"
  rate = 0.5
[[providers]]
id = "fallback"
)";

toml::table parsed() {
    return toml::parse(kSweptScenario);
}

std::string override_error(const Override& o) {
    auto root = parsed();
    add_default_clients(root);
    try {
        apply_override(root, o);
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("an override keeps the type of the value it replaces", "[override]") {
    auto root = parsed();
    apply_override(root, {"providers.primary.phases.0.rate", "0.9"});
    CHECK(root["providers"][0]["phases"][0]["rate"].value<double>() == 0.9);
    apply_override(root, {"providers.0.phases.0.rate", "1"});  // an integer where a number was
    CHECK(root["providers"][0]["phases"][0]["rate"].value<double>() == 1.0);
    apply_override(root, {"workload.rate", "2000/h"});
    CHECK(root["workload"]["rate"].value<std::string>() == "2000/h");
    apply_override(root, {"scenario.seed", "7"});  // a key the file leaves at its default
    CHECK(root["scenario"]["seed"].value<std::int64_t>() == 7);
}

TEST_CASE("a scenario without clients can still sweep its default stacks", "[override]") {
    auto root = parsed();
    add_default_clients(root);
    apply_override(root, {"clients.failover.breaker_failures", "20"});
    CHECK(root["clients"][3]["breaker_failures"].value<std::int64_t>() == 20);
    // The defaults are exactly the scenario's own default stacks.
    auto s = load_scenario_text(kSweptScenario, "override.toml");
    REQUIRE(s.clients.size() == 4);
    CHECK(s.clients[3].name == "failover");
    CHECK(s.clients[3].providers == std::vector<std::string>{"primary", "fallback"});
    CHECK(s.clients[0].providers == std::vector<std::string>{"primary"});
}

TEST_CASE("a path that leads nowhere names the key and its neighbours", "[override]") {
    CHECK_THAT(override_error({"providers.primry.phases.0.rate", "1"}),
               Catch::Contains("no element \"primry\" in providers (did you mean \"primary\"? "
                               "elements: primary, fallback, or an index from 0 to 1)"));
    CHECK_THAT(override_error({"providers.primary.phases.3.rate", "1"}),
               Catch::Contains("providers.primary.phases has 1 element; index 3 is past its end"));
    CHECK_THAT(override_error({"workloa.rate", "1"}),
               Catch::Contains("no key \"workloa\" in the scenario (did you mean \"workload\"?"));
    CHECK_THAT(override_error({"providers.primary.phases.0.rate", "high"}),
               Catch::Contains("\"high\" is not a number (the scenario has 0.5 here)"));
    CHECK_THAT(override_error({"providers.primary", "1"}), Catch::Contains("a list of tables"));
    CHECK_THAT(override_error({"workload", "1"}), Catch::Contains("is a table (keys: rate)"));
    CHECK_THAT(override_error({"workload..rate", "1"}), Catch::Contains("no empty parts"));
    CHECK_THROWS_WITH(parse_sweep("clients.failover.breaker_failures"),
                      Catch::Contains("expected KEY=V1,V2"));
    CHECK_THROWS_WITH(parse_sweep("a=1,,2"), Catch::Contains("an empty value"));
}

TEST_CASE("sweep points are the grid of every axis, the first varying slowest", "[override]") {
    auto points = sweep_points({parse_sweep("a=1,2"), parse_sweep("b=x,y,z")});
    REQUIRE(points.size() == 6);
    CHECK(points[0][0].value == "1");
    CHECK(points[0][1].value == "x");
    CHECK(points[2][1].value == "z");
    CHECK(points[3][0].value == "2");
    CHECK(sweep_points({}).size() == 1);
}

TEST_CASE("exact JSON numbers: a value read back is the value written", "[override][json]") {
    // Boost.JSON 1.81 reads 13.387664401253275 as 13.387664401253277.
    for (double v :
         {13.387664401253275, 0.009113580479111769, 6.689921856898562e-217, 0.1, 71.93, 1e300}) {
        auto doc = parse_json_exact(fmt::format("[{}]", v), "t");
        CHECK(doc.as_array()[0].as_double() == v);
    }
    CHECK_THROWS_WITH(parse_json_exact("[1,", "shard.json"),
                      Catch::Contains("shard.json: not JSON"));
}
