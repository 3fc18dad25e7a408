#pragma once
// A scenario file, loaded and fully validated before anything starts (DESIGN §5).

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/duration.h"
#include "harness/override.h"
#include "harness/policies/policy.h"
#include "harness/workload.h"
#include "mockprovider/provider.h"
#include "mockprovider/server.h"

namespace brownout::harness {

// One entry of a client's `providers`: "deepseek" (the provider's first model) or
// "anthropic:claude-opus-4-6" (that model of it), so a chain can fall back model by model.
struct Route {
    std::string provider;
    std::string model;  // empty: the provider's first model
};
Route parse_route(std::string_view entry);

struct ClientSpec {
    std::string name;
    std::string kind = "builtin";  // builtin | gateway | stdio
    // A stack brownout drives from outside (a gateway or a stdio program), not a built-in policy.
    bool external() const { return kind != "builtin"; }
    PolicyParams params;  // builtin
    std::vector<std::string>
        providers;  // routes in order of preference (stdio and gateway: the providers offered)
    std::string command;  // stdio: required; gateway: optional (started, then waited for)
    std::string url;      // gateway: its OpenAI-compatible base URL ("http://127.0.0.1:{port}/v1")
    std::map<std::string, std::string>
        headers;        // gateway: sent with every request (${BROWNOUT_<ID>_URL} expanded)
    std::string model;  // gateway: the model to ask for (default: the first provider's first)
    Duration ready_timeout = std::chrono::seconds(60);
    // stdio and gateway: whose clock the child's own timers run on. "scenario": warped to the
    // scenario's time scale with libfaketime (its backoff, timeouts and sleeps follow the
    // scenario; the fleet's retry hints then speak scenario seconds to it); "wall": real time.
    std::string time = "scenario";
    // stdio: the dialects (registry names) whose form of each request the client is handed under
    // "requests" (beside the OpenAI and Anthropic bodies every client gets).
    std::vector<std::string> dialects;
    // stdio: the client writes {"ready":true} once it has started (modules loaded, clients
    // built); the scenario clock waits for it, up to ready_timeout, so that a slow start is not
    // scored as the incident's.
    bool ready_line = false;
    // stdio: requests sent before the scenario clock starts and not scored (their attempts are
    // dropped from the journal), so that the stack meets the incident warm — connections open,
    // code compiled — as a service that has been running for hours does.
    int warmup = 0;
};

struct Expectation {
    std::string client = "*";
    std::string metric;
    std::string phase = "all";  // steady | incident | recovery | after | all
    // Over the seeds of `brownout sim`: the mean, or a bound of its 95% confidence interval.
    // One seed (every `run`) has no interval: each statistic is then the value itself.
    std::string statistic = "mean";  // mean | ci95_low | ci95_high
    std::optional<double> min;
    std::optional<double> max;
    SourceLocation where;
};

// The metric names of DESIGN §6 (the contract) — expectations must name one of these.
const std::vector<std::string>& metric_names();

struct Scenario {
    std::string file;
    std::string name;
    std::string title;
    Duration duration = std::chrono::hours(1);
    double time_scale = 1.0;
    std::uint64_t seed = 1;
    std::vector<mock::ProviderConfig> providers;
    WorkloadSpec workload;
    std::vector<ClientSpec> clients;  // default: the four built-in policies over every provider
    std::vector<Expectation> expect;
    std::map<std::string, std::pair<double, double>>
        prices;                 // provider → $ per million input, output tokens
    mock::ServerLimits server;  // [server]: the mock's own limits (wall time)
};

// The index of provider `id` in s.providers; throws brownout::Error when there is none (the
// routes of a loaded scenario always name one).
std::size_t provider_index(const Scenario& s, std::string_view id);
// The model a route asks for: its own, or its provider's first.
const std::string& route_model(const Scenario& s, const Route& route);

// Throws brownout::Error ("file:line:col: key.path: message") on the first problem.
// `overrides` change values by key path before the file is read (harness/override.h).
Scenario load_scenario(const std::string& file, const std::vector<Override>& overrides = {});
Scenario load_scenario_text(std::string_view toml_text, const std::string& name);

// Every key a scenario file may hold, as the loader reads them (core/toml_reader.h): the
// source of `brownout schema`.
const TableSpec& scenario_spec();

// The scenario `brownout serve` runs without a file: one healthy OpenAI-compatible provider.
Scenario default_serve_scenario();

struct LibraryEntry {
    std::string file;
    std::string
        key;  // what `run` and the others take: "deepseek-2025-05-08", "papers/sre-retry-budget"
    std::string name;
    std::string title;
    std::string error;  // set when the file does not load
};
// Every *.toml in `dir` and one folder down (papers/), sorted by key.
std::vector<LibraryEntry> scenario_library(const std::filesystem::path& dir);

}  // namespace brownout::harness
