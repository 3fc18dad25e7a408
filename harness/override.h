#pragma once
// Changing one value of a scenario by its path before it is read, for `brownout sim --sweep`:
//   clients.failover.breaker_failures=5     workload.rate=500/h
//   providers.deepseek.phases.0.rate=0.2    scenario.duration=2h
// A path walks tables by key and arrays of tables by index or by the element's `id` or `name`
// ([[providers]] by id, [[clients]] by name). The new value keeps the type of the one it replaces;
// a key the file leaves at its default is added, and the scenario's own validation then checks it
// like any other key. A path that leads nowhere is an error naming the key and what was there.

#include <toml++/toml.h>

#include <string>
#include <vector>

namespace brownout::harness {

struct Override {
    std::string path;
    std::string value;
};

// One swept key and the values it takes, from "KEY=V1,V2,…".
struct SweepAxis {
    std::string key;
    std::vector<std::string> values;
};
SweepAxis parse_sweep(std::string_view text);

// Every combination of the axes' values, the first axis varying slowest; one empty point when
// there are no axes.
std::vector<std::vector<Override>> sweep_points(const std::vector<SweepAxis>& axes);

// Throws brownout::Error ("--sweep PATH: …") when the path leads nowhere.
void apply_override(toml::table& root, const Override& o);

// The clients a scenario without [[clients]] gets (the four built-in policies), written into
// `root` as if the file had declared them, so that a sweep can reach their parameters.
void add_default_clients(toml::table& root);

}  // namespace brownout::harness
