#pragma once
// `brownout sim`: the scenario's built-in stacks in virtual time (harness/inprocess_transport.h),
// over many seeds: each stack's score and metrics with their mean, standard deviation and 95%
// confidence interval, and paired comparisons between stacks on the same seeds.

#include <cstdint>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/score.h"

namespace brownout::harness {

struct SimCommand {
    std::string scenario_file;
    int seeds = 1;
    std::optional<std::uint64_t> seed;  // the first seed (default: the scenario's)
    std::vector<std::string> clients;   // empty: every built-in stack
    std::string json_file;              // empty: none
};

struct Summary {
    std::size_t n = 0;
    double mean = 0;
    double sd = 0;
    double ci95 = 0;  // half-width of the 95% confidence interval of the mean (Student's t)
};
Summary summarize(const std::vector<double>& values);

struct SimResult {
    std::vector<std::uint64_t> seeds;
    std::vector<std::string> stacks;
    std::vector<std::string> skipped;  // external stacks, with why
    // Per stack: one StackScore per seed, in the order of `seeds`.
    std::map<std::string, std::vector<StackScore>> scores;
};

SimResult simulate(const std::string& scenario_file, const SimCommand& command);
std::string sim_table(const SimResult& r);
std::string sim_json(const SimResult& r);

// Returns the exit code: 0 ran, 2 a usage or scenario error.
int sim_command(const SimCommand& command, std::ostream& out, std::ostream& err);

}  // namespace brownout::harness
