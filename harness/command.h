#pragma once
// `brownout run` as a library function, so that tests reach everything the command does.

#include <atomic>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "harness/report.h"
#include "harness/serve.h"

namespace brownout::harness {

struct RunCommand {
    std::string scenario_file;
    std::vector<std::string> clients;
    std::optional<std::uint64_t> seed;
    std::optional<double> time_scale;
    std::string report_dir = "brownout-report";
    std::string json_file;   // default: <report_dir>/report.json
    std::string junit_file;  // default: <report_dir>/junit.xml
    std::string html_file;   // default: <report_dir>/report.html
    bool progress = false;   // a progress line on stderr (a terminal)
    LimitFlags limits;       // --max-streams and friends, over the scenario's [server] table
    std::atomic<bool>* stop = nullptr;
};

// The reports of one run: report.json, junit.xml, report.html, in `dir` unless given a path of
// their own (its attempts.jsonl is the run log's, written as the run went: harness/run_log.h).
// Throws when one cannot be written.
struct ReportFiles {
    std::string json, junit, html;
};
ReportFiles write_run_reports(const Report& report, const std::string& dir, std::string json = {},
                              std::string junit = {}, std::string html = {});

// Scores a run, prints the table, writes the reports to `report_dir` and names the run log's
// attempts.jsonl in `log_dir`; the exit code of `run` (0, 1 an expectation failed, 2 the
// reports could not be written).
int report_run(const RunResult& result, const std::string& log_dir, const std::string& report_dir,
               const std::string& json, const std::string& junit, const std::string& html,
               std::string_view command, std::ostream& out, std::ostream& err);

// Runs, scores, reports. Returns the exit code: 0 every expectation held, 1 one failed,
// 2 a usage, scenario or report-writing error.
int run_command(const RunCommand& command, std::ostream& out, std::ostream& err);

// `brownout score DIR`: the reports of a run rebuilt from what it wrote as it went (a run killed
// outright is scored up to its last flushed request, and marked partial).
struct ScoreCommand {
    std::string run_dir;
    std::string report_dir;  // default: run_dir
    std::string json_file, junit_file, html_file;
};
int score_command(const ScoreCommand& command, std::ostream& out, std::ostream& err);

}  // namespace brownout::harness
