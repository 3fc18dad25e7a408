#include "harness/command.h"

#include <fmt/format.h>

#include <filesystem>
#include <ostream>

#include "core/error.h"
#include "core/text.h"
#include "harness/report.h"
#include "harness/run_log.h"
#include "harness/serve.h"
#include "mockprovider/journal.h"

namespace brownout::harness {

ReportFiles write_run_reports(const Report& report, const std::string& dir, std::string json,
                              std::string junit, std::string html) {
    std::filesystem::create_directories(dir);
    auto in_dir = [&](std::string& file, const char* name) {
        if (file.empty()) file = (std::filesystem::path(dir) / name).string();
    };
    in_dir(json, "report.json");
    in_dir(junit, "junit.xml");
    in_dir(html, "report.html");
    ReportFiles files{json, junit, html};
    write_file_atomically(files.json, report_json(report));
    write_file_atomically(files.junit, junit_xml(report));
    write_file_atomically(files.html, html_report(report));
    return files;
}

int run_command(const RunCommand& c, std::ostream& out, std::ostream& err) {
    Scenario scenario;
    RunOptions options;
    try {
        scenario = load_scenario(c.scenario_file);
        apply_limit_flags(scenario.server, c.limits);
        options.scenario_text = read_text_file(c.scenario_file);
    } catch (const Error& e) {
        err << e.what() << "\n";
        return 2;
    }
    options.log_dir = c.report_dir;
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
    } catch (const std::exception& e) {  // the report directory, as the run began writing it
        err << "brownout run: cannot write the reports: " << e.what() << "\n";
        return 2;
    }
    if (c.progress) err << "\n";

    return report_run(result, c.report_dir, c.report_dir, c.json_file, c.junit_file, c.html_file,
                      "run", out, err);
}

int report_run(const RunResult& result, const std::string& log_dir, const std::string& report_dir,
               const std::string& json, const std::string& junit, const std::string& html,
               std::string_view command, std::ostream& out, std::ostream& err) {
    Report report{result, run_windows(result), {}, {}};
    for (const auto& stack : result.stacks)
        report.scores.push_back(score_stack(result.scenario, stack, report.windows));
    report.expectations = check_expectations(result.scenario, report.scores);
    out << terminal_table(report) << std::flush;

    try {
        ReportFiles files = write_run_reports(report, report_dir, json, junit, html);
        out << fmt::format("\nreports: {} · {} · {} · {}\n", files.json, files.junit, files.html,
                           (std::filesystem::path(log_dir) / "attempts.jsonl").string());
    } catch (const std::exception& e) {
        err << "brownout " << command << ": cannot write the reports: " << e.what() << "\n";
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

namespace brownout::harness {

int score_command(const ScoreCommand& c, std::ostream& out, std::ostream& err) {
    RunResult result;
    try {
        result = read_run_log(c.run_dir);
    } catch (const std::exception& e) {
        err << "brownout score: " << e.what() << "\n";
        return 2;
    }
    if (result.partial) {
        std::size_t n = 0;
        for (const auto& s : result.stacks) n += s.users.size();
        out << fmt::format("{}: the run did not finish; scoring the {} requests it wrote down\n",
                           c.run_dir, n);
    }
    return report_run(result, c.run_dir, c.report_dir.empty() ? c.run_dir : c.report_dir,
                      c.json_file, c.junit_file, c.html_file, "score", out, err);
}

}  // namespace brownout::harness
