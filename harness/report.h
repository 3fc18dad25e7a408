#pragma once
// Reports of a run: a terminal table comparing the stacks, report.json (versioned), JUnit XML
// (one test case per expectation). Files are written atomically.

#include <string>
#include <string_view>
#include <vector>

#include "harness/score.h"

namespace brownout::harness {

struct Report {
    const RunResult& run;
    std::vector<PhaseWindow> windows;
    std::vector<StackScore> scores;
    std::vector<ExpectationResult> expectations;
};

inline constexpr int kReportSchemaVersion = 1;

// What the terminal table and the HTML page show, row by row, and how a value is written.
struct ReportRow {
    const char* label;
    const char* phase;
    std::string_view metric;  // harness/metric.h
};
const std::vector<ReportRow>& report_rows();
std::string format_metric(const std::string& metric, double value);
bool expectation_failed(const Report& r, const std::string& client, const std::string& metric,
                        const std::string& phase);
std::string markup_escape(const std::string& s);  // for XML and HTML

std::string terminal_table(const Report& r);
std::string report_json(const Report& r);
std::string junit_xml(const Report& r);
// A self-contained HTML page: the comparison table and, per stack, an SVG timeline of requests
// by outcome, attempts per provider, the phases shaded and the status page's state.
std::string html_report(const Report& r);

}  // namespace brownout::harness
