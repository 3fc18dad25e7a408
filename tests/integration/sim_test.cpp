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
#include "harness/score.h"

using namespace brownout;
using namespace brownout::harness;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

// Forty scenario minutes in twenty wall seconds: a capacity-limited primary that is busy for ten
// of them and then throttles with 429s, a fallback, four built-in stacks.
const std::string kSimIncident = R"(
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

std::map<std::string, double> scores_of(const SimResult& r, std::size_t point = 0) {
    std::map<std::string, double> out;
    for (const auto& [name, runs] : r.points.at(point).stacks)
        out[name] = runs.of("all.score").front();
    return out;
}

SimCommand sim_of(const fs::path& file) {
    SimCommand c;
    c.scenario_file = file.string();
    return c;
}

}  // namespace

TEST_CASE("the simulator gives the wire's scores within 3 points and the same ranking",
          "[sim][integration]") {
    auto file = write_temp("agree", kSimIncident);
    auto sim = scores_of(simulate(sim_of(file)));

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
    auto file = write_temp("determinism", kSimIncident);
    SimCommand c = sim_of(file);
    c.seed = 5;
    auto a = scores_of(simulate(c));
    auto b = scores_of(simulate(c));
    CHECK(a == b);
    c.seed = 6;
    CHECK(scores_of(simulate(c)) != a);
    fs::remove(file);
}

TEST_CASE("seeds and sweep points run at once give the report of one at a time, byte for byte",
          "[sim]") {
    auto file = write_temp("jobs", kSimIncident);
    SimCommand c = sim_of(file);
    c.seed = 1;
    c.seeds = 4;
    c.clients = {"naive", "failover"};
    c.sweep = {parse_sweep("providers.primary.phases.0.rate=0.2,0.8")};
    c.jobs = 1;
    auto one = sim_json(simulate(c));
    for (int jobs : {3, 8}) {  // fewer workers than units, and more
        c.jobs = jobs;
        CHECK(sim_json(simulate(c)) == one);
    }
    // Each stack's seeds are in their own order, whichever unit ended first.
    CHECK_THAT(one, Catch::Contains("{\"client\":\"naive\",\"seeds\":[1,2,3,4]"));
    fs::remove(file);
}

TEST_CASE("many seeds: a mean, a confidence interval and paired comparisons", "[sim]") {
    auto file = write_temp("seeds", kSimIncident);
    SimCommand c = sim_of(file);
    c.seeds = 4;
    c.clients = {"failover", "retry-storm"};
    auto r = simulate(c);
    CHECK(r.seeds == std::vector<std::uint64_t>{11, 12, 13, 14});
    CHECK(r.points.at(0).stacks.at("failover").seeds.size() == 4);
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
    auto file = write_temp("external", kSimIncident + R"(
[[clients]]
name = "my-gateway"
kind = "gateway"
url = "http://127.0.0.1:{port}/v1"
providers = ["primary"]
)");
    SimCommand c = sim_of(file);
    auto r = simulate(c);
    REQUIRE(r.skipped.size() == 1);
    CHECK_THAT(r.skipped[0], Catch::Contains("my-gateway"));
    CHECK_THAT(sim_table(r), Catch::Contains("skipped: my-gateway"));
    c.clients = {"my-gateway"};
    std::ostringstream out, err;
    CHECK(sim_command(c, out, err) == 2);
    CHECK_THAT(err.str(), Catch::Contains("no built-in stack"));
    fs::remove(file);
}

TEST_CASE("a sweep runs every combination of its values, each changing what its path names",
          "[sim][sweep]") {
    auto file = write_temp("sweep", kSimIncident);
    SimCommand c = sim_of(file);
    c.clients = {"naive", "failover"};
    c.sweep = {parse_sweep("providers.primary.phases.0.rate=0.1,0.9"),
               parse_sweep("clients.failover.breaker_failures=2,50")};
    auto r = simulate(c);
    REQUIRE(r.points.size() == 4);
    CHECK(r.points[0].settings[0].value == "0.1");
    CHECK(r.points[0].settings[1].value == "2");
    CHECK(r.points[1].settings[1].value == "50");
    CHECK(r.points[2].settings[0].value == "0.9");
    // A busier primary costs the single-provider stack: the first axis reached the fault.
    CHECK(scores_of(r, 0).at("naive") > scores_of(r, 2).at("naive") + 5);
    // The second axis reached the failover policy only: naive's runs do not move with it.
    CHECK(scores_of(r, 0).at("naive") == scores_of(r, 1).at("naive"));
    auto table = sim_table(r);
    CHECK_THAT(table, Catch::Contains("× 4 sweep points"));
    CHECK_THAT(table, Catch::Contains("B = clients.failover.breaker_failures"));
    CHECK_THAT(table, Catch::Contains("A=0.9 B=50"));
    CHECK_THAT(sim_csv(r), Catch::StartsWith("point,providers.primary.phases.0.rate,"
                                             "clients.failover.breaker_failures,client,phase,"));
    auto html = sim_html(r);
    CHECK_THAT(html, Catch::Contains("<svg"));
    CHECK_THAT(html, Catch::Contains("clients.failover.breaker_failures"));  // the 2-axis maps
    fs::remove(file);
}

TEST_CASE("a bad sweep path is an error that names the key and what is there", "[sim][sweep]") {
    auto file = write_temp("badsweep", kSimIncident);
    SimCommand c = sim_of(file);
    std::ostringstream out, err;
    c.sweep = {parse_sweep("clients.failovr.breaker_failures=5")};
    CHECK(sim_command(c, out, err) == 2);
    CHECK_THAT(err.str(), Catch::Contains("no element \"failovr\" in clients"));
    CHECK_THAT(err.str(), Catch::Contains("did you mean \"failover\"?"));
    err.str("");
    c.sweep = {parse_sweep("clients.failover.breaker_failurs=5")};
    CHECK(sim_command(c, out, err) == 2);
    CHECK_THAT(err.str(), Catch::Contains("unknown key (did you mean \"breaker_failures\"?)"));
    CHECK_THAT(err.str(), Catch::Contains("--sweep clients.failover.breaker_failurs=5"));
    err.str("");
    c.sweep = {parse_sweep("workload.rate=fast")};
    CHECK(sim_command(c, out, err) == 2);
    CHECK_THAT(err.str(), Catch::Contains("workload.rate"));
    fs::remove(file);
}

TEST_CASE("shards merged give the single process's report bit for bit", "[sim][shard]") {
    auto file = write_temp("shards", kSimIncident + R"(
[[expect]]
client = "failover"
metric = "score"
statistic = "ci95_low"
min = 50
)");
    SimCommand c = sim_of(file);
    c.seeds = 3;
    c.clients = {"naive", "failover"};
    c.sweep = {parse_sweep("providers.primary.phases.0.rate=0.2,0.8")};
    auto whole = sim_json(simulate(c));
    std::vector<SimResult> shards;
    for (int i : {2, 0, 1}) {  // in any order
        c.shard = {i, 3};
        auto part = simulate(c);
        CHECK_THAT(sim_table(part), Catch::Contains(fmt::format("shard {}/3: 2 of the 6 runs", i)));
        // Through the file format, as `brownout merge` reads them.
        shards.push_back(read_sim_json(sim_json(part), fmt::format("shard-{}.json", i)));
    }
    CHECK(sim_json(merge(shards)) == whole);
    auto doc = json::parse(whole).as_object();
    CHECK(doc.at("expectations").as_array().size() == 2);  // one per sweep point

    shards.pop_back();
    CHECK_THROWS_WITH(merge(shards), Catch::Contains("shard 1/3 missing"));
    shards.push_back(shards.front());
    CHECK_THROWS_WITH(merge(shards), Catch::Contains("given twice"));
    fs::remove(file);
}

TEST_CASE("expectations over seeds gate on the mean or a bound of its interval", "[sim]") {
    auto file = write_temp("expect", kSimIncident + R"(
[[expect]]
client = "failover"
metric = "score"
min = 0
[[expect]]
client = "failover"
metric = "score"
statistic = "ci95_high"
max = 0
)");
    SimCommand c = sim_of(file);
    c.seeds = 3;
    c.clients = {"failover"};
    auto r = simulate(c);
    auto verdicts = judge(r);
    REQUIRE(verdicts.size() == 2);
    CHECK(verdicts[0].passed);
    CHECK_FALSE(verdicts[1].passed);
    const auto& s = verdicts[1].summary;
    CHECK(s.n == 3);
    CHECK(verdicts[1].measured == s.mean + s.ci95);
    CHECK_THAT(verdicts[1].message, Catch::Contains("ci95_high"));
    std::ostringstream out, err;
    CHECK(sim_command(c, out, err) == 1);
    CHECK_THAT(out.str(), Catch::Contains("expectations: 1 passed, 1 failed"));
    c.shard = {0, 2};  // a shard has only some seeds: it judges nothing
    CHECK(sim_command(c, out, err) == 0);
    fs::remove(file);
}
