#include "harness/leaderboard.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/toml_reader.h"

using namespace brownout;
using namespace brownout::harness;

namespace {

constexpr const char* kPackScenario = R"(
[scenario]
name = "placing"
duration = "1h"
[[providers]]
id = "claude"
dialect = "anthropic"
models = ["claude-sonnet-4-5"]
[[providers]]
id = "open-ai"
dialect = "openai"
models = ["gpt-4o-mini"]
[[providers]]
id = "gem"
dialect = "gemini"
[[clients]]
name = "own"
policy = "naive"
providers = ["claude"]
[[expect]]
client = "own"
metric = "availability"
min = 0.5
)";

StackEntry stack(std::vector<std::string> speaks, int needs = 1, int uses = 0) {
    StackEntry s;
    s.name = "s";
    s.speaks = std::move(speaks);
    s.needs = needs;
    s.uses = uses;
    s.client = toml::table{{"kind", "stdio"}, {"command", "true"}};
    return s;
}

}  // namespace

TEST_CASE("a stack takes the scenario's first provider and the later ones it speaks",
          "[leaderboard]") {
    Scenario s = load_scenario_text(kPackScenario, "placing.toml");

    auto both = place_stack(stack({"anthropic", "openai"}), s);
    CHECK(both.providers == std::vector<std::string>{"claude", "open-ai"});
    CHECK(both.reason.empty());

    // Only the first provider counts as the incident's: an OpenAI-only stack sits out rather
    // than score the healthy fallback.
    auto openai_only = place_stack(stack({"openai"}), s);
    CHECK(openai_only.providers.empty());
    CHECK(openai_only.reason ==
          "speaks openai, the scenario's first provider (claude) speaks anthropic");

    auto fallback = place_stack(stack({"anthropic"}, 2), s);
    CHECK(fallback.providers.empty());
    CHECK(fallback.reason == "needs 2 providers it can talk to, the scenario has 1");

    // Built-ins speak every dialect; `uses` caps how many providers they take.
    CHECK(place_stack(stack({}), s).providers.size() == 3);
    CHECK(place_stack(stack({}, 1, 1), s).providers == std::vector<std::string>{"claude"});
}

TEST_CASE("the leaderboard's scenario has the stacks as clients with their placeholders filled",
          "[leaderboard]") {
    Scenario s = load_scenario_text(kPackScenario, "placing.toml");
    auto gateway = stack({"anthropic", "openai"}, 2);
    gateway.name = "gw";
    gateway.client =
        toml::table{{"kind", "gateway"},
                    {"command", "start {port}"},
                    {"url", "http://127.0.0.1:{port}/v1"},
                    {"model", "{1.model}"},
                    {"headers", toml::table{{"x-config",
                                             "${BROWNOUT_{1.env}_URL} ${BROWNOUT_{2.env}_URL} "
                                             "{2.id} {2.model} {3.model}"}}}};
    auto openai_only = stack({"openai"});
    openai_only.name = "sits-out";
    std::vector<StackEntry> stacks = {gateway, openai_only};
    std::vector<Placement> placed = {place_stack(stacks[0], s), place_stack(stacks[1], s)};

    toml::table root = parse_toml_text(kPackScenario, "placing.toml");
    toml::table out = leaderboard_scenario(root, s, stacks, placed);
    CHECK_FALSE(out.contains("expect"));  // the scenario's own expectations name its own clients
    const auto* clients = out["clients"].as_array();
    REQUIRE(clients != nullptr);
    REQUIRE(clients->size() == 1);  // the stack that sits out is not there
    const auto& c = *clients->get(0)->as_table();
    CHECK(c["name"].value<std::string>() == "gw");
    CHECK(c["model"].value<std::string>() == "claude-sonnet-4-5");
    CHECK(c["command"].value<std::string>() == "start {port}");  // run's own placeholder stays
    CHECK(c["headers"]["x-config"].value<std::string>() ==
          "${BROWNOUT_CLAUDE_URL} ${BROWNOUT_OPEN_AI_URL} open-ai gpt-4o-mini {3.model}");
    CHECK(c["providers"].as_array()->size() == 2);

    // What it writes loads as a scenario.
    std::ostringstream text;
    text << out;
    Scenario again = load_scenario_text(text.str(), "written.toml");
    REQUIRE(again.clients.size() == 1);
    CHECK(again.clients[0].providers == std::vector<std::string>{"claude", "open-ai"});
}

TEST_CASE("stack.toml files are read from each folder, {dir} filled, errors say where",
          "[leaderboard]") {
    auto dir =
        std::filesystem::temp_directory_path() / ("brownout-stacks-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir / "b-stack");
    std::filesystem::create_directories(dir / "a-stack");
    std::ofstream(dir / "b-stack" / "stack.toml") << R"([[stacks]]
name = "b"
about = "second folder"
kind = "stdio"
command = "node {dir}/client.mjs"
speaks = ["openai"]
needs = 1
)";
    std::ofstream(dir / "a-stack" / "stack.toml") << R"([[stacks]]
name = "a1"
kind = "stdio"
command = "x"
speaks = ["anthropic"]
[[stacks]]
name = "a2"
kind = "stdio"
command = "y"
speaks = ["gemini", "ollama"]
needs = 2
uses = 2
)";
    auto stacks = load_stacks(dir);
    REQUIRE(stacks.size() == 3);
    CHECK(stacks[0].name == "a1");  // folders in order, stacks in file order
    CHECK(stacks[1].name == "a2");
    CHECK(stacks[1].needs == 2);
    CHECK(stacks[1].uses == 2);
    CHECK_FALSE(stacks[1].client.contains("speaks"));
    CHECK(stacks[2].client["command"].value<std::string>() ==
          "node " + std::filesystem::absolute(dir / "b-stack").string() + "/client.mjs");

    std::ofstream(dir / "b-stack" / "stack.toml") << R"([[stacks]]
name = "b"
kind = "stdio"
command = "x"
speaks = ["openai"]
providers = ["p"]
)";
    try {
        load_stacks(dir);
        FAIL("a stack naming its providers was accepted");
    } catch (const Error& e) {
        CHECK(e.where().file == (dir / "b-stack" / "stack.toml").string());
        CHECK(e.where().line == 6);
        CHECK(e.key_path() == "stacks[0].providers");
    }
    std::filesystem::remove_all(dir);
}
