#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <map>
#include <numeric>

#include "core/text.h"
#include "faults/status_page.h"
#include "harness/report.h"

namespace brownout::harness {
namespace {

std::string esc(const std::string& s) {
    return markup_escape(s);
}

constexpr int kBuckets = 120;
// Colours by harness::Served: answer, degraded answer, graceful failure, wrong answer, failure,
// hung.
constexpr std::size_t kServedKinds = 6;
constexpr const char* kServedColors[kServedKinds] = {"#27ae60", "#a3d9a5", "#bdc3c7",
                                                     "#e67e22", "#7f8c8d", "#8e44ad"};
constexpr double kWidth = 960, kLeft = 60, kPlot = kWidth - kLeft - 20;

const char* phase_color(const std::string& name) {
    if (name == "incident") return "#fde2e2";
    if (name == "recovery") return "#fff4d6";
    if (name == "after") return "#e8f4ea";
    return "#f2f2f2";
}

const char* indicator_color(const std::string& indicator) {
    if (indicator == "critical") return "#c0392b";
    if (indicator == "major") return "#e67e22";
    if (indicator == "minor") return "#f1c40f";
    return "#2ecc71";
}

std::string timeline_svg(const Report& r, std::size_t index) {
    const auto& s = r.run.scenario;
    const auto& stack = r.run.stacks[index];
    double total = to_seconds(s.duration);
    double bucket = total / kBuckets;
    auto x = [&](double seconds) { return kLeft + kPlot * seconds / total; };
    // Requests by arrival bucket and what the user got (the scorer's classification, one per
    // Served value, drawn bottom-up in this order).
    std::vector<std::array<int, kServedKinds>> outcomes(kBuckets, std::array<int, kServedKinds>{});
    const auto& served = r.scores[index].served;
    for (std::size_t i = 0; i < stack.users.size() && i < served.size(); ++i) {
        int b = std::clamp(static_cast<int>(to_seconds(stack.users[i].arrival) / bucket), 0,
                           kBuckets - 1);
        ++outcomes[b][static_cast<std::size_t>(served[i])];
    }
    // Attempts per provider (a provider routed to by several models is one line).
    std::vector<std::string> ids;
    for (const auto& entry : stack.client.providers) {
        auto id = parse_route(entry).provider;
        if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    }
    std::map<std::string, std::vector<int>> attempts;
    for (const auto& id : ids) attempts[id].assign(kBuckets, 0);
    for (const auto& a : stack.attempts) {
        auto it = attempts.find(s.providers[a.provider].id);
        if (it == attempts.end()) continue;
        int b = std::clamp(static_cast<int>(to_seconds(a.at) / bucket), 0, kBuckets - 1);
        ++it->second[b];
    }
    int max_requests = 1, max_attempts = 1;
    for (const auto& o : outcomes)
        max_requests = std::max(max_requests, std::accumulate(o.begin(), o.end(), 0));
    for (const auto& [id, v] : attempts)
        for (int n : v) max_attempts = std::max(max_attempts, n);

    const double status_y = 20, bars_y = 44, bars_h = 120, lines_y = 190, lines_h = 80,
                 height = 310;
    std::string svg = fmt::format(
        R"(<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}" font-family="sans-serif" font-size="11">)",
        kWidth, height, kWidth, height);
    for (const auto& w : r.windows) {
        svg += fmt::format(
            R"(<rect x="{:.1f}" y="{}" width="{:.1f}" height="{}" fill="{}"><title>{} {} → {}</title></rect>)",
            x(to_seconds(w.from)), status_y - 6,
            std::max(0.0, x(to_seconds(w.to)) - x(to_seconds(w.from))), height - status_y - 14,
            phase_color(w.name), w.name, format_duration(w.from), format_duration(w.to));
        svg += fmt::format(R"(<text x="{:.1f}" y="{}" fill="#555">{}</text>)",
                           x(to_seconds(w.from)) + 3, height - 4, w.name);
    }
    // The primary's status page, as a client polling it would have seen it.
    {
        const auto& p = s.providers[provider_index(s, ids.front())];
        faults::Engine engine(p.phases, p.seed, p.id, s.duration);
        for (int b = 0; b < kBuckets; ++b) {
            auto snap = faults::status_at(engine, p.status_page, from_seconds(b * bucket));
            svg += fmt::format(
                R"(<rect x="{:.1f}" y="{}" width="{:.2f}" height="10" fill="{}"><title>status page: {}</title></rect>)",
                x(b * bucket), status_y, kPlot / kBuckets, indicator_color(snap.indicator),
                esc(snap.description));
        }
    }
    svg += fmt::format(R"(<text x="4" y="{}" fill="#333">status</text>)", status_y + 9);
    // Requests by outcome: stacked bars.
    for (int b = 0; b < kBuckets; ++b) {
        double y = bars_y + bars_h;
        for (std::size_t k = 0; k < kServedKinds; ++k) {
            double h = bars_h * outcomes[b][k] / max_requests;
            if (h <= 0) continue;
            y -= h;
            svg += fmt::format(
                R"(<rect x="{:.1f}" y="{:.1f}" width="{:.2f}" height="{:.1f}" fill="{}"/>)",
                x(b * bucket), y, kPlot / kBuckets - 0.5, h, kServedColors[k]);
        }
    }
    svg += fmt::format(
        R"(<text x="4" y="{}" fill="#333">requests</text><text x="4" y="{}" fill="#777">max {}</text>)",
        bars_y + 12, bars_y + 26, max_requests);
    // Attempts per provider: one line each.
    const char* line_colors[] = {"#2c3e50", "#2980b9", "#c0392b", "#16a085"};
    int li = 0;
    for (const auto& id : ids) {
        const auto& v = attempts[id];
        std::string points;
        for (int b = 0; b < kBuckets; ++b) {
            points += fmt::format("{:.1f},{:.1f} ", x((b + 0.5) * bucket),
                                  lines_y + lines_h - lines_h * v[b] / max_attempts);
        }
        svg += fmt::format(
            R"(<polyline fill="none" stroke="{}" stroke-width="1.5" points="{}"><title>attempts at {}</title></polyline>)",
            line_colors[li % 4], points, esc(id));
        svg += fmt::format(R"(<text x="{}" y="{}" fill="{}">● {}</text>)", kLeft + 110 * li,
                           lines_y - 4, line_colors[li % 4], esc(id));
        ++li;
    }
    svg += fmt::format(
        R"(<text x="4" y="{}" fill="#333">attempts</text><text x="4" y="{}" fill="#777">max {}</text>)",
        lines_y + 12, lines_y + 26, max_attempts);
    svg += "</svg>";
    return svg;
}

}  // namespace

std::string html_report(const Report& r) {
    const auto& s = r.run.scenario;
    std::string html =
        R"(<!doctype html><html lang="en"><head><meta charset="utf-8"><title>brownout · )" +
        esc(s.name) + R"(</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:12px 0}
td,th{border-bottom:1px solid #ddd;padding:4px 10px;text-align:right}th:first-child,td:first-child{text-align:left}
.fail{color:#c0392b;font-weight:bold}.legend span{display:inline-block;margin-right:14px}.sw{display:inline-block;width:10px;height:10px;margin-right:4px}
h2{margin-top:28px}.partial{background:#fde2e2;padding:6px 10px}</style></head><body>)";
    html += fmt::format(
        "<h1>{}</h1><p>{}</p><p>seed {} · time scale {} · {} scenario time · run in {:.1f} s</p>",
        esc(s.name), esc(s.title), s.seed, s.time_scale, format_duration(s.duration),
        r.run.wall_seconds);
    if (r.run.partial)
        html +=
            "<p class=\"partial\">Partial: the run was interrupted; this covers what was "
            "measured.</p>";
    html += "<table><tr><th></th>";
    for (const auto& sc : r.scores) html += "<th>" + esc(sc.client) + "</th>";
    html += "</tr>";
    for (const auto& row : report_rows()) {
        html += fmt::format("<tr><td>{}</td>", row.label);
        for (const auto& sc : r.scores) {
            auto p = sc.phases.find(row.phase);
            double v = p == sc.phases.end() ? std::nan("") : p->second.at(std::string(row.metric));
            bool failed = expectation_failed(r, sc.client, std::string(row.metric), row.phase);
            html += fmt::format("<td{}>{}{}</td>", failed ? " class=\"fail\"" : "",
                                format_metric(std::string(row.metric), v), failed ? " ✗" : "");
        }
        html += "</tr>";
    }
    html += "</table>";
    if (!r.expectations.empty()) {
        html += "<h2>Expectations</h2><ul>";
        for (const auto& e : r.expectations)
            html += fmt::format("<li{}>{} {}</li>", e.passed ? "" : " class=\"fail\"",
                                e.passed ? "✓" : "✗", esc(e.message));
        html += "</ul>";
    }
    // The legend names what the bars count: the scorer's classification of each request.
    constexpr const char* kServedLabels[kServedKinds] = {
        "verified answer in time",
        "out-of-date answer within max_staleness (cache)",
        "clean fast error, nothing could answer",
        "wrong answer",
        "error or too late",
        "hung"};
    html += R"(<h2>Timelines</h2><p class="legend">)";
    for (std::size_t k = 0; k < kServedKinds; ++k) {
        html += fmt::format(R"(<span><i class="sw" style="background:{}"></i>{}</span>)",
                            kServedColors[k], kServedLabels[k]);
    }
    html +=
        R"( · top band: the primary's status page (green operational → red major outage) · shading: phases</p>)";
    for (std::size_t i = 0; i < r.run.stacks.size(); ++i) {
        const auto& sc = r.scores[i];
        html +=
            fmt::format("<h3>{} — score {:.0f}</h3><p>{} · providers: {}</p>", esc(sc.client),
                        sc.score, esc(r.run.stacks[i].client.params.policy),
                        esc(fmt::format("{}", fmt::join(r.run.stacks[i].client.providers, " → "))));
        html += timeline_svg(r, i);
        for (const auto& note : sc.notes) html += "<p><small>" + esc(note) + "</small></p>";
    }
    html += "</body></html>\n";
    return html;
}

}  // namespace brownout::harness
