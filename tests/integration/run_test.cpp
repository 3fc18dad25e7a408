// brownout run end to end: real fleets, real sockets, the built-in stacks, scores and reports.

#include <fmt/format.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "core/scheduler.h"
#include "harness/command.h"
#include "harness/metric.h"
#include "harness/report.h"
#include "mockprovider/metrics.h"

using namespace brownout;
using namespace brownout::harness;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

fs::path temp_dir(const std::string& name) {
    auto dir = fs::temp_directory_path() / fmt::format("brownout-test-{}-{}", name, ::getpid());
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

// Ten scenario minutes in one wall second: a primary that is down for three of them.
std::string short_scenario(const std::string& expect) {
    return R"(
[scenario]
name = "short"
duration = "10m"
time_scale = 300
seed = 3
[workload]
rate = "600/h"
deadline = "30s"
[[providers]]
id = "primary"
latency = { ttft = "200ms", tokens_per_second = 100, jitter = 0 }
  [[providers.phases]]
  start = "3m"
  end = "6m"
  fault = "busy"
[[providers]]
id = "secondary"
dialect = "anthropic"
latency = { ttft = "200ms", tokens_per_second = 100, jitter = 0 }
[[clients]]
name = "failover"
policy = "failover"
providers = ["primary", "secondary"]
[[clients]]
name = "naive"
policy = "naive"
providers = ["primary"]
)" + expect;
}

// report.json's stacks, by client name.
std::map<std::string, json::object> stacks_by_client(const fs::path& dir) {
    auto report = json::parse(slurp(dir / "report" / "report.json")).as_object();
    std::map<std::string, json::object> by;
    for (const auto& s : report.at("stacks").as_array())
        by[std::string(s.at("client").as_string())] = s.as_object();
    return by;
}

int run_file(const fs::path& dir, const std::string& toml, std::string& out,
             std::atomic<bool>* stop = nullptr) {
    auto file = dir / "scenario.toml";
    std::ofstream(file) << toml;
    RunCommand c;
    c.scenario_file = file.string();
    c.report_dir = (dir / "report").string();
    c.stop = stop;
    std::ostringstream o, e;
    int rc = run_command(c, o, e);
    out = o.str() + e.str();
    return rc;
}

}  // namespace

TEST_CASE("run scores each stack, writes report.json and JUnit, and exits by the expectations",
          "[run]") {
    auto dir = temp_dir("run");
    std::string out;
    int rc = run_file(dir, short_scenario(R"(
[[expect]]
client = "failover"
metric = "availability"
phase = "incident"
min = 0.95
[[expect]]
client = "naive"
metric = "availability"
phase = "incident"
min = 0.95
)"),
                      out);
    INFO(out);
    CHECK(rc == 1);  // naive cannot hold 95% through a busy primary
    CHECK_THAT(out, Catch::Contains("✗ naive availability (incident) = 0"));
    auto report = json::parse(slurp(dir / "report" / "report.json")).as_object();
    CHECK(report.at("schema_version").as_int64() == kReportSchemaVersion);
    CHECK(report.at("scenario").at("seed").as_int64() == 3);
    CHECK_FALSE(report.at("partial").as_bool());
    auto stacks = report.at("stacks").as_array();
    REQUIRE(stacks.size() == 2);
    CHECK(stacks[0].at("metrics").at("incident").at("availability").to_number<double>() >= 0.95);
    CHECK(stacks[0].at("score").to_number<double>() > stacks[1].at("score").to_number<double>());
    auto junit = slurp(dir / "report" / "junit.xml");
    CHECK_THAT(junit,
               Catch::Contains("<testsuite name=\"brownout.short\" tests=\"2\" failures=\"1\""));
    CHECK_THAT(junit, Catch::Contains("<failure message=\"naive availability (incident) = 0"));
    auto html = slurp(dir / "report" / "report.html");
    CHECK_THAT(html, Catch::StartsWith("<!doctype html>"));
    CHECK_THAT(html, Catch::Contains("<svg"));
    CHECK_THAT(html, Catch::Contains("attempts at primary"));

    rc = run_file(
        dir,
        short_scenario("[[expect]]\nclient = \"failover\"\nmetric = \"wrong_answers\"\nmax = 0\n"),
        out);
    CHECK(rc == 0);
}

TEST_CASE(
    "the mock's late sends are counted past the largest bound of its metric within the "
    "harness's yardstick, said in scenario time",
    "[run]") {
    using namespace std::chrono_literals;
    VirtualScheduler x1(1), x12(12), x60(60);
    auto bound = [](Duration limit, const Clock& clock) {
        auto b = late_sends_bound(limit, clock);
        CHECK(std::chrono::round<std::chrono::microseconds>(mock::Histogram::kBounds[b.index] *
                                                            clock.time_scale()) == b.scenario);
        return b.scenario;
    };
    CHECK(bound(3s, x60) == 3s);          // 50 ms wall: a bound
    CHECK(bound(1500ms, x60) == 1200ms);  // 25 ms wall: 20 ms is the bound within
    CHECK(bound(2400ms, x12) == 2400ms);  // 200 ms wall, found whole (2.4 / 12 is not 0.2)
    CHECK(bound(1ms, x1) == 1ms);
    CHECK(bound(10us, x1) == 100us);  // under every bound: the smallest
    CHECK(bound(3600s, x1) == 10s);   // over every bound: the largest
    // Counted past that bound: a send exactly as late as it is not late.
    mock::Histogram h;
    for (auto late : {199ms, 200ms, 201ms}) h.observe(late);
    CHECK(h.snapshot().above(late_sends_bound(2400ms, x12).index) == 1);
    CHECK(late_sends_note(9, 650, 3s) ==
          "the mock ran late (a busy machine, or a stack that reads its streams too slowly): 9 of "
          "650 timed sends (answer heads after their latency, stream frames and keep-alives) went "
          "out more than 3s late, and the stack's latencies include it");
}

TEST_CASE("a scenario error exits 2 and an unwritable report directory exits 2", "[run]") {
    auto dir = temp_dir("errors");
    std::string out;
    CHECK(run_file(dir, "[scenario]\nname = \"x\"\n", out) == 2);
    CHECK_THAT(out, Catch::Contains("at least one [[providers]]"));
    fs::create_directories(dir / "blocked");
    std::ofstream(dir / "blocked" / "report") << "a file where the directory should be";
    auto file = dir / "ok.toml";
    std::ofstream(file) << short_scenario("");
    RunCommand c;
    c.scenario_file = file.string();
    c.report_dir = (dir / "blocked" / "report").string();
    std::ostringstream o, e;
    CHECK(run_command(c, o, e) == 2);
    CHECK_THAT(e.str(), Catch::Contains("cannot write the reports"));
}

TEST_CASE("a run stopped early still writes its reports, marked partial", "[run]") {
    auto dir = temp_dir("partial");
    std::atomic<bool> stop{false};
    std::thread stopper([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(400));
        stop = true;
    });
    std::string out;
    auto toml = short_scenario("");
    toml.replace(toml.find("time_scale = 300"), 16,
                 "time_scale = 60 ");  // ten seconds: the stop lands mid-run
    run_file(dir, toml, out, &stop);
    stopper.join();
    auto report = json::parse(slurp(dir / "report" / "report.json")).as_object();
    CHECK(report.at("partial").as_bool());
    CHECK(report.at("stacks")
              .as_array()[0]
              .at("metrics")
              .at("all")
              .at("requests")
              .to_number<double>() > 0);
}

TEST_CASE(
    "on the DeepSeek incident failover beats sdk-default, which beats naive, and retry-storm "
    "amplifies",
    "[run][sanity]") {
    RunOptions options;  // at the scenario's own time scale (6 h in 60 s), as users run it
    auto result = run_scenario(
        load_scenario(BROWNOUT_SOURCE_DIR "/scenarios/deepseek-2025-05-08.toml"), options);
    auto windows = phase_windows(result.scenario);
    std::map<std::string, StackScore> by;
    for (const auto& stack : result.stacks)
        by[stack.client.name] = score_stack(result.scenario, stack, windows);
    INFO("naive " << by["naive"].score << ", sdk-default " << by["sdk-default"].score
                  << ", retry-storm " << by["retry-storm"].score << ", failover "
                  << by["failover"].score);
    CHECK(by["failover"].score > by["sdk-default"].score + 20);
    CHECK(by["sdk-default"].score > by["naive"].score);
    CHECK(by["retry-storm"].phases.at("incident").at("retry_amplification") > 3.0);
    CHECK(by["failover"].phases.at("all").at("wrong_answers") == 0);
}

TEST_CASE("on the metastability probe retry-storm is flagged metastable and failover is not",
          "[run][sanity]") {
    RunOptions options;
    options.time_scale = 120;
    auto result = run_scenario(
        load_scenario(BROWNOUT_SOURCE_DIR "/scenarios/metastability-probe.toml"), options);
    auto windows = phase_windows(result.scenario);
    std::map<std::string, StackScore> by;
    for (const auto& stack : result.stacks)
        by[stack.client.name] = score_stack(result.scenario, stack, windows);
    // On failure, say how the run went: a storm that did not hold shows in these figures.
    std::ostringstream how;
    for (const auto& [name, score] : by) {
        for (const char* phase : {"incident", "after"})
            how << name << " " << phase << ": availability "
                << score.phases.at(phase).at(std::string(metric::availability))
                << ", retry amplification "
                << score.phases.at(phase).at(std::string(metric::retry_amplification)) << "\n";
        for (const auto& note : score.notes) how << name << ": " << note << "\n";
    }
    INFO(how.str());
    CHECK(by["retry-storm"].phases.at("all").at("metastable") == 1.0);
    CHECK(by["failover"].phases.at("all").at("metastable") == 0.0);
}

TEST_CASE("provider API keys reach the built-in stacks, and no report or output shows them",
          "[run][keys]") {
    auto dir = temp_dir("keys");
    const std::string key = "sk-brownout-secret-7f3a9c";
    auto toml = short_scenario("");
    for (const char* id : {"id = \"primary\"\n", "id = \"secondary\"\n"}) {
        toml.replace(toml.find(id), std::strlen(id),
                     std::string(id) + "api_key = \"" + key + "\"\n");
    }
    std::string out;
    run_file(dir, toml, out);
    INFO(out);
    auto report = json::parse(slurp(dir / "report" / "report.json")).as_object();
    // Sent: without the key every attempt would be a 401 and nothing would be available.
    CHECK(report.at("stacks")
              .as_array()[0]
              .at("metrics")
              .at("all")
              .at("availability")
              .to_number<double>() > 0.9);
    for (const auto& text :
         {out, slurp(dir / "report" / "report.json"), slurp(dir / "report" / "junit.xml"),
          slurp(dir / "report" / "report.html")}) {
        CHECK(text.find("secret-7f3a") == std::string::npos);
    }
}

TEST_CASE(
    "answers cut short with insufficient_system_resource are wrong for the SDK and failed over by "
    "failover",
    "[run][hold]") {
    auto dir = temp_dir("hold");
    auto toml = short_scenario("");
    // The primary's generations are interrupted (no hold wait) instead of refused with 503.
    toml.replace(toml.find("fault = \"busy\""), 14,
                 "fault = \"hold\"\n  then = \"interrupted\"\n  after_tokens = 3");
    toml += "[[clients]]\nname = \"sdk\"\npolicy = \"sdk-default\"\nproviders = [\"primary\"]\n";
    std::string out;
    run_file(dir, toml, out);
    INFO(out);
    auto by = stacks_by_client(dir);
    CHECK(by.at("sdk").at("metrics").at("incident").at("wrong_answers").to_number<double>() >
          0);  // passed on as answers
    CHECK(by.at("failover").at("metrics").at("all").at("wrong_answers").to_number<double>() == 0);
    CHECK(by.at("failover").at("metrics").at("incident").at("availability").to_number<double>() >
          0.95);
}

TEST_CASE("a per-model outage: failover by model keeps answering, a single-model stack does not",
          "[run][routes]") {
    auto dir = temp_dir("routes");
    std::string out;
    run_file(dir, R"(
[scenario]
name = "per-model"
duration = "10m"
time_scale = 300
seed = 5
[workload]
rate = "600/h"
deadline = "30s"
[[providers]]
id = "anthropic"
dialect = "anthropic"
models = ["claude-opus-4-6", "claude-sonnet-4-5"]
latency = { ttft = "200ms", tokens_per_second = 100, jitter = 0 }
  [[providers.phases]]
  start = "3m"
  end = "6m"
  fault = "busy"
  models = ["claude-opus-4-6"]
[[clients]]
name = "by-model"
policy = "failover"
providers = ["anthropic:claude-opus-4-6", "anthropic:claude-sonnet-4-5"]
[[clients]]
name = "opus-only"
policy = "sdk-default"
providers = ["anthropic:claude-opus-4-6"]
)",
             out);
    INFO(out);
    auto by = stacks_by_client(dir);
    CHECK(by.at("by-model").at("metrics").at("incident").at("availability").to_number<double>() >
          0.95);
    CHECK(by.at("opus-only").at("metrics").at("incident").at("availability").to_number<double>() <
          0.2);
    CHECK(by.at("by-model").at("metrics").at("all").at("wrong_answers").to_number<double>() == 0);
    CHECK(by.at("by-model").at("score").to_number<double>() >
          by.at("opus-only").at("score").to_number<double>());
}

// A slow primary on real sockets: a hedge after 2 s goes to the fallback while the first attempt
// is still open, the fallback's answer wins, and the primary's attempt is abandoned.
TEST_CASE("a hedged stack answers from the fallback while the slow primary is still working",
          "[run][hedging]") {
    auto dir = temp_dir("hedging");
    std::string out;
    run_file(dir, R"(
[scenario]
name = "hedging"
duration = "10m"
time_scale = 120
seed = 9
[workload]
rate = "300/h"
deadline = "30s"
repeat = 0.0
[[providers]]
id = "slow"
dialect = "openai"
latency = { ttft = "12s", tokens_per_second = 100, jitter = 0 }
[[providers]]
id = "fast"
dialect = "anthropic"
latency = { ttft = "300ms", tokens_per_second = 100, jitter = 0 }
[[clients]]
name = "hedges"
policy = "failover"
hedge_after = "2s"
providers = ["slow", "fast"]
[[clients]]
name = "waits"
policy = "failover"
providers = ["slow", "fast"]
)",
             out);
    INFO(out);
    auto by = stacks_by_client(dir);
    auto all = [&](const char* client, std::string_view metric) {
        return by.at(client).at("metrics").at("all").at(metric).to_number<double>();
    };
    CHECK(all("hedges", metric::availability) == 1.0);
    CHECK(all("waits", metric::availability) == 1.0);
    // Every answer from the fast provider, 2 s plus its own time after the arrival …
    CHECK(all("hedges", metric::latency_p95) < 6.0);
    CHECK(all("waits", metric::latency_p50) > 11.0);
    // … at the price of a second attempt for every request: the slow one, abandoned.
    CHECK(all("hedges", metric::retry_amplification) > 1.8);
    CHECK(all("hedges", metric::retry_amplification) < 2.05);
    CHECK(all("waits", metric::retry_amplification) == 1.0);
}
