#include "harness/sim.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <ostream>
#include <sstream>
#include <thread>

#include "core/error.h"
#include "core/text.h"
#include "harness/json_exact.h"
#include "harness/metric.h"
#include "harness/report.h"
#include "harness/run.h"
#include "harness/score.h"
#include "harness/serve.h"

namespace brownout::harness {

namespace {

namespace json = boost::json;

constexpr int kSchemaVersion = 2;

// Two-sided 95% critical values of Student's t for 1..30 degrees of freedom; 1.96 beyond.
double t95(std::size_t df) {
    static constexpr double kT[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                                    2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
                                    2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
                                    2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
    if (df == 0) return std::nan("");
    return df <= 30 ? kT[df - 1] : 1.96;
}

// The metrics the table, the CSV and the JSON summarise, with the phase each is read in.
struct SummaryColumn {
    std::string_view label;
    std::string_view phase;
    std::string_view metric;
    std::string key() const { return fmt::format("{}.{}", phase, metric); }
};
constexpr SummaryColumn kColumns[] = {
    {"score", "all", metric::score},
    {"availability, incident", "incident", metric::availability},
    {"retry amplification", "all", metric::retry_amplification},
    {"wait p50, incident", "incident", metric::wait_p50},
    {"time to recover", "all", metric::time_to_recover},
    {"availability, recovery", "recovery", metric::availability},
};
const std::string kScore = "all.score";

std::string key_of(const Expectation& e) {
    return fmt::format("{}.{}", e.phase, e.metric);
}

// The columns, the mapped metric, then whatever the expectations name beyond them.
std::vector<std::string> recorded_keys(const std::vector<Expectation>& expect,
                                       const std::string& metric) {
    std::vector<std::string> keys;
    for (const auto& c : kColumns) keys.push_back(c.key());
    if (std::find(keys.begin(), keys.end(), metric) == keys.end()) keys.push_back(metric);
    for (const auto& e : expect) {
        if (std::find(keys.begin(), keys.end(), key_of(e)) == keys.end()) keys.push_back(key_of(e));
    }
    return keys;
}

double value_of(const StackScore& s, const std::string& key) {
    auto dot = key.find('.');
    std::string phase = key.substr(0, dot), name = key.substr(dot + 1);
    if (name == metric::score) return s.score;
    auto p = s.phases.find(phase);
    if (p == s.phases.end()) return std::nan("");
    auto m = p->second.find(name);
    return m == p->second.end() ? std::nan("") : m->second;
}

// Shortest text that reads back as the same double (std::from_chars; see json_exact.h).
std::string number(double v) {
    return std::isnan(v) || std::isinf(v) ? std::string("null") : fmt::format("{}", v);
}

std::string settings_label(const std::vector<Override>& settings) {
    std::string out;
    for (const auto& s : settings)
        out += fmt::format("{}{}={}", out.empty() ? "" : " ", s.path, s.value);
    return out;
}

double statistic(const Summary& s, const std::string& which) {
    if (s.n < 2 || which == "mean") return s.mean;
    return which == "ci95_low" ? s.mean - s.ci95 : s.mean + s.ci95;
}

std::string bound_text(const Expectation& e) {
    return e.min && e.max ? fmt::format("in [{}, {}]", *e.min, *e.max)
           : e.min        ? fmt::format(">= {}", *e.min)
                          : fmt::format("<= {}", *e.max);
}

bool whole(const SimResult& r) {
    return r.shard.count == 1;
}

// ---- the terminal table ----

// Whether more of the metric is better (the heatmap's green end).
bool higher_is_better(const std::string& key) {
    auto name = key.substr(key.find('.') + 1);
    return name == metric::score || name == metric::availability ||
           name == metric::graceful_degradation || name == metric::retry_after_compliance;
}

// A mapped metric's cell: the score with its interval; a yes/no metric as the share of seeds
// where it held ("metastable on 40% of seeds"); anything else as its mean.
std::string metric_cell(const std::string& key, const Summary& s);

std::string score_cell(const Summary& s) {
    std::string cell = fmt::format("{:.1f}", s.mean);
    if (s.n >= 2) cell += fmt::format(" ± {:.1f}", s.ci95);
    return cell;
}

std::string metric_cell(const std::string& key, const Summary& s) {
    auto name = key.substr(key.find('.') + 1);
    if (name == metric::score) return score_cell(s);
    if (std::isnan(s.mean)) return "–";
    if (name == metric::metastable) return fmt::format("{:.0f}% of seeds", 100 * s.mean);
    return metric::format(name, s.mean);
}

std::string point_table(const SimResult& r, const SimPoint& p) {
    std::string out = fmt::format("{:<28}", "");
    for (const auto& name : r.stacks) out += fmt::format("{:>24}", name);
    out += "\n";
    for (const auto& col : kColumns) {
        out += fmt::format("{:<28}", col.label);
        for (const auto& name : r.stacks) {
            auto s = summarize(p.stacks.at(name).of(col.key()));
            std::string cell =
                col.metric == metric::score ? score_cell(s) : metric::format(col.metric, s.mean);
            out += fmt::format("{:>24}", cell);
        }
        out += "\n";
    }
    // Paired: the same seeds, so the difference per seed is what the stacks alone did.
    std::size_t seeds = p.stacks.at(r.stacks.front()).seeds.size();
    if (seeds >= 2 && r.stacks.size() >= 2) {
        out += "\npaired on the same seeds (score):\n";
        for (std::size_t a = 0; a < r.stacks.size(); ++a) {
            for (std::size_t b = a + 1; b < r.stacks.size(); ++b) {
                auto sa = p.stacks.at(r.stacks[a]).of(kScore);
                auto sb = p.stacks.at(r.stacks[b]).of(kScore);
                std::vector<double> diff;
                std::size_t wins = 0;
                for (std::size_t i = 0; i < std::min(sa.size(), sb.size()); ++i) {
                    diff.push_back(sa[i] - sb[i]);
                    wins += sa[i] > sb[i];
                }
                auto d = summarize(diff);
                bool a_ahead = d.mean >= 0;
                out += fmt::format(
                    "  {} beats {} on {} of {} seeds by {:.1f} ± {:.1f}\n",
                    a_ahead ? r.stacks[a] : r.stacks[b], a_ahead ? r.stacks[b] : r.stacks[a],
                    a_ahead ? wins : diff.size() - wins, diff.size(), std::abs(d.mean), d.ci95);
            }
        }
    }
    return out;
}

// One row a sweep point; with several axes each is named once by a letter.
std::string sweep_table(const SimResult& r) {
    std::string out = r.metric == kScore ? std::string("score, mean ± 95% interval over the seeds")
                                         : fmt::format("{}, mean over the seeds", r.metric);
    bool letters = r.sweep.size() > 1;
    auto axis_name = [&](std::size_t a) {
        return letters ? std::string(1, static_cast<char>('A' + a % 26)) : r.sweep[a].key;
    };
    if (letters) {
        for (std::size_t a = 0; a < r.sweep.size(); ++a)
            out += fmt::format("\n  {} = {}", axis_name(a), r.sweep[a].key);
    }
    std::vector<std::string> labels;
    std::size_t width = 12;
    for (const auto& p : r.points) {
        std::string label;
        for (std::size_t a = 0; a < p.settings.size(); ++a)
            label += fmt::format("{}{}={}", a ? " " : "", axis_name(a), p.settings[a].value);
        width = std::max(width, label.size() + 2);
        labels.push_back(std::move(label));
    }
    out += fmt::format("\n\n{:<{}}", "", width);
    for (const auto& name : r.stacks) out += fmt::format("{:>20}", name);
    out += "\n";
    for (std::size_t p = 0; p < r.points.size(); ++p) {
        out += fmt::format("{:<{}}", labels[p], width);
        for (const auto& name : r.stacks)
            out += fmt::format(
                "{:>20}",
                metric_cell(r.metric, summarize(r.points[p].stacks.at(name).of(r.metric))));
        out += "\n";
    }
    return out;
}

// ---- the HTML heatmap ----

// Red (the map's lowest mean) through amber to green (its highest): the differences a sweep is
// run to find are often a few points, which a fixed 0–100 scale would paint one colour.
std::string colour(double score, double low, double high, bool higher_better) {
    if (std::isnan(score)) return "#ddd";
    double t = high > low ? std::clamp((score - low) / (high - low), 0.0, 1.0) : 0.5;
    if (!higher_better && high > low) t = 1.0 - t;
    int red = static_cast<int>(t < 0.5 ? 215 : 215 - (t - 0.5) * 2 * 160);
    int green = static_cast<int>(t < 0.5 ? 60 + t * 2 * 130 : 190);
    return fmt::format("#{:02x}{:02x}50", red, green);
}

// A grid of cells: rows × columns, each a mean score; the labels are the axis values.
std::string heatmap(const std::string& key, const std::string& title, const std::string& row_axis,
                    const std::vector<std::string>& rows, const std::string& column_axis,
                    const std::vector<std::string>& columns,
                    const std::vector<std::vector<Summary>>& cells) {
    bool up = higher_is_better(key);
    constexpr int kCellW = 120, kCellH = 34, kTop = 76;
    double low = std::numeric_limits<double>::infinity(), high = -low;
    for (const auto& row : cells) {
        for (const auto& s : row) {
            if (std::isnan(s.mean)) continue;
            low = std::min(low, s.mean);
            high = std::max(high, s.mean);
        }
    }
    int left = 24;
    for (const auto& r : rows) left = std::max(left, static_cast<int>(r.size()) * 7 + 16);
    int width = std::max(left + kCellW * static_cast<int>(columns.size()) + 16, 640);
    int height = kTop + kCellH * static_cast<int>(rows.size()) + 16;
    std::string axes = row_axis.empty()
                           ? fmt::format("across: {}", column_axis)
                           : fmt::format("down: {} · across: {}", row_axis, column_axis);
    // A map where every cell is the same is coloured on the metric's own range (a map of
    // "never metastable" is green, not the bottom of a scale of one value).
    if (!std::isinf(low) && high <= low) {
        auto name = key.substr(key.find('.') + 1);
        if (name == metric::score) {
            low = 0, high = 100;
        } else if (name == metric::metastable || name == metric::availability ||
                   name == metric::graceful_degradation || name == metric::retry_after_compliance) {
            low = 0, high = 1;
        }
    }
    std::string scale = std::isinf(low)
                            ? fmt::format("{}: not measured", key)
                            : fmt::format("{}: colour from {} ({}) to {} ({})", key,
                                          metric_cell(key, {2, low, 0, 0}), up ? "red" : "green",
                                          metric_cell(key, {2, high, 0, 0}), up ? "green" : "red");
    std::string svg = fmt::format(
        "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
        "font-family=\"sans-serif\" font-size=\"12\">\n"
        "<text x=\"4\" y=\"16\" font-weight=\"bold\">{}</text>\n"
        "<text x=\"4\" y=\"34\" fill=\"#555\">{}</text>\n"
        "<text x=\"4\" y=\"50\" fill=\"#555\">{}</text>\n",
        width, height, markup_escape(title), markup_escape(axes), markup_escape(scale));
    for (std::size_t c = 0; c < columns.size(); ++c)
        svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                           left + kCellW * static_cast<int>(c) + kCellW / 2, kTop - 6,
                           markup_escape(columns[c]));
    for (std::size_t r = 0; r < rows.size(); ++r) {
        int y = kTop + kCellH * static_cast<int>(r);
        svg += fmt::format("<text x=\"4\" y=\"{}\">{}</text>\n", y + kCellH / 2 + 4,
                           markup_escape(rows[r]));
        for (std::size_t c = 0; c < columns.size(); ++c) {
            const Summary& s = cells[r][c];
            int x = left + kCellW * static_cast<int>(c);
            svg += fmt::format(
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"#fff\">"
                "<title>{}: {} · {}: {} over {} seed{}</title></rect>\n"
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                x, y, kCellW, kCellH, colour(s.mean, low, high, up), markup_escape(title),
                markup_escape(rows[r]), markup_escape(columns[c]), metric_cell(key, s), s.n,
                s.n == 1 ? "" : "s", x + kCellW / 2, y + kCellH / 2 + 4, metric_cell(key, s));
        }
    }
    return svg + "</svg></figure>\n";
}

std::size_t value_index(const SweepAxis& axis, const std::string& value) {
    return static_cast<std::size_t>(std::find(axis.values.begin(), axis.values.end(), value) -
                                    axis.values.begin());
}

// ---- reading the JSON back ----

const json::value& field(const json::object& o, std::string_view key, std::string_view name) {
    const json::value* v = o.if_contains(key);
    if (!v) throw Error(fmt::format("{}: no \"{}\" (not a brownout sim report?)", name, key));
    return *v;
}

std::string text_of(const json::value& v) {
    return std::string(v.as_string());
}

double number_of(const json::value& v) {
    return v.is_null() ? std::nan("") : v.to_number<double>();
}

bool same(const Expectation& a, const Expectation& b) {
    return a.client == b.client && a.metric == b.metric && a.phase == b.phase &&
           a.statistic == b.statistic && a.min == b.min && a.max == b.max;
}

void write_output(const std::string& file, const std::string& text, std::string_view command) {
    if (file.empty()) return;
    try {
        write_file_atomically(file, text);
    } catch (const std::exception& e) {
        throw Error(fmt::format("brownout {}: cannot write {}: {}", command, file, e.what()));
    }
}

int finish(const SimResult& r, const std::string& json_file, const std::string& csv_file,
           const std::string& html_file, std::string_view command, std::ostream& out,
           std::ostream& err) {
    out << sim_table(r) << std::flush;
    try {
        write_output(json_file, sim_json(r), command);
        write_output(csv_file, sim_csv(r), command);
        write_output(html_file, sim_html(r), command);
    } catch (const Error& e) {
        err << e.what() << "\n";
        return 2;
    }
    if (!whole(r)) return 0;
    auto verdicts = judge(r);
    return std::any_of(verdicts.begin(), verdicts.end(), [](const auto& v) { return !v.passed; })
               ? 1
               : 0;
}

}  // namespace

Summary summarize(const std::vector<double>& v) {
    Summary s;
    s.n = v.size();
    if (v.empty()) return {0, std::nan(""), std::nan(""), std::nan("")};
    for (double x : v) s.mean += x;
    s.mean /= static_cast<double>(s.n);
    if (s.n < 2) {
        s.sd = s.ci95 = std::nan("");
        return s;
    }
    double ss = 0;
    for (double x : v) ss += (x - s.mean) * (x - s.mean);
    s.sd = std::sqrt(ss / static_cast<double>(s.n - 1));
    s.ci95 = t95(s.n - 1) * s.sd / std::sqrt(static_cast<double>(s.n));
    return s;
}

std::vector<double> StackRuns::of(const std::string& key) const {
    std::vector<double> out;
    for (const auto& run : values) {
        auto v = run.find(key);
        if (v != run.end() && !std::isnan(v->second)) out.push_back(v->second);
    }
    return out;
}

Shard parse_shard(std::string_view text) {
    auto slash = text.find('/');
    auto bad = [&](std::string_view why) {
        return Error(
            fmt::format("--shard {}: {} (expected I/N with 0 ≤ I < N, or auto/N with I "
                        "from JOB_COMPLETION_INDEX)",
                        text, why));
    };
    if (slash == std::string_view::npos) throw bad("no /");
    std::string index(text.substr(0, slash));
    if (index == "auto") {
        const char* env = std::getenv("JOB_COMPLETION_INDEX");
        if (!env || !*env) throw bad("JOB_COMPLETION_INDEX is not set");
        index = env;
    }
    auto whole_number = [](const std::string& s) -> std::optional<int> {
        if (s.empty() || s.size() > 6 || !std::all_of(s.begin(), s.end(), ::isdigit))
            return std::nullopt;
        return std::stoi(s);
    };
    auto i = whole_number(index);
    auto n = whole_number(std::string(text.substr(slash + 1)));
    if (!i || !n || *n < 1 || *i >= *n) throw bad("not a shard of the run");
    return {*i, *n};
}

SimResult simulate(const SimCommand& c) {
    Scenario base = load_scenario(c.scenario_file);
    SimResult r;
    r.scenario = base.name;
    r.sweep = c.sweep;
    r.shard = c.shard;
    r.expect = base.expect;
    r.metric = c.metric;
    {
        auto dot = c.metric.find('.');
        std::vector<std::string> phases = {"steady", "incident", "recovery", "after", "all"};
        const auto& names = metric::names();
        bool known =
            dot != std::string::npos &&
            std::find(phases.begin(), phases.end(), c.metric.substr(0, dot)) != phases.end() &&
            (c.metric.substr(dot + 1) == metric::score ||
             std::find(names.begin(), names.end(), c.metric.substr(dot + 1)) != names.end());
        if (!known)
            throw Error(
                fmt::format("--metric {}: expected PHASE.METRIC, PHASE one of steady, "
                            "incident, recovery, after, all (for example all.metastable, "
                            "incident.retry_amplification)",
                            c.metric));
    }
    for (const auto& name : c.clients) {
        bool known = std::any_of(base.clients.begin(), base.clients.end(),
                                 [&](const ClientSpec& s) { return s.name == name; });
        if (!known) throw Error(fmt::format("--client {}: the scenario has no such client", name));
    }
    for (const auto& client : base.clients) {
        bool wanted = c.clients.empty() ||
                      std::find(c.clients.begin(), c.clients.end(), client.name) != c.clients.end();
        if (!wanted) continue;
        if (client.external()) {
            // Their own timers run in wall time: they cannot live in virtual time.
            r.skipped.push_back(
                fmt::format("{} ({} stack: the simulator runs built-in stacks only)", client.name,
                            client.kind));
            continue;
        }
        r.stacks.push_back(client.name);
    }
    if (r.stacks.empty()) throw Error("sim: the scenario has no built-in stack to simulate");
    std::uint64_t first = c.seed.value_or(base.seed);
    for (int i = 0; i < std::max(1, c.seeds); ++i)
        r.seeds.push_back(first + static_cast<std::uint64_t>(i));
    auto keys = recorded_keys(r.expect, r.metric);
    // This shard's units (a sweep point at one seed), numbered across the whole run. Every point
    // is read, on every shard, so that a bad sweep value fails them all alike.
    struct Unit {
        std::size_t point = 0;
        std::uint64_t seed = 0;
        std::map<std::string, std::vector<std::map<std::string, double>>> values;  // by stack
        std::exception_ptr error;
    };
    std::vector<Scenario> scenarios;
    std::vector<Unit> units;
    std::size_t unit = 0;
    for (auto& settings : sweep_points(c.sweep)) {
        SimPoint point;
        point.settings = settings;
        for (const auto& name : r.stacks) point.stacks[name];
        scenarios.push_back(settings.empty() ? base : load_scenario(c.scenario_file, settings));
        for (std::uint64_t seed : r.seeds) {
            if (static_cast<int>(unit++ % static_cast<std::size_t>(c.shard.count)) != c.shard.index)
                continue;
            units.push_back({r.points.size(), seed, {}, nullptr});
        }
        r.points.push_back(std::move(point));
    }
    // Each unit is a run of its own (its own schedulers, providers and workload) and keeps its
    // values in its own place, so several run at once and the result is the same whatever order
    // they end in: they are gathered in unit order below.
    std::size_t jobs = c.jobs > 0 ? static_cast<std::size_t>(c.jobs)
                                  : std::max(1U, std::thread::hardware_concurrency());
    jobs = std::min(jobs, units.size());
    const bool in_turn = jobs > 1;
    auto run_unit = [&](Unit& u) {
        try {
            RunOptions options;
            options.seed = u.seed;
            options.clients = r.stacks;
            options.virtual_time = true;
            // Units side by side take the cores: a unit's stacks then run in turn on its worker.
            options.stacks_in_turn = in_turn;
            auto run = run_scenario(scenarios[u.point], options);
            auto windows = phase_windows(run.scenario);
            for (const auto& stack : run.stacks) {
                auto score = score_stack(run.scenario, stack, windows);
                auto& values = u.values[stack.client.name].emplace_back();
                for (const auto& key : keys) values[key] = value_of(score, key);
            }
        } catch (...) {
            u.error = std::current_exception();
        }
    };
    std::atomic<std::size_t> next{0};
    // Units are taken in order, so once one fails, every unit not yet started comes after it:
    // they are skipped, and the first failure in unit order is still the one reported.
    std::atomic<bool> failed{false};
    auto work = [&] {
        // Stacks in turn share the worker's table of expected answers: one workload's worth.
        if (in_turn) keep_expected_digests(std::size_t{1} << 16);
        for (std::size_t i = next++; i < units.size() && !failed; i = next++) {
            run_unit(units[i]);
            if (units[i].error) failed = true;
        }
    };
    {
        std::vector<std::jthread> workers;  // joined when the block ends, even on a throw
        for (std::size_t i = 1; i < jobs; ++i) workers.emplace_back(work);
        work();
    }
    for (auto& u : units) {
        if (u.error) std::rethrow_exception(u.error);
        for (auto& [name, values] : u.values) {
            auto& runs = r.points[u.point].stacks[name];
            for (auto& v : values) {
                runs.seeds.push_back(u.seed);
                runs.values.push_back(std::move(v));
            }
        }
    }
    return r;
}

std::vector<SimExpectation> judge(const SimResult& r) {
    std::vector<SimExpectation> out;
    for (std::size_t p = 0; p < r.points.size(); ++p) {
        for (const auto& e : r.expect) {
            for (const auto& name : r.stacks) {
                if (e.client != "*" && e.client != name) continue;
                SimExpectation v{p, name,  e, summarize(r.points[p].stacks.at(name).of(key_of(e))),
                                 0, false, ""};
                v.measured = statistic(v.summary, e.statistic);
                std::string where =
                    r.points[p].settings.empty()
                        ? ""
                        : fmt::format("[{}] ", settings_label(r.points[p].settings));
                if (v.summary.n == 0) {
                    v.message = fmt::format("{}{} {} ({}): not measurable on any seed, expected {}",
                                            where, name, e.metric, e.phase, bound_text(e));
                } else {
                    v.passed = (!e.min || v.measured >= *e.min) && (!e.max || v.measured <= *e.max);
                    std::string over =
                        v.summary.n == 1 ? "one seed, no interval"
                                         : fmt::format("mean {:.4g} ± {:.2g} over {} seeds",
                                                       v.summary.mean, v.summary.ci95, v.summary.n);
                    v.message = fmt::format("{}{} {} ({}) {} = {:.4g} ({}), expected {}", where,
                                            name, e.metric, e.phase, e.statistic, v.measured, over,
                                            bound_text(e));
                }
                out.push_back(std::move(v));
            }
        }
    }
    return out;
}

std::string sim_table(const SimResult& r) {
    std::size_t run_seeds = 0;
    for (const auto& p : r.points) run_seeds += p.stacks.at(r.stacks.front()).seeds.size();
    std::string out =
        fmt::format("{} seed{} ({}…{}){}, virtual time\n", r.seeds.size(),
                    r.seeds.size() == 1 ? "" : "s", r.seeds.front(), r.seeds.back(),
                    r.points.size() > 1 ? fmt::format(" × {} sweep points", r.points.size()) : "");
    if (!whole(r))
        out +=
            fmt::format("shard {}/{}: {} of the {} runs; `brownout merge` joins the shards\n",
                        r.shard.index, r.shard.count, run_seeds, r.seeds.size() * r.points.size());
    out += "\n";
    out += r.sweep.empty() ? point_table(r, r.points.front()) : sweep_table(r);
    for (const auto& s : r.skipped) out += fmt::format("\nskipped: {}", s);
    if (!r.skipped.empty()) out += "\n";
    if (!r.expect.empty()) {
        if (!whole(r)) {
            out += "\nexpectations: judged when the shards are merged\n";
        } else {
            auto verdicts = judge(r);
            std::size_t failed = 0;
            for (const auto& v : verdicts) failed += !v.passed;
            out += fmt::format("\nexpectations: {} passed, {} failed\n", verdicts.size() - failed,
                               failed);
            // Many sweep points: the failures only (the JSON has every verdict).
            bool all = verdicts.size() <= 20;
            for (const auto& v : verdicts) {
                if (all || !v.passed)
                    out += fmt::format("  {} {}\n", v.passed ? "ok  " : "FAIL", v.message);
            }
        }
    }
    return out;
}

std::string sim_json(const SimResult& r) {
    std::string out = fmt::format("{{\"schema_version\":{},\"mode\":\"sim\",\"scenario\":{}",
                                  kSchemaVersion, json_string(r.scenario));
    out += ",\"seeds\":[";
    for (std::size_t i = 0; i < r.seeds.size(); ++i)
        out += fmt::format("{}{}", i ? "," : "", r.seeds[i]);
    out += fmt::format("],\"shard\":{{\"index\":{},\"count\":{}}},\"metric\":{},\"sweep\":[",
                       r.shard.index, r.shard.count, json_string(r.metric));
    for (std::size_t a = 0; a < r.sweep.size(); ++a) {
        out +=
            fmt::format("{}{{\"key\":{},\"values\":[", a ? "," : "", json_string(r.sweep[a].key));
        for (std::size_t v = 0; v < r.sweep[a].values.size(); ++v)
            out += (v ? "," : "") + json_string(r.sweep[a].values[v]);
        out += "]}";
    }
    out += "],\"expect\":[";
    for (std::size_t i = 0; i < r.expect.size(); ++i) {
        const auto& e = r.expect[i];
        out += fmt::format(
            "{}{{\"client\":{},\"metric\":{},\"phase\":{},\"statistic\":{},\"min\":{},\"max\":{}}}",
            i ? "," : "", json_string(e.client), json_string(e.metric), json_string(e.phase),
            json_string(e.statistic), e.min ? number(*e.min) : "null",
            e.max ? number(*e.max) : "null");
    }
    auto stacks_json = [&](const SimPoint& p) {
        std::string s = "[";
        for (std::size_t k = 0; k < r.stacks.size(); ++k) {
            const auto& runs = p.stacks.at(r.stacks[k]);
            s += fmt::format("{}{{\"client\":{},\"seeds\":[", k ? "," : "",
                             json_string(r.stacks[k]));
            for (std::size_t i = 0; i < runs.seeds.size(); ++i)
                s += fmt::format("{}{}", i ? "," : "", runs.seeds[i]);
            s += "],\"scores\":[";
            auto scores = runs.of(kScore);
            for (std::size_t i = 0; i < scores.size(); ++i) s += (i ? "," : "") + number(scores[i]);
            s += "],\"runs\":[";
            for (std::size_t i = 0; i < runs.values.size(); ++i) {
                s += i ? ",{" : "{";
                bool first = true;
                for (const auto& [key, v] : runs.values[i]) {
                    s += fmt::format("{}{}:{}", first ? "" : ",", json_string(key), number(v));
                    first = false;
                }
                s += "}";
            }
            s += "],\"summary\":{";
            bool first = true;
            std::vector<std::string> keys;
            if (!runs.values.empty())
                for (const auto& [key, v] : runs.values.front()) keys.push_back(key);
            for (const auto& key : keys) {
                auto sum = summarize(runs.of(key));
                s += fmt::format("{}{}:{{\"n\":{},\"mean\":{},\"sd\":{},\"ci95\":{}}}",
                                 first ? "" : ",", json_string(key), sum.n, number(sum.mean),
                                 number(sum.sd), number(sum.ci95));
                first = false;
            }
            s += "}}";
        }
        return s + "]";
    };
    out += "],\"points\":[";
    for (std::size_t p = 0; p < r.points.size(); ++p) {
        out += p ? ",{\"settings\":{" : "{\"settings\":{";
        for (std::size_t i = 0; i < r.points[p].settings.size(); ++i)
            out += fmt::format("{}{}:{}", i ? "," : "", json_string(r.points[p].settings[i].path),
                               json_string(r.points[p].settings[i].value));
        out += "},\"stacks\":" + stacks_json(r.points[p]) + "}";
    }
    out += "]";
    // Without a sweep the one point's stacks are also where schema 1 had them.
    if (r.sweep.empty()) out += ",\"stacks\":" + stacks_json(r.points.front());
    out += ",\"expectations\":[";
    if (whole(r)) {
        auto verdicts = judge(r);
        for (std::size_t i = 0; i < verdicts.size(); ++i) {
            const auto& v = verdicts[i];
            out += fmt::format(
                "{}{{\"point\":{},\"client\":{},\"metric\":{},\"phase\":{},\"statistic\":{},"
                "\"measured\":{},\"n\":{},\"passed\":{},\"message\":{}}}",
                i ? "," : "", v.point, json_string(v.client), json_string(v.expectation.metric),
                json_string(v.expectation.phase), json_string(v.expectation.statistic),
                number(v.measured), v.summary.n, v.passed ? "true" : "false",
                json_string(v.message));
        }
    }
    out += "],\"skipped\":[";
    for (std::size_t i = 0; i < r.skipped.size(); ++i)
        out += (i ? "," : "") + json_string(r.skipped[i]);
    return out + "]}\n";
}

std::string sim_csv(const SimResult& r) {
    auto cell = [](const std::string& s) {
        if (s.find_first_of(",\"\n") == std::string::npos) return s;
        std::string q = "\"";
        for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
        return q + "\"";
    };
    std::string out = "point";
    for (const auto& a : r.sweep) out += "," + cell(a.key);
    out += ",client,phase,metric,n,mean,sd,ci95,ci95_low,ci95_high\n";
    auto num = [](double v) { return std::isnan(v) ? std::string() : fmt::format("{}", v); };
    for (std::size_t p = 0; p < r.points.size(); ++p) {
        for (const auto& name : r.stacks) {
            const auto& runs = r.points[p].stacks.at(name);
            std::vector<std::string> keys;
            if (!runs.values.empty())
                for (const auto& [key, v] : runs.values.front()) keys.push_back(key);
            for (const auto& key : keys) {
                auto s = summarize(runs.of(key));
                auto dot = key.find('.');
                out += std::to_string(p);
                for (const auto& setting : r.points[p].settings) out += "," + cell(setting.value);
                out += fmt::format(",{},{},{},{},{},{},{},{},{}\n", cell(name), key.substr(0, dot),
                                   key.substr(dot + 1), s.n, num(s.mean), num(s.sd), num(s.ci95),
                                   num(s.mean - s.ci95), num(s.mean + s.ci95));
            }
        }
    }
    return out;
}

std::string sim_html(const SimResult& r) {
    std::string body;
    std::vector<std::string> point_labels;
    for (const auto& p : r.points)
        point_labels.push_back(p.settings.empty() ? "(as written)" : settings_label(p.settings));
    std::vector<std::vector<Summary>> cells;
    for (const auto& p : r.points) {
        auto& row = cells.emplace_back();
        for (const auto& name : r.stacks) row.push_back(summarize(p.stacks.at(name).of(r.metric)));
    }
    body += heatmap(r.metric, fmt::format("{} by sweep point and stack", r.metric), "",
                    point_labels, "stacks", r.stacks, cells);
    // Two axes: one map per stack, the first axis down, the second across.
    if (r.sweep.size() == 2) {
        const auto& down = r.sweep[0];
        const auto& across = r.sweep[1];
        for (const auto& name : r.stacks) {
            std::vector<std::vector<Summary>> grid(
                down.values.size(),
                std::vector<Summary>(across.values.size(), Summary{0, std::nan(""), 0, 0}));
            for (const auto& p : r.points) {
                grid[value_index(down, p.settings[0].value)][value_index(
                    across, p.settings[1].value)] = summarize(p.stacks.at(name).of(r.metric));
            }
            body += heatmap(r.metric, name, down.key, down.values, across.key, across.values, grid);
        }
    }
    return fmt::format(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>brownout sim: {0}</title>\n"
        "<style>body{{font-family:sans-serif;margin:2em}}figure{{margin:1.5em 0}}"
        "p{{color:#444}}</style></head><body>\n<h1>brownout sim: {0}</h1>\n"
        "<p>{1} seed{2} ({3}…{4}) per point, virtual time. Each cell is the mean over the seeds "
        "(the score with the half-width of its 95% confidence interval; a yes/no metric as the "
        "share of seeds where it held); hover for the settings.</p>\n{5}</body></html>\n",
        markup_escape(r.scenario), r.seeds.size(), r.seeds.size() == 1 ? "" : "s", r.seeds.front(),
        r.seeds.back(), body);
}

SimResult read_sim_json(std::string_view text, std::string_view name) {
    json::value doc = parse_json_exact(text, name);
    if (!doc.is_object()) throw Error(fmt::format("{}: not a brownout sim report", name));
    const auto& o = doc.as_object();
    try {
        if (text_of(field(o, "mode", name)) != "sim")
            throw Error(fmt::format("{}: a run report, not a sim report", name));
        auto version = field(o, "schema_version", name).to_number<int>();
        if (version != kSchemaVersion)
            throw Error(fmt::format("{}: schema_version {}; this brownout merges {}", name, version,
                                    kSchemaVersion));
        SimResult r;
        r.scenario = text_of(field(o, "scenario", name));
        for (const auto& s : field(o, "seeds", name).as_array())
            r.seeds.push_back(s.to_number<std::uint64_t>());
        const auto& shard = field(o, "shard", name).as_object();
        r.shard = {field(shard, "index", name).to_number<int>(),
                   field(shard, "count", name).to_number<int>()};
        r.metric = text_of(field(o, "metric", name));
        for (const auto& a : field(o, "sweep", name).as_array()) {
            SweepAxis axis{text_of(field(a.as_object(), "key", name)), {}};
            for (const auto& v : field(a.as_object(), "values", name).as_array())
                axis.values.push_back(text_of(v));
            r.sweep.push_back(std::move(axis));
        }
        for (const auto& x : field(o, "expect", name).as_array()) {
            const auto& eo = x.as_object();
            Expectation e;
            e.client = text_of(field(eo, "client", name));
            e.metric = text_of(field(eo, "metric", name));
            e.phase = text_of(field(eo, "phase", name));
            e.statistic = text_of(field(eo, "statistic", name));
            if (!field(eo, "min", name).is_null()) e.min = number_of(field(eo, "min", name));
            if (!field(eo, "max", name).is_null()) e.max = number_of(field(eo, "max", name));
            r.expect.push_back(std::move(e));
        }
        for (const auto& s : field(o, "skipped", name).as_array()) r.skipped.push_back(text_of(s));
        for (const auto& pv : field(o, "points", name).as_array()) {
            const auto& po = pv.as_object();
            SimPoint p;
            for (const auto& [k, v] : field(po, "settings", name).as_object())
                p.settings.push_back({std::string(k), text_of(v)});
            for (const auto& sv : field(po, "stacks", name).as_array()) {
                const auto& so = sv.as_object();
                std::string client = text_of(field(so, "client", name));
                if (r.points.empty()) r.stacks.push_back(client);
                StackRuns& runs = p.stacks[client];
                for (const auto& s : field(so, "seeds", name).as_array())
                    runs.seeds.push_back(s.to_number<std::uint64_t>());
                for (const auto& run : field(so, "runs", name).as_array()) {
                    auto& values = runs.values.emplace_back();
                    for (const auto& [k, v] : run.as_object())
                        values[std::string(k)] = number_of(v);
                }
            }
            r.points.push_back(std::move(p));
        }
        if (r.seeds.empty() || r.stacks.empty() || r.points.empty())
            throw Error(fmt::format("{}: a sim report with no seeds, stacks or points", name));
        return r;
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw Error(fmt::format("{}: not a brownout sim report ({})", name, e.what()));
    }
}

SimResult merge(std::vector<SimResult> shards) {
    if (shards.empty()) throw Error("merge: no shards");
    SimResult out = shards.front();
    int count = out.shard.count;
    std::vector<bool> seen(static_cast<std::size_t>(count), false);
    for (std::size_t i = 0; i < shards.size(); ++i) {
        const auto& s = shards[i];
        auto differs = [&](std::string_view what) {
            return Error(
                fmt::format("merge: input {} has another {} than input 1: not a shard "
                            "of the same run",
                            i + 1, what));
        };
        if (s.scenario != out.scenario) throw differs("scenario");
        if (s.seeds != out.seeds) throw differs("set of seeds");
        if (s.stacks != out.stacks) throw differs("set of stacks");
        if (s.metric != out.metric) throw differs("--metric");
        if (s.shard.count != count) throw differs("shard count");
        if (s.sweep.size() != out.sweep.size() || s.points.size() != out.points.size())
            throw differs("sweep");
        for (std::size_t a = 0; a < s.sweep.size(); ++a) {
            if (s.sweep[a].key != out.sweep[a].key || s.sweep[a].values != out.sweep[a].values)
                throw differs("sweep");
        }
        if (s.expect.size() != out.expect.size() ||
            !std::equal(s.expect.begin(), s.expect.end(), out.expect.begin(), same))
            throw differs("set of expectations");
        auto index = static_cast<std::size_t>(s.shard.index);
        if (index >= seen.size() || seen[index])
            throw Error(fmt::format("merge: shard {}/{} is given twice", s.shard.index, count));
        seen[index] = true;
    }
    std::string missing;
    for (std::size_t i = 0; i < seen.size(); ++i) {
        if (!seen[i]) missing += fmt::format("{}{}/{}", missing.empty() ? "" : ", ", i, count);
    }
    if (!missing.empty()) throw Error(fmt::format("merge: shard {} missing", missing));
    for (std::size_t p = 0; p < out.points.size(); ++p) {
        for (const auto& name : out.stacks) {
            // Every shard's runs of this point and stack, in seed order as one process runs them.
            std::vector<std::pair<std::uint64_t, std::map<std::string, double>>> all;
            for (const auto& s : shards) {
                const auto& runs = s.points[p].stacks.at(name);
                for (std::size_t i = 0; i < runs.seeds.size(); ++i)
                    all.emplace_back(runs.seeds[i], runs.values[i]);
            }
            std::sort(all.begin(), all.end(),
                      [](const auto& a, const auto& b) { return a.first < b.first; });
            StackRuns merged;
            for (auto& [seed, values] : all) {
                merged.seeds.push_back(seed);
                merged.values.push_back(std::move(values));
            }
            out.points[p].stacks[name] = std::move(merged);
        }
    }
    out.shard = {0, 1};
    return out;
}

int sim_command(const SimCommand& c, std::ostream& out, std::ostream& err) {
    SimResult r;
    try {
        r = simulate(c);
    } catch (const Error& e) {
        err << e.what() << "\n";
        return 2;
    }
    return finish(r, c.json_file, c.csv_file, c.html_file, "sim", out, err);
}

int merge_command(const MergeCommand& c, std::ostream& out, std::ostream& err) {
    SimResult r;
    try {
        if (c.inputs.empty()) throw Error("merge needs the shards' JSON reports");
        std::vector<SimResult> shards;
        for (const auto& file : c.inputs) {
            std::ifstream in(file, std::ios::binary);
            if (!in) throw Error(fmt::format("merge: cannot read {}", file));
            std::stringstream text;
            text << in.rdbuf();
            shards.push_back(read_sim_json(text.str(), file));
        }
        r = merge(std::move(shards));
    } catch (const Error& e) {
        err << e.what() << "\n";
        return 2;
    }
    return finish(r, c.json_file, c.csv_file, c.html_file, "merge", out, err);
}

}  // namespace brownout::harness
