#include "harness/command.h"

#include <fmt/format.h>

#include <filesystem>
#include <ostream>

#include "core/error.h"
#include "core/text.h"
#include "harness/report.h"
#include "harness/serve.h"
#include "mockprovider/journal.h"

namespace brownout::harness {

int run_command(const RunCommand& c, std::ostream& out, std::ostream& err) {
    Scenario scenario;
    try {
        scenario = load_scenario(c.scenario_file);
        apply_limit_flags(scenario.server, c.limits);
    } catch (const Error& e) {
        err << e.what() << "\n";
        return 2;
    }
    RunOptions options;
    options.time_scale = c.time_scale;
    options.seed = c.seed;
    options.clients = c.clients;
    options.stop = c.stop;
    if (c.progress) {
        options.progress = [&err, &scenario](
                               Duration now,
                               const std::vector<std::pair<std::size_t, std::size_t>>& stacks) {
            std::string line = fmt::format(
                "\r{} / {}", format_duration(std::chrono::round<std::chrono::seconds>(now)),
                format_duration(scenario.duration));
            for (std::size_t i = 0; i < stacks.size() && i < scenario.clients.size(); ++i) {
                double avail = stacks[i].first ? 100.0 * static_cast<double>(stacks[i].second) /
                                                     static_cast<double>(stacks[i].first)
                                               : 100.0;
                line += fmt::format(" · {} {} req {:.1f}%", scenario.clients[i].name,
                                    stacks[i].first, avail);
            }
            err << line << "   " << std::flush;
        };
    }
    RunResult result;
    try {
        result = run_scenario(scenario, options);
    } catch (const Error& e) {
        err << e.what() << "\n";
        return 2;
    }
    if (c.progress) err << "\n";

    Report report{result, phase_windows(result.scenario), {}, {}};
    for (const auto& stack : result.stacks)
        report.scores.push_back(score_stack(result.scenario, stack, report.windows));
    report.expectations = check_expectations(result.scenario, report.scores);
    out << terminal_table(report) << std::flush;

    try {
        std::filesystem::create_directories(c.report_dir);
        std::string json = c.json_file.empty()
                               ? (std::filesystem::path(c.report_dir) / "report.json").string()
                               : c.json_file;
        std::string junit = c.junit_file.empty()
                                ? (std::filesystem::path(c.report_dir) / "junit.xml").string()
                                : c.junit_file;
        std::string html = c.html_file.empty()
                               ? (std::filesystem::path(c.report_dir) / "report.html").string()
                               : c.html_file;
        write_file_atomically(json, report_json(report));
        write_file_atomically(junit, junit_xml(report));
        write_file_atomically(html, html_report(report));
        // Every attempt every stack's fleet journaled, one JSON object a line with its client:
        // what the scores were computed from, for a reader who wants to see it.
        std::string attempts = (std::filesystem::path(c.report_dir) / "attempts.jsonl").string();
        std::string lines;
        for (const auto& stack : result.stacks) {
            for (const auto& a : stack.attempts) {
                std::string line = mock::attempt_to_json(a);
                lines += fmt::format("{{\"client\":{},{}\n", json_string(stack.client.name),
                                     std::string_view(line).substr(1));
            }
        }
        write_file_atomically(attempts, lines);
        out << fmt::format("\nreports: {} · {} · {} · {}\n", json, junit, html, attempts);
    } catch (const std::exception& e) {
        err << "brownout run: cannot write the reports: " << e.what() << "\n";
        return 2;
    }
    if (result.partial)
        out << "the run was interrupted: the reports cover what was measured and say partial\n";
    for (const auto& e : report.expectations) {
        if (!e.passed) return 1;
    }
    return 0;
}

}  // namespace brownout::harness
