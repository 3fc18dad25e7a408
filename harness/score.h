#pragma once
// Scoring (DESIGN §6): per client stack and phase, computed from the harness's user records and
// the providers' attempt journals — never from what a client says about itself.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/outcome.h"
#include "harness/run.h"

namespace brownout::harness {

struct PhaseWindow {
    std::string name;  // steady | incident | recovery | after
    Duration from{};
    Duration to{};
};

// Phases of a run, from the first provider's timeline: steady until the first fault, incident
// until the last rejecting fault with an end, recovery for max(15m, 10% of the run) after it,
// then after.
std::vector<PhaseWindow> phase_windows(const Scenario& scenario);
// The windows a run is scored on: its scenario's, ending where an interrupted run stopped.
std::vector<PhaseWindow> run_windows(const RunResult& run);

using Metrics = std::map<std::string, double>;  // NaN: not measurable in that phase

// One part of the 0–100 score: a weight and a value in [0, 1] (NaN: not measurable, left out).
struct ScoreComponent {
    std::string name;
    double weight = 0;
    double value = 0;
};

// How long after their arrival an external stack's requests first reached a provider: the
// harness's, the machine's and the program's own delay, which the time scale multiplies (0.1 s of
// wall time is 36 scenario seconds at ×360). Timings finer than it are blurred by it.
struct StackLag {
    std::size_t requests = 0;  // the requests that reached a provider
    Duration p50{};
    Duration p99{};
    Duration max{};
};
// Each user claims, among the journaled attempts that carry its digest, the first one not claimed
// by an earlier user and made between its arrival and its end. Answers from the stack's own cache
// are left out. Empty for a built-in stack (no digests) and when no request reached a provider.
std::optional<StackLag> stack_lag(const StackRun& run);

struct StackScore {
    std::string client;
    std::map<std::string, Metrics> phases;  // steady, incident, recovery, after, all
    double score = 0;
    std::vector<ScoreComponent> components;
    std::vector<Served> served;      // what each user got, in the order of the run's users
    std::vector<std::string> notes;  // caps applied, metrics that could not be measured
    std::optional<StackLag> lag;     // external stacks
};

StackScore score_stack(const Scenario& scenario, const StackRun& run,
                       const std::vector<PhaseWindow>& windows);

struct ExpectationResult {
    Expectation expectation;
    std::string client;
    double measured = 0;
    bool passed = false;
    std::string message;
};

std::vector<ExpectationResult> check_expectations(const Scenario& scenario,
                                                  const std::vector<StackScore>& scores);

}  // namespace brownout::harness
