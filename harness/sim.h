#pragma once
// `brownout sim`: the scenario's built-in stacks in virtual time (harness/inprocess_transport.h),
// over many seeds and sweep points: each stack's score and metrics with their mean, standard
// deviation and 95% confidence interval, paired comparisons between stacks on the same seeds,
// expectations judged on those statistics, and shards that `brownout merge` joins into the
// numbers one process would have given, bit for bit.

#include <cstdint>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/override.h"
#include "harness/scenario.h"

namespace brownout::harness {

// This process runs the units (sweep point × seed) whose number modulo `count` is `index`.
struct Shard {
    int index = 0;
    int count = 1;
};
// "I/N" (0 ≤ I < N), or "auto/N" with I from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job).
Shard parse_shard(std::string_view text);

struct SimCommand {
    std::string scenario_file;
    int seeds = 1;
    std::optional<std::uint64_t> seed;  // the first seed (default: the scenario's)
    std::vector<std::string> clients;   // empty: every built-in stack
    std::vector<SweepAxis> sweep;
    Shard shard;
    // Units (a sweep point at one seed) run at once; 0: one for each core. Any number gives the
    // same result.
    int jobs = 0;
    // What the sweep table and the heatmaps show: "phase.metric" ("all.metastable",
    // "incident.retry_amplification"); the score by default.
    std::string metric = "all.score";
    std::string json_file;  // empty: none
    std::string csv_file;
    std::string html_file;
};

struct Summary {
    std::size_t n = 0;
    double mean = 0;
    double sd = 0;
    double ci95 = 0;  // half-width of the 95% confidence interval of the mean (Student's t)
};
Summary summarize(const std::vector<double>& values);

// One stack at one sweep point: per seed run, the values the report summarises, by
// "phase.metric" (the table's columns and every metric an expectation names).
struct StackRuns {
    std::vector<std::uint64_t> seeds;
    std::vector<std::map<std::string, double>> values;
    std::vector<double> of(const std::string& key) const;  // NaNs (not measurable) left out
};

struct SimPoint {
    std::vector<Override> settings;  // one per sweep axis; empty without a sweep
    std::map<std::string, StackRuns> stacks;
};

struct SimExpectation {
    std::size_t point = 0;
    std::string client;
    Expectation expectation;
    Summary summary;
    double measured = 0;  // the statistic the expectation names
    bool passed = false;
    std::string message;
};

struct SimResult {
    std::string scenario;              // its name
    std::vector<std::uint64_t> seeds;  // every seed of the whole run, whichever shard ran it
    std::vector<SweepAxis> sweep;
    Shard shard;
    std::vector<std::string> stacks;
    std::vector<std::string> skipped;  // external stacks, with why
    std::vector<Expectation> expect;
    std::string metric = "all.score";  // SimCommand::metric
    std::vector<SimPoint> points;      // in sweep_points() order
};

SimResult simulate(const SimCommand& command);
// Judged when the result holds every seed (one shard of one, or merged).
std::vector<SimExpectation> judge(const SimResult& r);

std::string sim_table(const SimResult& r);
std::string sim_json(const SimResult& r);
std::string sim_csv(const SimResult& r);
std::string sim_html(const SimResult& r);
// Reads what sim_json wrote (schema_version 2); throws brownout::Error naming the file.
SimResult read_sim_json(std::string_view text, std::string_view name);
// Joins shards of one run; throws when they are not shards of the same run or one is missing.
SimResult merge(std::vector<SimResult> shards);

struct MergeCommand {
    std::vector<std::string> inputs;
    std::string json_file;
    std::string csv_file;
    std::string html_file;
};

// Return the exit code: 0 ran and every expectation held, 1 an expectation failed, 2 a usage,
// scenario or input error. A shard judges no expectation (it has only some of the seeds).
int sim_command(const SimCommand& command, std::ostream& out, std::ostream& err);
int merge_command(const MergeCommand& command, std::ostream& out, std::ostream& err);

}  // namespace brownout::harness
