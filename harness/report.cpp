#include "harness/report.h"

#include <fmt/format.h>

#include <cmath>

#include "core/text.h"
#include "harness/metric.h"

namespace brownout::harness {
namespace {

std::string number(double v) {
    if (std::isnan(v)) return "null";
    if (std::isinf(v)) return v > 0 ? "1e308" : "-1e308";
    return fmt::format("{:.6g}", v);
}

}  // namespace

const std::vector<ReportRow>& report_rows() {
    static const std::vector<ReportRow> rows = {
        {"score (0-100)", "all", metric::score},
        {"availability, steady", "steady", metric::availability},
        {"availability, incident", "incident", metric::availability},
        {"availability, recovery", "recovery", metric::availability},
        {"availability, after", "after", metric::availability},
        {"degraded answers (cache)", "all", metric::degraded_answers},
        {"graceful degradation", "all", metric::graceful_degradation},
        {"wrong answers", "all", metric::wrong_answers},
        {"hung", "all", metric::hung},
        {"latency p50, incident", "incident", metric::latency_p50},
        {"latency p99, incident", "incident", metric::latency_p99},
        {"retry amplification, incident", "incident", metric::retry_amplification},
        {"Retry-After violations", "all", metric::retry_after_violations},
        {"Retry-After compliance", "all", metric::retry_after_compliance},
        {"time to mitigate", "all", metric::time_to_mitigate},
        {"time to recover", "all", metric::time_to_recover},
        {"herd factor", "all", metric::herd_factor},
        {"metastable", "all", metric::metastable},
        {"cost", "all", metric::cost},
    };
    return rows;
}

std::string format_metric(const std::string& metric, double v) {
    return metric::format(metric, v);
}

bool expectation_failed(const Report& r, const std::string& client, const std::string& metric,
                        const std::string& phase) {
    for (const auto& e : r.expectations) {
        if (!e.passed && e.client == client && e.expectation.metric == metric &&
            e.expectation.phase == phase)
            return true;
    }
    return false;
}

std::string markup_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string terminal_table(const Report& r) {
    const auto& s = r.run.scenario;
    std::string out = fmt::format(
        "brownout run: {} — {}\nseed {} · time scale {} · {} requests per stack{}\n\n", s.name,
        s.title, s.seed, s.time_scale,
        r.scores.empty() ? 0.0
                         : r.scores.front().phases.at("all").at(std::string(metric::requests)),
        r.run.partial ? " · PARTIAL (interrupted)" : "");
    for (const auto& w : r.windows)
        out += fmt::format("  {:<9} {} → {}\n", w.name, format_duration(w.from),
                           format_duration(w.to));
    out += "\n";
    // Columns of 14, wider for a long client name (one space between columns at least).
    std::size_t width = 14;
    for (const auto& sc : r.scores) width = std::max(width, sc.client.size() + 2);
    out += fmt::format("{:<32}", "");
    for (const auto& sc : r.scores) out += fmt::format("{:>{}}", sc.client, width);
    out += "\n";
    for (const auto& row : report_rows()) {
        bool any = false;
        for (const auto& sc : r.scores) any = any || sc.phases.count(row.phase);
        if (!any) continue;
        out += fmt::format("{:<32}", row.label);
        for (const auto& sc : r.scores) {
            auto p = sc.phases.find(row.phase);
            double v = p == sc.phases.end() ? std::nan("") : p->second.at(std::string(row.metric));
            bool failed = expectation_failed(r, sc.client, std::string(row.metric), row.phase);
            out += fmt::format(
                "{:>{}}", format_metric(std::string(row.metric), v) + (failed ? " ✗" : ""), width);
        }
        out += "\n";
    }
    for (const auto& sc : r.scores) {
        for (const auto& note : sc.notes) out += fmt::format("  {}: {}\n", sc.client, note);
    }
    if (!r.expectations.empty()) {
        std::size_t failed = 0;
        for (const auto& e : r.expectations) failed += !e.passed;
        out += fmt::format("\nexpectations: {} passed, {} failed\n", r.expectations.size() - failed,
                           failed);
        for (const auto& e : r.expectations) {
            if (!e.passed) out += fmt::format("  ✗ {}\n", e.message);
        }
    }
    return out;
}

std::string report_json(const Report& r) {
    const auto& s = r.run.scenario;
    std::string out = fmt::format(
        "{{\"schema_version\":{},\"tool\":\"brownout\",\"scenario\":{{\"name\":{},\"title\":{},"
        "\"file\":{},"
        "\"duration_s\":{},\"time_scale\":{},\"seed\":{}}},\"partial\":{},\"wall_seconds\":{},",
        kReportSchemaVersion, json_string(s.name), json_string(s.title), json_string(s.file),
        to_seconds(s.duration), s.time_scale, s.seed, r.run.partial ? "true" : "false",
        number(r.run.wall_seconds));
    out += "\"phases\":[";
    for (std::size_t i = 0; i < r.windows.size(); ++i) {
        out += fmt::format("{}{{\"name\":{},\"from_s\":{},\"to_s\":{}}}", i ? "," : "",
                           json_string(r.windows[i].name), to_seconds(r.windows[i].from),
                           to_seconds(r.windows[i].to));
    }
    out += "],\"stacks\":[";
    for (std::size_t i = 0; i < r.scores.size(); ++i) {
        const auto& sc = r.scores[i];
        const auto& client = r.run.stacks[i].client;
        out += fmt::format("{}{{\"client\":{},\"kind\":{},\"policy\":{},\"providers\":[",
                           i ? "," : "", json_string(sc.client), json_string(client.kind),
                           json_string(client.params.policy));
        for (std::size_t k = 0; k < client.providers.size(); ++k)
            out += (k ? "," : "") + json_string(client.providers[k]);
        out += fmt::format("],\"score\":{},\"metrics\":{{", number(sc.score));
        bool first_phase = true;
        for (const auto& [phase, metrics] : sc.phases) {
            out += fmt::format("{}{}:{{", first_phase ? "" : ",", json_string(phase));
            first_phase = false;
            bool first = true;
            for (const auto& [name, value] : metrics) {
                out += fmt::format("{}{}:{}", first ? "" : ",", json_string(name), number(value));
                first = false;
            }
            out += "}";
        }
        out += "},\"components\":[";
        for (std::size_t k = 0; k < sc.components.size(); ++k) {
            const auto& c = sc.components[k];
            out += fmt::format("{}{{\"name\":{},\"weight\":{},\"value\":{}}}", k ? "," : "",
                               json_string(c.name), number(c.weight), number(c.value));
        }
        out += "],\"notes\":[";
        for (std::size_t k = 0; k < sc.notes.size(); ++k)
            out += (k ? "," : "") + json_string(sc.notes[k]);
        out += "]";
        if (sc.lag) {
            auto s = [](Duration d) { return number(std::chrono::duration<double>(d).count()); };
            out +=
                fmt::format(",\"lag\":{{\"requests\":{},\"p50_s\":{},\"p99_s\":{},\"max_s\":{}}}",
                            sc.lag->requests, s(sc.lag->p50), s(sc.lag->p99), s(sc.lag->max));
        }
        out += "}";
    }
    out += "],\"expectations\":[";
    for (std::size_t i = 0; i < r.expectations.size(); ++i) {
        const auto& e = r.expectations[i];
        out += fmt::format(
            "{}{{\"client\":{},\"metric\":{},\"phase\":{},\"min\":{},\"max\":{},\"measured\":{},"
            "\"passed\":{},\"message\":{}}}",
            i ? "," : "", json_string(e.client), json_string(e.expectation.metric),
            json_string(e.expectation.phase),
            e.expectation.min ? number(*e.expectation.min) : "null",
            e.expectation.max ? number(*e.expectation.max) : "null", number(e.measured),
            e.passed ? "true" : "false", json_string(e.message));
    }
    out += "]}\n";
    return out;
}

std::string junit_xml(const Report& r) {
    std::size_t failures = 0;
    for (const auto& e : r.expectations) failures += !e.passed;
    std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out +=
        fmt::format("<testsuites name=\"brownout\" tests=\"{}\" failures=\"{}\" time=\"{:.3f}\">\n",
                    r.expectations.size(), failures, r.run.wall_seconds);
    out += fmt::format(
        "  <testsuite name=\"brownout.{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\" "
        "time=\"{:.3f}\">\n",
        markup_escape(r.run.scenario.name), r.expectations.size(), failures, r.run.wall_seconds);
    out += fmt::format(
        "    <properties><property name=\"seed\" value=\"{}\"/><property name=\"partial\" "
        "value=\"{}\"/></properties>\n",
        r.run.scenario.seed, r.run.partial ? "true" : "false");
    for (const auto& e : r.expectations) {
        std::string name =
            fmt::format("{} {} ({})", e.client, e.expectation.metric, e.expectation.phase);
        out += fmt::format("    <testcase classname=\"brownout.{}.{}\" name=\"{}\">",
                           markup_escape(r.run.scenario.name), markup_escape(e.client),
                           markup_escape(name));
        if (!e.passed) out += fmt::format("<failure message=\"{}\"/>", markup_escape(e.message));
        out += "</testcase>\n";
    }
    out += "  </testsuite>\n</testsuites>\n";
    return out;
}

}  // namespace brownout::harness
