#pragma once
// `brownout leaderboard`: every client stack over a pack of incident scenarios, ranked.
//
//   clients/*/stack.toml ─┐                       ┌─▶ DIR/<scenario>/scenario.toml (re-runnable)
//   built-in policies ────┼─▶ one scenario each ──┼─▶ DIR/<scenario>/seed-N/report.{json,html}…
//   the scenario pack ────┘   with every stack    └─▶ DIR/leaderboard.{json,md,html}
//
// A stack is placed on a scenario's providers by the dialects it speaks: it takes the scenario's
// first provider (the one the incident hits) and, for a stack with fallbacks, the later ones it
// can talk to. A stack that cannot speak to the first provider, or finds fewer providers than it
// needs, sits that scenario out with the reason.

#include <toml++/toml.h>

#include <atomic>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "harness/scenario.h"

namespace brownout::harness {

struct StackEntry {
    std::string name;
    std::string about;
    std::string file;                 // the stack.toml it came from; empty for a built-in
    std::vector<std::string> speaks;  // dialect names; empty: every dialect (the built-ins)
    int needs = 1;                    // providers it must have
    int uses = 0;                     // at most this many providers (0: every one it speaks)
    toml::table client;               // the [[clients]] table without `providers`
};

// The four built-in reference policies, as `run` gives a scenario without [[clients]].
std::vector<StackEntry> builtin_stacks();
// Every `stack.toml` one level under `dir` ([[stacks]] tables), sorted by folder; {dir} in a
// value becomes that folder's absolute path. Throws brownout::Error with file, line and column.
std::vector<StackEntry> load_stacks(const std::filesystem::path& dir);

struct Placement {
    std::vector<std::string> providers;  // empty: the stack sits this scenario out
    std::string reason;                  // why it sits out
};
Placement place_stack(const StackEntry& stack, const Scenario& scenario);

// The scenario with the stacks as its [[clients]] (its own clients and expectations removed) and
// each placeholder filled: {1.model}, {1.id}, {1.env} for the first placed provider, and so on.
toml::table leaderboard_scenario(toml::table root, const Scenario& scenario,
                                 const std::vector<StackEntry>& stacks,
                                 const std::vector<Placement>& placements);

struct LeaderboardCommand {
    std::vector<std::string> scenario_files;  // the pack
    std::filesystem::path stacks_dir;         // where the stack.toml folders are
    int seeds = 1;
    std::vector<std::string> clients;  // empty: every stack
    std::optional<double> time_scale;  // every scenario's (default: its own, up to the cap)
    // A real stack's CPU time is not scaled, its timeouts are: at ×360 httpx's 5 s timeout is
    // 14 ms of wall time and scheduling noise decides. Scenarios faster than this run at it.
    double max_time_scale = 120;
    // A stack that fell behind (answered requests after they were counted hung) runs again at
    // half the time scale, down to this: a busy machine's lateness is not the stack's.
    double min_time_scale = 30;
    // External stacks per run (the built-ins join the first): a CPU shared by more stacks than
    // it has cores would be scored as the incident's.
    int parallel = 2;
    std::string out_dir = "leaderboard";
    // Read back each run an earlier start of the same leaderboard finished in `out_dir` (the
    // same scenario with the same stacks, seed, time scale and batch) instead of running it
    // again: a pack of real stacks takes hours, and a stopped or killed one goes on from there.
    bool resume = false;
    bool list = false;  // print the stacks and exit
    std::atomic<bool>* stop = nullptr;
};

// Exit code: 0 whatever the stacks scored, 2 a usage, scenario, stack or writing error.
int leaderboard_command(const LeaderboardCommand& command, std::ostream& out, std::ostream& err);

}  // namespace brownout::harness
