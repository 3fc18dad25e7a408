// brownout sim: the same providers, policies and scorer in virtual time, without sockets — and
// the same verdict as on the wire.

#include "harness/sim.h"

#include <fmt/format.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness/run.h"
#include "harness/scenario.h"

using namespace brownout;
using namespace brownout::harness;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

// Forty scenario minutes in twenty wall seconds: a capacity-limited primary that is busy for ten
// of them and then throttles with 429s, a fallback, four built-in stacks.
const std::string kIncident = R"(
[scenario]
name = "sim-vs-run"
duration = "40m"
time_scale = 120
seed = 11
[workload]
rate = "1800/h"
deadline = "30s"
mix = [ { weight = 3, kind = "chat" }, { weight = 1, kind = "stream" } ]
[[providers]]
id = "primary"
latency = { ttft = "500ms", tokens_per_second = 50, jitter = 0.1 }
capacity = { concurrency = 16, queue = 16 }
  [[providers.phases]]
  start = "10m"
  end = "20m"
  fault = "busy"
  rate = 0.6
  [[providers.phases]]
  start = "20m"
  end = "25m"
  fault = "busy"
  status = 429
  rate = 0.3
  retry_after = "5s"
[[providers]]
id = "fallback"
dialect = "anthropic"
latency = { ttft = "800ms", tokens_per_second = 40, jitter = 0.1 }
[[clients]]
name = "naive"
policy = "naive"
providers = ["primary"]
[[clients]]
name = "sdk-default"
policy = "sdk-default"
providers = ["primary"]
[[clients]]
name = "retry-storm"
policy = "retry-storm"
providers = ["primary"]
[[clients]]
name = "failover"
policy = "failover"
providers = ["primary", "fallback"]
)";

fs::path write_temp(const std::string& name, const std::string& text) {
    auto p = fs::temp_directory_path() / fmt::format("brownout-sim-{}-{}.toml", name, ::getpid());
    std::ofstream(p) << text;
    return p;
}

std::map<std::string, double> scores_of(const SimResult& r) {
    std::map<std::string, double> out;
    for (const auto& [name, runs] : r.scores) out[name] = runs.front().score;
    return out;
}

}  // namespace

TEST_CASE("the simulator gives the wire's scores within 3 points and the same ranking",
          "[sim][integration]") {
    auto file = write_temp("agree", kIncident);
    SimCommand c;
    auto sim = scores_of(simulate(file.string(), c));

    auto scenario = load_scenario(file.string());
    auto run = run_scenario(scenario, {});
    auto windows = phase_windows(run.scenario);
    std::map<std::string, double> wire;
    for (const auto& stack : run.stacks)
        wire[stack.client.name] = score_stack(run.scenario, stack, windows).score;

    REQUIRE(sim.size() == 4);
    for (const auto& [name, score] : wire) {
        INFO(name << ": wire " << score << ", sim " << sim.at(name));
        CHECK(std::abs(sim.at(name) - score) <= 3.0);
    }
    auto ranking = [](const std::map<std::string, double>& s) {
        std::vector<std::string> names;
        for (const auto& [n, v] : s) names.push_back(n);
        std::sort(names.begin(), names.end(), [&](auto& a, auto& b) { return s.at(a) > s.at(b); });
        return names;
    };
    CHECK(ranking(sim) == ranking(wire));
    fs::remove(file);
}

TEST_CASE(
    "a simulation is deterministic: the same seed gives the same scores, another seed "
    "others",
    "[sim]") {
    auto file = write_temp("determinism", kIncident);
    SimCommand c;
    c.seed = 5;
    auto a = scores_of(simulate(file.string(), c));
    auto b = scores_of(simulate(file.string(), c));
    CHECK(a == b);
    c.seed = 6;
    CHECK(scores_of(simulate(file.string(), c)) != a);
    fs::remove(file);
}

TEST_CASE("many seeds: a mean, a confidence interval and paired comparisons", "[sim]") {
    auto file = write_temp("seeds", kIncident);
    SimCommand c;
    c.seeds = 4;
    c.clients = {"failover", "retry-storm"};
    auto r = simulate(file.string(), c);
    CHECK(r.seeds == std::vector<std::uint64_t>{11, 12, 13, 14});
    CHECK(r.scores.at("failover").size() == 4);
    auto table = sim_table(r);
    CHECK_THAT(table, Catch::Contains("failover beats retry-storm on 4 of 4 seeds"));
    auto doc = json::parse(sim_json(r)).as_object();
    CHECK(doc.at("seeds").as_array().size() == 4);
    const auto& summary = doc.at("stacks").as_array()[0].at("summary").as_object();
    CHECK(summary.at("all.score").at("n").as_int64() == 4);
    CHECK(summary.at("all.score").at("ci95").is_double());
    fs::remove(file);
}

TEST_CASE("summaries: mean, sample standard deviation, Student's t interval", "[sim]") {
    auto s = summarize({1, 2, 3, 4, 5});
    CHECK(s.n == 5);
    CHECK(s.mean == Approx(3.0));
    CHECK(s.sd == Approx(1.5811).epsilon(1e-4));
    CHECK(s.ci95 == Approx(2.776 * 1.5811 / std::sqrt(5.0)).epsilon(1e-3));
    CHECK(std::isnan(summarize({7}).ci95));
}

TEST_CASE("external stacks are left out of a simulation with a note; none left is an error",
          "[sim]") {
    auto file = write_temp("external", kIncident + R"(
[[clients]]
name = "my-gateway"
kind = "gateway"
url = "http://127.0.0.1:{port}/v1"
providers = ["primary"]
)");
    SimCommand c;
    auto r = simulate(file.string(), c);
    REQUIRE(r.skipped.size() == 1);
    CHECK_THAT(r.skipped[0], Catch::Contains("my-gateway"));
    CHECK_THAT(sim_table(r), Catch::Contains("skipped: my-gateway"));
    c.clients = {"my-gateway"};
    std::ostringstream out, err;
    CHECK(sim_command(SimCommand{file.string(), 1, {}, {"my-gateway"}, ""}, out, err) == 2);
    CHECK_THAT(err.str(), Catch::Contains("no built-in stack"));
    fs::remove(file);
}
