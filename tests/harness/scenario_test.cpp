#include "harness/scenario.h"

#include <catch2/catch.hpp>
#include <functional>

#include "core/error.h"
#include "harness/scenario_clock.h"
#include "harness/serve.h"

using namespace brownout;
using namespace brownout::harness;
using namespace std::chrono_literals;

namespace {
std::string load_error(const std::string& toml) {
    try {
        load_scenario_text(toml, "s.toml");
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}
}  // namespace

TEST_CASE("a scenario's providers are read with their latency, limits and features",
          "[harness][scenario]") {
    auto s = load_scenario_text(R"(
[scenario]
name = "two"
title = "Two providers"
duration = "6h"
time_scale = 360
seed = 20250508

[[providers]]
id = "deepseek"
dialect = "openai"
models = ["deepseek-chat", "deepseek-reasoner"]
features = ["stream", "tools"]
latency = { ttft = "400ms", tokens_per_second = 60, jitter = 0.2 }
rate_limits = { requests_per_minute = 600 }

[[providers]]
id = "claude"
dialect = "anthropic"
)",
                                "two.toml");
    CHECK(s.name == "two");
    CHECK(s.duration == 6h);
    CHECK(s.time_scale == 360);
    CHECK(s.seed == 20250508);
    REQUIRE(s.providers.size() == 2);
    CHECK(s.providers[0].vendor == wire::Vendor::deepseek);
    CHECK(s.providers[0].latency.ttft == 400ms);
    CHECK(s.providers[0].rate_limits.requests_per_minute == 600);
    CHECK_FALSE(s.providers[0].has_feature("vision"));
    CHECK(s.providers[1].dialect == wire::DialectKind::anthropic);
    CHECK(s.providers[0].seed != s.providers[1].seed);
}

TEST_CASE("scenario errors name file, line, column and key", "[harness][scenario]") {
    const std::string head = "[scenario]\nname = \"x\"\n";
    CHECK(load_error(head + "[[providers]]\nid = \"a\"\nlatency = { ttft = \"soon\" }\n") ==
          "s.toml:5:20: providers[0].latency.ttft: \"soon\" is not a duration (e.g. \"250ms\", "
          "\"1.5s\", \"1h30m\")");
    CHECK(load_error(head + "[[providers]]\nid = \"a\"\ndialect = \"opena\"\n") ==
          "s.toml:5:11: providers[0].dialect: \"opena\" is not one of openai, anthropic, ollama, "
          "gemini, openai-responses (did you mean \"openai\"?)");
    CHECK(load_error(head + "[[providers]]\nid = \"a\"\nmodel = [\"m\"]\n") ==
          "s.toml:5:1: providers[0].model: unknown key (did you mean \"models\"?)");
    CHECK(load_error(head + "[[providers]]\nid = \"a\"\n[[providers]]\nid = \"a\"\n") ==
          "s.toml:6:6: providers[1].id: provider id \"a\" is used twice");
    CHECK_THAT(load_error(head), Catch::Contains("at least one [[providers]]"));
    CHECK_THAT(load_error("[scenario]\n"), Catch::Contains("scenario.name: is required"));
}

TEST_CASE("external client stacks need what starts or reaches them", "[harness][scenario]") {
    const std::string head =
        "[scenario]\nname = \"x\"\n[[providers]]\nid = \"a\"\n[[clients]]\nname = \"c\"\nproviders "
        "= [\"a\"]\n";
    CHECK_THAT(load_error(head + "kind = \"gateway\"\n"),
               Catch::Contains("clients[0].url: is required"));
    CHECK_THAT(load_error(head + "kind = \"stdio\"\n"),
               Catch::Contains("clients[0].command: a stdio client needs the command"));
    auto s =
        load_scenario_text(head +
                               "kind = \"gateway\"\nurl = \"http://127.0.0.1:{port}/v1\"\ncommand "
                               "= \"gw --port {port}\"\n"
                               "headers = { x-config = \"${BROWNOUT_A_URL}\" }\n",
                           "s.toml");
    CHECK(s.clients[0].headers.at("x-config") == "${BROWNOUT_A_URL}");
}

TEST_CASE("clients, workload and expectations are read and cross-checked", "[harness][scenario]") {
    const std::string head = "[scenario]\nname = \"x\"\n[[providers]]\nid = \"deepseek\"\n";
    auto s = load_scenario_text(head + R"(
[workload]
rate = "20/m"
deadline = "30s"
mix = [ { weight = 3, kind = "chat" }, { weight = 1, kind = "vision" } ]
[[clients]]
name = "ours"
policy = "failover"
providers = ["deepseek"]
retry_budget = 0.1
[[expect]]
client = "ours"
metric = "availability"
phase = "incident"
min = 0.99
)",
                                "s.toml");
    CHECK(s.workload.rate_per_hour == 1200);
    CHECK(s.workload.deadline == 30s);
    REQUIRE(s.workload.mix.size() == 2);
    REQUIRE(s.clients.size() == 1);
    CHECK(s.clients[0].params.retry_budget == 0.1);
    REQUIRE(s.expect.size() == 1);
    CHECK(s.expect[0].min == 0.99);
    CHECK(load_error(head + "[[clients]]\nname = \"c\"\nproviders = [\"deepsek\"]\n") ==
          "s.toml:7:13: clients[0].providers: unknown provider \"deepsek\" (did you mean "
          "\"deepseek\"?)");
    CHECK_THAT(load_error(head + "[[expect]]\nmetric = \"availabilty\"\nmin = 1\n"),
               Catch::Contains("(did you mean \"availability\"?)"));
    CHECK_THAT(load_error(head + "[[expect]]\nclient = \"nobody\"\nmetric = \"hung\"\nmax = 0\n"),
               Catch::Contains("unknown client \"nobody\""));
    CHECK_THAT(load_error(head + "[workload]\nrate = \"lots\"\n"),
               Catch::Contains("workload.rate: \"lots\" is not a rate"));
}

TEST_CASE("without [[clients]] the four built-in stacks are run", "[harness][scenario]") {
    auto s = load_scenario_text(
        "[scenario]\nname = \"x\"\n[[providers]]\nid = \"a\"\n[[providers]]\nid = \"b\"\n",
        "s.toml");
    REQUIRE(s.clients.size() == 4);
    CHECK(s.clients[3].name == "failover");
    CHECK(s.clients[3].providers == std::vector<std::string>{"a", "b"});
    CHECK(s.clients[0].providers == std::vector<std::string>{"a"});
}

TEST_CASE("the default serve scenario is one healthy OpenAI-compatible provider",
          "[harness][scenario]") {
    auto s = default_serve_scenario();
    REQUIRE(s.providers.size() == 1);
    CHECK(s.providers[0].dialect == wire::DialectKind::openai);
    CHECK(s.providers[0].has_feature("stream"));
}

TEST_CASE("the [server] table sets the mock's own limits, checked like any key",
          "[harness][scenario][limits]") {
    const std::string head = "[scenario]\nname = \"x\"\n[[providers]]\nid = \"a\"\n";
    auto defaults = load_scenario_text(head, "s.toml");
    CHECK(defaults.server.max_streams == 5000);
    CHECK(defaults.server.idle_timeout == 120s);
    auto s = load_scenario_text(
        head +
            "[server]\nmax_connections = 200\nmax_streams = 0\nheader_timeout = \"3s\"\n"
            "idle_timeout = \"1m30s\"\nmax_header_bytes = 8192\nshutdown_grace = \"500ms\"\n",
        "s.toml");
    CHECK(s.server.max_connections == 200);
    CHECK(s.server.max_streams == 0);
    CHECK(s.server.header_timeout == 3s);
    CHECK(s.server.idle_timeout == 90s);
    CHECK(s.server.max_header_bytes == 8192);
    CHECK(s.server.shutdown_grace == 500ms);
    CHECK(load_error(head + "[server]\nmax_streams = -1\n") ==
          "s.toml:6:15: server.max_streams: \"-1\" is not a whole number from 0 to 1000000");
    CHECK(load_error(head + "[server]\nidle_timeout = \"soon\"\n") ==
          "s.toml:6:16: server.idle_timeout: \"soon\" is not a positive duration (e.g. \"10s\", "
          "\"2m\")");
    CHECK(load_error(head + "[server]\nmax_header_bytes = 1.5\n") ==
          "s.toml:6:20: server.max_header_bytes: expected a whole number or a duration string");
    CHECK(load_error(head + "[server]\nmax_stream = 5\n") ==
          "s.toml:6:1: server.max_stream: unknown key (did you mean \"max_streams\"?)");
}

TEST_CASE("limit flags override the scenario and name the flag when wrong", "[harness][limits]") {
    mock::ServerLimits limits;
    apply_limit_flags(limits, {{"max_streams", "7"}, {"header_timeout", "250ms"}});
    CHECK(limits.max_streams == 7);
    CHECK(limits.header_timeout == 250ms);
    try {
        apply_limit_flags(limits, {{"max_connections", "lots"}});
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(std::string(e.what()) ==
              "--max-connections: \"lots\" is not a whole number from 0 to 1000000");
    }
}

TEST_CASE("a client route can name one model of a provider", "[harness][scenario][routes]") {
    const std::string head =
        "[scenario]\nname = \"x\"\n[[providers]]\nid = \"anthropic\"\ndialect = \"anthropic\"\n"
        "models = [\"claude-opus-4-6\", \"claude-sonnet-4-5\"]\n";
    auto s =
        load_scenario_text(head +
                               "[[clients]]\nname = \"c\"\nproviders = "
                               "[\"anthropic:claude-opus-4-6\", \"anthropic:claude-sonnet-4-5\"]\n",
                           "s.toml");
    REQUIRE(s.clients.at(0).providers.size() == 2);
    CHECK(parse_route(s.clients[0].providers[1]).provider == "anthropic");
    CHECK(parse_route(s.clients[0].providers[1]).model == "claude-sonnet-4-5");
    CHECK(parse_route("anthropic").model.empty());
    CHECK(load_error(head +
                     "[[clients]]\nname = \"c\"\nproviders = [\"anthropic:claude-opus-4-7\"]\n") ==
          "s.toml:9:13: clients[0].providers: provider \"anthropic\" has no model "
          "\"claude-opus-4-7\" (did you mean \"claude-opus-4-6\"?)");
    CHECK(load_error(head +
                     "[[clients]]\nname = \"c\"\nproviders = [\"anthropic\", \"anthropic\"]\n") ==
          "s.toml:9:13: clients[0].providers: \"anthropic\" is listed twice");
    CHECK_THAT(load_error(head + "[[clients]]\nname = \"c\"\nkind = \"stdio\"\ncommand = "
                                 "\"x\"\nproviders = [\"anthropic:claude-opus-4-6\"]\n"),
               Catch::Contains("a model route is for built-in stacks"));
}

TEST_CASE("the validity switches, max_staleness and enforce_retry_after are read and checked",
          "[harness][scenario]") {
    const std::string head = "[scenario]\nname = \"x\"\n[[providers]]\nid = \"a\"\n";
    auto s = load_scenario_text(head + R"(
  [[providers.phases]]
  start = "1m"
  fault = "busy"
  status = 503
  retry_after = "5s"
  enforce_retry_after = true
[workload]
max_staleness = "30m"
[[clients]]
name = "c"
providers = ["a"]
retry_budget = "unlimited"
jitter = "none"
honor_retry_after = false
capability_routing = false
)",
                                "s.toml");
    CHECK(s.workload.max_staleness == 30min);
    const auto& p = s.clients[0].params;
    CHECK(p.retry_budget < 0);
    CHECK(p.jitter == PolicyParams::Jitter::none);
    CHECK_FALSE(p.honor_retry_after);
    CHECK_FALSE(p.capability_routing);
    const std::string client = "[[clients]]\nname = \"c\"\nproviders = [\"a\"]\n";
    CHECK_THAT(load_error(head + client + "retry_budget = \"lots\"\n"),
               Catch::Contains(
                   "clients[0].retry_budget: expected a number from 0 to 10, or \"unlimited\""));
    CHECK_THAT(load_error(head + client + "jitter = \"half\"\n"),
               Catch::Contains(
                   "clients[0].jitter: \"half\" is not one of full, none, equal, decorrelated"));
}

TEST_CASE("validation reports every error in a file, each where it is",
          "[harness][scenario][errors]") {
    const std::string text = R"([scenario]
name = "x"
duration = "soon"
[[providers]]
id = "a"
latency = { ttft = "quick" }
  [[providers.phases]]
  start = "1m"
  fault = "busy"
  rate = 2
  [[providers.phases]]
  start = "2m"
  fault = "bussy"
[workload]
rate = "x"
[[clients]]
name = "c"
providers = ["a", "nope"]
[[expect]]
metric = "availabilty"
min = 1
)";
    try {
        load_scenario_text(text, "s.toml");
        FAIL("no error");
    } catch (const ErrorList& list) {
        std::vector<std::string> lines;
        for (const auto& e : list.errors()) lines.push_back(e.what());
        REQUIRE(lines.size() == 7);
        CHECK_THAT(lines[0], Catch::StartsWith("s.toml:3:12: scenario.duration:"));
        CHECK_THAT(lines[1], Catch::StartsWith("s.toml:6:20: providers[0].latency.ttft:"));
        CHECK_THAT(lines[2], Catch::StartsWith("s.toml:10:10: providers[0].phases[0].rate:"));
        CHECK_THAT(lines[3],
                   Catch::StartsWith(
                       "s.toml:13:11: providers[0].phases[1].fault: unknown fault kind \"bussy\""));
        CHECK_THAT(lines[4], Catch::StartsWith("s.toml:15:8: workload.rate:"));
        CHECK_THAT(lines[5], Catch::StartsWith(
                                 "s.toml:18:13: clients[0].providers: unknown provider \"nope\""));
        CHECK_THAT(lines[6], Catch::StartsWith("s.toml:20:10: expect[0].metric:"));
        CHECK(std::string(list.what()).find('\n') != std::string::npos);  // one error a line
    }
}

TEST_CASE("a misspelt key is reported as unknown, not as the missing key it causes",
          "[harness][scenario][errors]") {
    CHECK(load_error("[scenario]\nname = \"x\"\n[[providers]]\nidd = \"a\"\n") ==
          "s.toml:4:1: providers[0].idd: unknown key (did you mean \"id\"?)");
    CHECK(load_error("[scenario]\nnmae = \"x\"\n[[providers]]\nid = \"a\"\n") ==
          "s.toml:2:1: scenario.nmae: unknown key (did you mean \"name\"?)");
    // A key that is missing outright is still "required".
    CHECK_THAT(load_error("[scenario]\ntitle = \"t\"\n[[providers]]\nid = \"a\"\n"),
               Catch::Contains("scenario.name: is required"));
}

TEST_CASE("an external stack's clock: scenario time by default, wall on request", "[scenario]") {
    std::string base = R"(
[scenario]
name = "clock"
[[providers]]
id = "p"
[[clients]]
name = "ext"
kind = "stdio"
command = "true"
providers = ["p"]
)";
    CHECK(load_scenario_text(base, "c.toml").clients[0].time == "scenario");
    CHECK(load_scenario_text(base + "time = \"wall\"\n", "c.toml").clients[0].time == "wall");
    CHECK_THROWS_WITH(load_scenario_text(base + "time = \"wal\"\n", "c.toml"),
                      Catch::Contains("clients[0].time: \"wal\" is not one of scenario, wall"));
    auto env = scenario_clock_env("/lib/libfaketimeMT.so.1", 0, 360);
    CHECK(env.at("FAKETIME") == "+0 x360");
    CHECK(env.at("LD_PRELOAD").starts_with("/lib/libfaketimeMT.so.1"));
    CHECK(env.at("BROWNOUT_CLOCK") == "scenario");
    CHECK(scenario_clock_env("/l.so", -42, 60).at("FAKETIME") == "-42 x60");
}

TEST_CASE("a stdio client names the dialects it wants its requests in", "[scenario]") {
    std::string base = R"(
[scenario]
name = "forms"
[[providers]]
id = "p"
[[clients]]
name = "ext"
kind = "stdio"
command = "true"
providers = ["p"]
)";
    CHECK(load_scenario_text(base + "dialects = [\"gemini\", \"ollama\"]\n", "f.toml")
              .clients[0]
              .dialects == std::vector<std::string>{"gemini", "ollama"});
    CHECK_THROWS_WITH(load_scenario_text(base + "dialects = [\"gemni\"]\n", "f.toml"),
                      Catch::Contains("unknown dialect \"gemni\" (did you mean \"gemini\"?)"));
}

TEST_CASE("each built-in policy reads its own keys, and another policy's key says whose it is",
          "[harness][scenario][policy]") {
    const std::string head =
        "[scenario]\nname = \"x\"\n[[providers]]\nid = \"a\"\n[[clients]]\nname = \"c\"\n"
        "providers = [\"a\"]\n";
    SECTION("each policy's keys are read into its parameters") {
        auto s = load_scenario_text(
            head + "policy = \"sdk-default\"\nmax_retries = 5\nhonor_retry_after = false\n",
            "s.toml");
        CHECK(s.clients[0].params.max_retries == 5);
        CHECK_FALSE(s.clients[0].params.honor_retry_after);
        auto f = load_scenario_text(head + "hedge_after = \"3s\"\nmax_hedges = 2\n", "s.toml");
        CHECK(f.clients[0].params.policy == "failover");  // the default
        CHECK(f.clients[0].params.hedge_after == 3s);
        CHECK(f.clients[0].params.max_hedges == 2);
    }
    SECTION("a key of another policy is an error, where it is, naming its owner") {
        CHECK(load_error(head + "policy = \"sdk-default\"\nbreaker_failures = 5\n") ==
              "s.toml:9:1: clients[0].breaker_failures: not a key of policy \"sdk-default\" (it "
              "is failover's)");
        CHECK(load_error(head + "policy = \"naive\"\nmax_retries = 1\n") ==
              "s.toml:9:1: clients[0].max_retries: not a key of policy \"naive\" (it is "
              "sdk-default's and retry-storm's)");
        CHECK(load_error(head + "policy = \"retry-storm\"\nhedge_after = \"1s\"\n") ==
              "s.toml:9:1: clients[0].hedge_after: not a key of policy \"retry-storm\" (it is "
              "failover's)");
    }
    SECTION("a policy that is not one is its one error, not every key's") {
        CHECK(
            load_error(head + "policy = \"failsafe\"\nbreaker_failures = 5\njitter = \"none\"\n") ==
            "s.toml:8:10: clients[0].policy: \"failsafe\" is not one of naive, sdk-default, "
            "retry-storm, failover");
    }
    SECTION("every policy has check_finish_reason; a key of none is unknown") {
        for (const auto& name : policy_names()) {
            INFO(name);
            CHECK(load_error(head + "policy = \"" + name + "\"\ncheck_finish_reason = true\n") ==
                  "no error");
        }
        CHECK_THAT(
            load_error(head + "policy = \"naive\"\nattempt_timeot = \"5s\"\n"),
            Catch::Contains("attempt_timeot: unknown key (did you mean \"attempt_timeout\"?)"));
    }
}
