#include "harness/leaderboard.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>

#include "core/error.h"
#include "core/text.h"
#include "core/toml_reader.h"
#include "harness/command.h"
#include "harness/json_exact.h"
#include "harness/metric.h"
#include "harness/process.h"
#include "harness/report.h"
#include "harness/run.h"
#include "harness/run_log.h"
#include "harness/score.h"
#include "harness/serve.h"
#include "harness/sim.h"
#include "wire/dialect.h"

namespace brownout::harness {
namespace {

StackEntry builtin(const char* name, int uses, const char* about) {
    StackEntry s;
    s.name = name;
    s.about = about;
    s.uses = uses;
    s.client = toml::table{{"name", name}, {"policy", name}};
    return s;
}

// Every string value in `node`, recursively, passed through `change`.
void rewrite_strings(toml::node& node, const std::function<std::string(std::string)>& change) {
    if (auto* t = node.as_table()) {
        for (auto&& [key, value] : *t) rewrite_strings(value, change);
    } else if (auto* a = node.as_array()) {
        for (auto& value : *a) rewrite_strings(value, change);
    } else if (auto* s = node.as_string()) {
        *s = change(s->get());
    }
}

const mock::ProviderConfig* find_provider(const Scenario& s, std::string_view id) {
    for (const auto& p : s.providers)
        if (p.id == id) return &p;
    return nullptr;
}

// ---------------------------------------------------------------------------------------------
// What one stack did on one scenario and seed, beyond its score.

struct Findings {
    int requests = 0;
    int client_error_retries = 0;  // same request again after the provider refused it as invalid
    int most_attempts = 0;         // the most attempts any one request took
    int image_ignored = 0;         // answers that ignored an image (a lost feature passed on)
    int broken_passed = 0;         // cut, corrupted or untagged answers passed on as good
    int hung = 0;
    std::vector<std::string> notes;  // exits, garbage, readiness (external stacks)
    std::string late_note;           // the run's note on answers after the hung mark, if any
};

// A refusal that says the request itself is wrong, so sending it again cannot help. 401 and 403
// are left out: a provider's auth outage answers valid keys with them, and retrying is then right.
bool invalid_request(int status) {
    return status == 400 || status == 404 || status == 413 || status == 422;
}

// `time_scale`: the one the stack ran at (the leaderboard's cap, or a rerun's), not the file's.
Findings find(const StackRun& run, Duration deadline, double time_scale) {
    Findings f;
    f.requests = static_cast<int>(run.users.size());
    // The journal knows a request by its content: the same content at the same provider within
    // the deadline after a refusal is taken for a retry of it. A repeated question from another
    // user can be taken for one too, so explain() reports only counts above 1% of requests.
    struct Last {
        int status;
        Duration end;
    };
    std::map<std::pair<std::uint32_t, std::uint64_t>, Last> last;  // by provider and content
    std::map<std::uint64_t, std::vector<Duration>> starts;         // per content
    for (const auto& a : run.attempts) {
        auto key = std::make_pair(a.provider, a.digest);
        if (auto it = last.find(key); it != last.end() && invalid_request(it->second.status) &&
                                      a.at < it->second.end + deadline)
            ++f.client_error_retries;
        last[key] = {a.status, a.at + a.duration};
        auto& s = starts[a.digest];
        std::erase_if(s, [&](Duration t) { return t + deadline < a.at; });
        s.push_back(a.at);
        f.most_attempts = std::max(f.most_attempts, static_cast<int>(s.size()));
    }
    for (const auto& u : run.users) {
        f.image_ignored += u.verdict == AnswerVerdict::image_ignored;
        f.broken_passed += u.verdict == AnswerVerdict::corrupted ||
                           u.verdict == AnswerVerdict::missing_tag ||
                           u.verdict == AnswerVerdict::wrong_request;
        f.hung += u.outcome == UserRecord::Outcome::hung;
    }
    // What went wrong with an external stack's process; not the note that its clock was warped.
    const auto warped = warped_clock_note(run.client.kind, time_scale);
    for (const auto& n : run.notes)
        if (n != warped) f.notes.push_back(n);
    if (!run.late_answers.empty()) f.late_note = late_answers_note(run.late_answers);
    return f;
}

// ---------------------------------------------------------------------------------------------
// Results, aggregated over seeds.

// The columns of every table, by phase and metric.
struct Column {
    const char* label;
    const char* phase;
    std::string_view metric;
};
const std::vector<Column>& columns() {
    static const std::vector<Column> c = {
        {"availability, incident", "incident", metric::availability},
        {"wrong answers", "all", metric::wrong_answers},
        {"retry amplification, incident", "incident", metric::retry_amplification},
        {"Retry-After violations", "all", metric::retry_after_violations},
        {"time to recover", "all", metric::time_to_recover},
    };
    return c;
}

struct Entry {  // one stack on one scenario
    std::string stack;
    std::string skipped;  // why it sat out; empty when it ran
    std::vector<double> scores;
    std::map<std::string, std::vector<double>> values;  // "phase.metric" per seed
    std::vector<Findings> findings;                     // per seed
    std::vector<std::vector<ScoreComponent>> components;
    std::vector<std::string> caps;    // the scorer's notes on caps it applied
    std::vector<double> time_scales;  // per seed: the time scale of the run that counts
    std::vector<std::string> reruns;  // why a seed counts a slower run, or a late one
    std::string why;
};

struct ScenarioResult {
    std::string name;
    std::string title;
    std::string file;
    double time_scale = 1;
    std::vector<std::uint64_t> seeds;
    std::vector<Entry> entries;  // ranked: best first, then those that sat out
    int resumed = 0;             // runs read back from an earlier start (--resume)
};

double mean(const std::vector<double>& v) {
    double sum = 0;
    std::size_t n = 0;
    for (double x : v) {
        if (std::isnan(x)) continue;
        sum += x;
        ++n;
    }
    return n ? sum / static_cast<double>(n) : kNaN;
}

Duration median(std::vector<Duration> v) {
    auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
    std::nth_element(v.begin(), mid, v.end());
    return *mid;
}

std::string value_key(const Column& c) {
    return fmt::format("{}.{}", c.phase, c.metric);
}

// The component that cost the stack the most points, said with the number behind it.
std::string biggest_loss(const Entry& e) {
    std::map<std::string, double> lost;
    for (const auto& seed : e.components)
        for (const auto& c : seed)
            if (!std::isnan(c.value)) lost[c.name] += c.weight * (1 - c.value);
    auto worst = std::max_element(lost.begin(), lost.end(),
                                  [](const auto& a, const auto& b) { return a.second < b.second; });
    if (worst == lost.end() || worst->second < 0.5 * static_cast<double>(e.components.size()))
        return {};
    auto v = [&](const char* phase, std::string_view m) {
        auto it = e.values.find(fmt::format("{}.{}", phase, m));
        return it == e.values.end() ? kNaN : mean(it->second);
    };
    const std::string& n = worst->first;
    std::string detail;
    if (n == "incident availability")
        detail =
            fmt::format("{} answered in the incident",
                        metric::format(metric::availability, v("incident", metric::availability)));
    else if (n == "recovery availability")
        detail =
            fmt::format("{} answered after the provider recovered",
                        metric::format(metric::availability, v("recovery", metric::availability)));
    else if (n == "wrong answers")
        detail = fmt::format("{:.0f} wrong answers", v("all", metric::wrong_answers));
    else if (n == "retry amplification")
        detail = fmt::format("{:.2f} attempts per request in the incident",
                             v("incident", metric::retry_amplification));
    else if (n == "Retry-After compliance")
        detail = fmt::format("{:.0f} retries before the announced Retry-After",
                             v("all", metric::retry_after_violations));
    else if (n == "time to recover")
        detail =
            fmt::format("back to normal {} after the incident",
                        metric::format(metric::time_to_recover, v("all", metric::time_to_recover)));
    else if (n == "time to mitigate")
        detail = fmt::format(
            "took {} to mitigate",
            metric::format(metric::time_to_mitigate, v("all", metric::time_to_mitigate)));
    else if (n == "incident latency, typical")
        detail = fmt::format("median wait {} in the incident",
                             metric::format(metric::wait_p50, v("incident", metric::wait_p50)));
    else if (n == "incident latency, tail")
        detail = fmt::format("p99 wait {} in the incident",
                             metric::format(metric::wait_p99, v("incident", metric::wait_p99)));
    else if (n == "herd factor")
        detail = fmt::format("herd factor {}",
                             metric::format(metric::herd_factor, v("all", metric::herd_factor)));
    else if (n == "graceful degradation")
        detail = fmt::format(
            "{} clean errors when nothing could answer",
            metric::format(metric::graceful_degradation, v("all", metric::graceful_degradation)));
    else
        detail = n;
    return fmt::format("lost most on {} ({})", n, detail);
}

// One line on why the stack scored what it did, from its metrics and what it did on the wire.
std::string explain(const Entry& e) {
    std::vector<std::string> parts;
    auto per_seed = [&](auto field) {
        double sum = 0;
        for (const auto& f : e.findings) sum += f.*field;
        return e.findings.empty() ? 0.0 : sum / static_cast<double>(e.findings.size());
    };
    // A slower run that counts, or a lateness that is the stack's own, comes first: it says
    // what the rest of the line was measured at.
    parts.insert(parts.end(), e.reruns.begin(), e.reruns.end());
    std::vector<std::string> notes;
    for (const auto& f : e.findings)
        for (const auto& n : f.notes) {
            // The run's note on answers after the hung mark asks for a slower run: the rerun
            // line above says how that went, with the same counts.
            if (!e.reruns.empty() && n == f.late_note) continue;
            if (std::find(notes.begin(), notes.end(), n) == notes.end()) notes.push_back(n);
        }
    parts.insert(parts.end(), notes.begin(), notes.end());
    if (double n = per_seed(&Findings::client_error_retries);
        n > 0.01 * per_seed(&Findings::requests))
        parts.push_back(
            fmt::format("retried {:.0f} requests the provider had refused as invalid "
                        "(4xx)",
                        n));
    if (double n = per_seed(&Findings::image_ignored); n > 0)
        parts.push_back(
            fmt::format("passed on {:.0f} answers that ignored the image (lost feature)", n));
    if (double n = per_seed(&Findings::broken_passed); n > 0)
        parts.push_back(fmt::format("passed on {:.0f} cut or corrupted answers as good", n));
    if (double n = per_seed(&Findings::most_attempts); n > 10)
        parts.push_back(
            fmt::format("up to {:.0f} attempts for one request within its deadline", n));
    // A cap the scorer applied (metastable, hung requests) explains the score before any
    // component does.
    for (const auto& note : e.caps)
        if (std::find(parts.begin(), parts.end(), note) == parts.end()) parts.push_back(note);
    if (auto loss = biggest_loss(e); !loss.empty()) parts.push_back(loss);
    if (parts.empty()) return "lost next to nothing on any component";
    if (parts.size() > 4) parts.resize(4);
    return fmt::format("{}", fmt::join(parts, "; "));
}

// ---------------------------------------------------------------------------------------------
// Writers.

std::string json_number(double v) {
    return std::isnan(v) ? "null" : fmt::format("{}", v);
}

// The overall table. Stacks run on different sets of scenarios (a stack sits out a scenario in
// a dialect it does not speak), so a mean score compares different things. Every stack is
// therefore also compared with one baseline on the scenarios it ran: its score minus the
// baseline's on the same scenario and seeds, averaged — a paired difference, as `sim` pairs
// stacks on the same seeds. The baseline is the built-in sdk-default (the official SDKs' retry
// rule: what a team gets without trying), which runs on every scenario; the overall rank
// follows that difference when the baseline ran, and the mean score when it did not.
constexpr std::string_view kBaseline = "sdk-default";

struct Overall {
    std::string stack;
    std::string about;
    std::vector<std::pair<std::string, double>> scores;  // scenario, mean score
    double mean_score = kNaN;
    double vs_baseline = kNaN;  // mean of (its score − the baseline's) over its scenarios
    int wins = 0;
};

// Whether the baseline ran anywhere (it then has a difference of 0 with itself).
bool paired(const std::vector<Overall>& stacks) {
    return std::any_of(stacks.begin(), stacks.end(),
                       [](const Overall& o) { return !std::isnan(o.vs_baseline); });
}

std::vector<Overall> overall(const std::vector<ScenarioResult>& results,
                             const std::vector<StackEntry>& stacks) {
    auto score_of = [](const ScenarioResult& r, std::string_view name) {
        for (const auto& e : r.entries)
            if (e.stack == name && e.skipped.empty() && !e.scores.empty()) return mean(e.scores);
        return kNaN;
    };
    std::vector<Overall> out;
    for (const auto& s : stacks) {
        Overall o{s.name, s.about, {}, kNaN, kNaN, 0};
        std::vector<double> means, differences;
        for (const auto& r : results) {
            for (std::size_t i = 0; i < r.entries.size(); ++i) {
                const auto& e = r.entries[i];
                if (e.stack != s.name || !e.skipped.empty() || e.scores.empty()) continue;
                o.scores.emplace_back(r.name, mean(e.scores));
                means.push_back(mean(e.scores));
                differences.push_back(mean(e.scores) - score_of(r, kBaseline));
                o.wins += i == 0;
            }
        }
        o.mean_score = mean(means);
        o.vs_baseline = mean(differences);
        out.push_back(std::move(o));
    }
    bool by_baseline = paired(out);
    std::stable_sort(out.begin(), out.end(), [&](const Overall& a, const Overall& b) {
        auto key = [&](const Overall& o) {
            double x = by_baseline ? o.vs_baseline : o.mean_score;
            return std::isnan(x) ? -1e9 : x;
        };
        return key(a) > key(b);
    });
    return out;
}

std::string points(double v) {
    return std::isnan(v) ? "–" : fmt::format("{:.1f}", v);
}

std::string signed_points(double v) {
    return std::isnan(v) ? "–" : fmt::format("{:+.1f}", v);
}

// How the overall table is ranked, said above it.
std::string overall_rule(const std::vector<Overall>& ranked) {
    if (!paired(ranked))
        return fmt::format(
            "Ranked by mean score ({} did not run, so there is no paired "
            "comparison): stacks that ran different scenarios are not compared "
            "on the same ground.",
            kBaseline);
    return fmt::format(
        "Ranked by \"vs {0}\": a stack's score minus {0}'s (the official SDKs' retry rule) on "
        "the same scenario and seeds, averaged over the scenarios it ran. Stacks sit out "
        "scenarios in dialects they do not speak, so their mean scores cover different "
        "scenarios; the difference compares each with the same baseline on its own ones.",
        kBaseline);
}

std::string leaderboard_json(const std::vector<ScenarioResult>& results,
                             const std::vector<Overall>& ranked, bool partial) {
    std::string j = fmt::format(
        "{{\"schema_version\":1,\"tool\":\"brownout leaderboard\","
        "\"partial\":{},\"baseline\":{},\"overall\":[",
        partial, json_string(std::string(kBaseline)));
    for (std::size_t i = 0; i < ranked.size(); ++i) {
        const auto& o = ranked[i];
        j += fmt::format(
            "{}{{\"rank\":{},\"stack\":{},\"about\":{},\"mean_score\":{},"
            "\"vs_baseline\":{},\"scenarios\":{},\"wins\":{}}}",
            i ? "," : "", i + 1, json_string(o.stack), json_string(o.about),
            json_number(o.mean_score), json_number(o.vs_baseline), o.scores.size(), o.wins);
    }
    j += "],\"scenarios\":[";
    for (std::size_t r = 0; r < results.size(); ++r) {
        const auto& res = results[r];
        j += fmt::format(
            "{}{{\"name\":{},\"title\":{},\"file\":{},\"time_scale\":{},\"seeds\":[{}],"
            "\"resumed_runs\":{},\"stacks\":[",
            r ? "," : "", json_string(res.name), json_string(res.title), json_string(res.file),
            res.time_scale, fmt::join(res.seeds, ","), res.resumed);
        for (std::size_t i = 0; i < res.entries.size(); ++i) {
            const auto& e = res.entries[i];
            j += fmt::format("{}{{\"stack\":{}", i ? "," : "", json_string(e.stack));
            if (!e.skipped.empty()) {
                j += fmt::format(",\"skipped\":{}}}", json_string(e.skipped));
                continue;
            }
            std::vector<std::string> scores;
            for (double s : e.scores) scores.push_back(json_number(s));
            j += fmt::format(",\"rank\":{},\"score\":{},\"scores\":[{}],\"metrics\":{{", i + 1,
                             json_number(mean(e.scores)), fmt::join(scores, ","));
            bool first = true;
            for (const auto& [key, values] : e.values) {
                j += fmt::format("{}{}:{}", first ? "" : ",", json_string(key),
                                 json_number(mean(values)));
                first = false;
            }
            j += "},\"findings\":[";
            for (std::size_t k = 0; k < e.findings.size(); ++k) {
                const auto& f = e.findings[k];
                std::vector<std::string> notes;
                for (const auto& n : f.notes) notes.push_back(json_string(n));
                j += fmt::format(
                    "{}{{\"client_error_retries\":{},\"most_attempts\":{},"
                    "\"image_ignored\":{},\"broken_passed\":{},\"hung\":{},"
                    "\"notes\":[{}]}}",
                    k ? "," : "", f.client_error_retries, f.most_attempts, f.image_ignored,
                    f.broken_passed, f.hung, fmt::join(notes, ","));
            }
            std::vector<std::string> reruns;
            for (const auto& r : e.reruns) reruns.push_back(json_string(r));
            j += fmt::format("],\"time_scales\":[{}],\"reruns\":[{}],\"why\":{}}}",
                             fmt::join(e.time_scales, ","), fmt::join(reruns, ","),
                             json_string(e.why));
        }
        j += "]}";
    }
    return j + "]}\n";
}

std::string cell(const Entry& e, const Column& c) {
    auto it = e.values.find(value_key(c));
    return it == e.values.end() ? "–" : metric::format(c.metric, mean(it->second));
}

std::string board_score_cell(const Entry& e) {
    if (e.scores.size() < 2) return fmt::format("{:.1f}", mean(e.scores));
    Summary s = summarize(e.scores);
    return fmt::format("{:.1f} ± {:.1f}", s.mean, s.ci95);
}

// Said beside a scenario some of whose runs an earlier start made (--resume).
std::string resumed_note(const ScenarioResult& r) {
    if (r.resumed == 0) return "";
    return fmt::format(" · {} run{} read back from an earlier start (--resume)", r.resumed,
                       r.resumed == 1 ? "" : "s");
}

std::string md_escape(const std::string& s) {
    return replace_all(replace_all(s, "|", "\\|"), "\n", " ");
}

std::string leaderboard_md(const std::vector<ScenarioResult>& results,
                           const std::vector<Overall>& ranked, const std::string& command,
                           bool partial) {
    std::string m = "# brownout leaderboard\n\n";
    m += fmt::format("`{}`{}\n\n", command, partial ? " (interrupted: partial)" : "");
    m += "Scores are 0–100 (README \"Scoring\"); each stack runs against its own fresh fleet of "
         "the scenario's mock providers, in scenario time. A stack that cannot speak to the "
         "scenario's first provider, or finds fewer providers than it needs, sits the scenario "
         "out.\n\n## Overall\n\n";
    m += overall_rule(ranked);
    m += fmt::format(
        "\n\n| rank | stack | vs {} | mean score | scenarios | first place | what it "
        "is |\n|---|---|---|---|---|---|---|\n",
        kBaseline);
    for (std::size_t i = 0; i < ranked.size(); ++i) {
        const auto& o = ranked[i];
        m += fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", i + 1, o.stack,
                         signed_points(o.vs_baseline), points(o.mean_score), o.scores.size(),
                         o.wins, md_escape(o.about));
    }
    for (const auto& r : results) {
        m += fmt::format(
            "\n## {}\n\n{} · `{}` · time scale {} · seed{} {}{}\n\n| rank | stack | "
            "score |",
            r.name, md_escape(r.title), r.file, r.time_scale, r.seeds.size() == 1 ? "" : "s",
            fmt::join(r.seeds, ", "), resumed_note(r));
        for (const auto& c : columns()) m += fmt::format(" {} |", c.label);
        m += " why |\n|---|---|---|";
        for (std::size_t i = 0; i < columns().size(); ++i) m += "---|";
        m += "---|\n";
        for (std::size_t i = 0; i < r.entries.size(); ++i) {
            const auto& e = r.entries[i];
            if (!e.skipped.empty()) {
                m += fmt::format("| – | {} | – |", e.stack);
                for (std::size_t k = 0; k < columns().size(); ++k) m += " |";
                m += fmt::format(" sat out: {} |\n", md_escape(e.skipped));
                continue;
            }
            m += fmt::format("| {} | {} | {} |", i + 1, e.stack, board_score_cell(e));
            for (const auto& c : columns()) m += fmt::format(" {} |", cell(e, c));
            m += fmt::format(" {} |\n", md_escape(e.why));
        }
    }
    return m;
}

std::string bar(double score) {
    double w = std::isnan(score) ? 0 : std::clamp(score, 0.0, 100.0);
    const char* colour = w >= 80 ? "#2e7d32" : w >= 50 ? "#f9a825" : "#c62828";
    return fmt::format(
        "<svg width=\"104\" height=\"12\" role=\"img\"><rect width=\"100\" "
        "height=\"12\" fill=\"#eee\"/><rect width=\"{:.1f}\" height=\"12\" "
        "fill=\"{}\"/></svg>",
        w, colour);
}

std::string leaderboard_html(const std::vector<ScenarioResult>& results,
                             const std::vector<Overall>& ranked, const std::string& command,
                             bool partial) {
    std::string h = fmt::format(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>brownout "
        "leaderboard</title>\n<style>body{{font-family:sans-serif;margin:2em;max-width:90em}}"
        "table{{border-collapse:collapse;margin:1em 0}}td,th{{border-bottom:1px solid #ddd;"
        "padding:.3em .6em;text-align:left;vertical-align:top}}td.n{{text-align:right;"
        "white-space:nowrap}}tr.out td{{color:#888}}code{{background:#f4f4f4}}</style></head>"
        "<body>\n<h1>brownout leaderboard</h1>\n<p><code>{}</code>{}</p>\n<h2>Overall</h2>\n"
        "<p>{}</p>\n<table><tr><th>rank</th><th>stack</th><th>vs {}</th><th>mean score</th>"
        "<th></th><th>scenarios</th><th>first place</th><th>what it is</th></tr>\n",
        markup_escape(command), partial ? " — interrupted: partial" : "",
        markup_escape(overall_rule(ranked)), kBaseline);
    for (std::size_t i = 0; i < ranked.size(); ++i) {
        const auto& o = ranked[i];
        h += fmt::format(
            "<tr><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}"
            "</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>\n",
            i + 1, markup_escape(o.stack), signed_points(o.vs_baseline), points(o.mean_score),
            bar(o.mean_score), o.scores.size(), o.wins, markup_escape(o.about));
    }
    h += "</table>\n";
    for (const auto& r : results) {
        h += fmt::format(
            "<h2 id=\"{0}\">{0}</h2>\n<p>{1} · time scale {2} · seeds {3}{4} · "
            "reports in <code>{0}/</code></p>\n<table><tr><th>rank</th><th>stack"
            "</th><th>score</th><th></th>",
            markup_escape(r.name), markup_escape(r.title), r.time_scale, fmt::join(r.seeds, ", "),
            markup_escape(resumed_note(r)));
        for (const auto& c : columns()) h += fmt::format("<th>{}</th>", c.label);
        h += "<th>why</th></tr>\n";
        for (std::size_t i = 0; i < r.entries.size(); ++i) {
            const auto& e = r.entries[i];
            if (!e.skipped.empty()) {
                h += fmt::format(
                    "<tr class=\"out\"><td>–</td><td>{}</td><td colspan=\"{}\">sat "
                    "out: {}</td></tr>\n",
                    markup_escape(e.stack), columns().size() + 3, markup_escape(e.skipped));
                continue;
            }
            h += fmt::format(
                "<tr><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td>"
                "<td>{}</td>",
                i + 1, markup_escape(e.stack), markup_escape(board_score_cell(e)),
                bar(mean(e.scores)));
            for (const auto& c : columns())
                h += fmt::format("<td class=\"n\">{}</td>", markup_escape(cell(e, c)));
            h += fmt::format("<td>{}</td></tr>\n", markup_escape(e.why));
        }
        h += "</table>\n";
    }
    return h + "</body></html>\n";
}

// One run's score and metrics of a stack, added to its entry.
void record(Entry& e, const StackScore& score, const StackRun& run, const Scenario& s,
            double time_scale) {
    e.scores.push_back(score.score);
    auto value = [&](const char* phase, std::string_view m) {
        if (auto ph = score.phases.find(phase); ph != score.phases.end())
            if (auto x = ph->second.find(std::string(m)); x != ph->second.end()) return x->second;
        return kNaN;
    };
    for (const auto& col : columns())
        e.values[value_key(col)].push_back(value(col.phase, col.metric));
    for (auto [phase, m] : {std::pair{"incident", metric::wait_p50},
                            {"incident", metric::wait_p99},
                            {"all", metric::time_to_mitigate},
                            {"all", metric::herd_factor},
                            {"all", metric::graceful_degradation}})
        e.values[fmt::format("{}.{}", phase, m)].push_back(value(phase, m));
    e.findings.push_back(find(run, s.workload.deadline, time_scale));
    e.components.push_back(score.components);
    // One note per cap ("13 hung requests: score capped at 50"), from the first seed it shows in.
    for (const auto& note : score.notes) {
        auto cap = note.find(": score capped");
        if (cap == std::string::npos) continue;
        bool seen = std::any_of(e.caps.begin(), e.caps.end(), [&](const std::string& c) {
            return c.ends_with(note.substr(cap));
        });
        if (!seen) e.caps.push_back(note);
    }
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::vector<StackEntry> builtin_stacks() {
    return {
        builtin("naive", 1, "built-in: one attempt, no retries"),
        builtin("sdk-default", 1,
                "built-in: the official SDKs' retry rule (2 retries, exponential backoff, "
                "Retry-After honoured)"),
        builtin("retry-storm", 1, "built-in: immediate retries until the deadline"),
        builtin("failover", 0,
                "built-in: retries with full jitter, a breaker per provider, failover across "
                "every provider, a retry budget"),
    };
}

std::vector<StackEntry> load_stacks(const std::filesystem::path& dir) {
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    for (const auto& sub : std::filesystem::directory_iterator(dir, ec)) {
        auto file = sub.path() / "stack.toml";
        if (sub.is_directory() && std::filesystem::is_regular_file(file)) files.push_back(file);
    }
    std::sort(files.begin(), files.end());
    std::vector<StackEntry> out;
    for (const auto& file : files) {
        toml::table root = parse_toml_file(file.string());
        TableReader top(root, "", std::make_shared<const std::string>(file.string()));
        std::string folder = std::filesystem::absolute(file.parent_path()).string();
        for (auto& t : top.tables("stacks")) {
            StackEntry s;
            s.file = file.string();
            s.name = t.required_string("name");
            s.about = t.string("about", "");
            auto names = wire::dialect_names();
            if (auto speaks = t.strings("speaks")) {
                for (const auto& d : *speaks) {
                    if (std::find(names.begin(), names.end(), d) == names.end())
                        t.fail("speaks", fmt::format("unknown dialect \"{}\" (dialects: {})", d,
                                                     fmt::join(names, ", ")));
                }
                s.speaks = *speaks;
            } else {
                t.fail("speaks", "is required: the dialects the stack can talk to");
            }
            s.needs = static_cast<int>(t.integer("needs", 1, 9).value_or(1));
            s.uses = static_cast<int>(t.integer("uses", 0, 9).value_or(0));
            if (t.has("providers"))
                t.fail("providers",
                       "a stack is placed on each scenario's providers by what it "
                       "speaks; leave providers out");
            s.client = t.raw();
            for (const char* own : {"about", "speaks", "needs", "uses"}) s.client.erase(own);
            rewrite_strings(s.client,
                            [&](const std::string& v) { return replace_all(v, "{dir}", folder); });
            for (const auto& seen : out)
                if (seen.name == s.name)
                    t.fail("name", fmt::format("stack \"{}\" is also in {}", s.name, seen.file));
            out.push_back(std::move(s));
        }
        top.finish();
    }
    return out;
}

Placement place_stack(const StackEntry& stack, const Scenario& scenario) {
    Placement p;
    auto speaks = [&](const mock::ProviderConfig& provider) {
        return stack.speaks.empty() ||
               std::find(stack.speaks.begin(), stack.speaks.end(),
                         std::string(wire::to_string(provider.dialect))) != stack.speaks.end();
    };
    if (scenario.providers.empty()) return {{}, "the scenario has no providers"};
    const auto& first = scenario.providers.front();
    if (!speaks(first)) {
        return {
            {},
            fmt::format("speaks {}, the scenario's first provider ({}) speaks {}",
                        fmt::join(stack.speaks, ", "), first.id, wire::to_string(first.dialect))};
    }
    for (const auto& provider : scenario.providers) {
        if (!speaks(provider)) continue;
        if (stack.uses > 0 && static_cast<int>(p.providers.size()) >= stack.uses) break;
        p.providers.push_back(provider.id);
    }
    if (static_cast<int>(p.providers.size()) < stack.needs) {
        return {{},
                fmt::format("needs {} providers it can talk to, the scenario has {}", stack.needs,
                            p.providers.size())};
    }
    return p;
}

toml::table leaderboard_scenario(toml::table root, const Scenario& scenario,
                                 const std::vector<StackEntry>& stacks,
                                 const std::vector<Placement>& placements) {
    root.erase("clients");
    root.erase("expect");
    toml::array clients;
    for (std::size_t i = 0; i < stacks.size(); ++i) {
        const auto& placed = placements[i].providers;
        if (placed.empty()) continue;
        toml::table client = stacks[i].client;
        client.insert_or_assign("name", stacks[i].name);
        rewrite_strings(client, [&](std::string v) {
            for (std::size_t k = 0; k < placed.size(); ++k) {
                const auto* p = find_provider(scenario, placed[k]);
                auto key = [&](std::string_view what) {
                    return fmt::format("{{{}.{}}}", k + 1, what);
                };
                v = replace_all(v, key("id"), placed[k]);
                v = replace_all(v, key("env"), provider_env_stem(placed[k]));
                if (p != nullptr && !p->models.empty())
                    v = replace_all(v, key("model"), p->models.front());
            }
            return v;
        });
        toml::array ids;
        for (const auto& id : placed) ids.push_back(id);
        client.insert_or_assign("providers", std::move(ids));
        clients.push_back(std::move(client));
    }
    root.insert_or_assign("clients", std::move(clients));
    return root;
}

namespace {

// What one scenario's batches share.
struct BatchContext {
    const LeaderboardCommand& c;
    const Scenario& scenario;  // with the stacks as its clients
    const std::string& text;   // its file's text, kept with each run's log
    std::filesystem::path dir;
    ScenarioResult& result;
    std::ostream& out;
    std::ostream& err;
};

// The run an earlier start of this leaderboard finished in `dir`, if it is this one: the same
// scenario (the same stacks with the same settings; the comment on top, which names the command,
// aside: a start with more seeds reads back the seeds it shares), seed, time scale and stacks,
// finished, and written by a brownout that records late answers. Anything else (nothing there,
// a run that was stopped or killed, a log that cannot be read, another scenario) runs again.
std::optional<RunResult> finished_run(const std::string& dir, const std::string& text,
                                      std::uint64_t seed, double scale,
                                      const std::vector<std::string>& names) {
    auto body = [](const std::string& t) {
        auto end = t.find("\n\n");
        return end == std::string::npos ? t : t.substr(end);
    };
    std::error_code ec;
    auto path = std::filesystem::path(dir);
    if (!std::filesystem::exists(path / "run.json", ec)) return std::nullopt;
    try {
        if (body(read_text_file((path / "scenario.toml").string())) != body(text))
            return std::nullopt;
        // Without its late answers (a run.json from before 2026-12-01), a stack that fell
        // behind would pass for one that kept up.
        auto meta = read_text_file((path / "run.json").string());
        if (!parse_json_exact(meta, "run.json").as_object().contains("late_answers_ns"))
            return std::nullopt;
        RunResult run = read_run_log(path);
        if (run.partial || run.scenario.seed != seed || run.scenario.time_scale != scale ||
            run.stacks.size() != names.size())
            return std::nullopt;
        for (std::size_t i = 0; i < names.size(); ++i)
            if (run.stacks[i].client.name != names[i]) return std::nullopt;
        return run;
    } catch (const std::exception&) {
        return std::nullopt;  // unreadable: run it again (its directory is rewritten)
    }
}

// One batch of stacks on one seed, its runs' reports under DIR/LABEL. A stack that answered
// requests after they were counted hung fell behind: it runs again at half the time scale,
// where a machine too busy for it catches up and the stack is scored; a stack slow in scenario
// time stays as late, and is scored as it is. Every stack's counted run is recorded in its
// entry. Returns 2 on an error (said on err); sets `partial` when stopped, `ran` when a run
// completed.
int run_batch(BatchContext& ctx, std::uint64_t seed, const std::string& label,
              std::vector<std::string> names, bool& partial, bool& ran) {
    const auto& c = ctx.c;
    const auto& with_stacks = ctx.scenario;
    auto& result = ctx.result;
    auto& out = ctx.out;
    auto& err = ctx.err;
    auto entry = [&](const std::string& name) -> Entry* {
        auto it = std::find_if(result.entries.begin(), result.entries.end(),
                               [&](const Entry& e) { return e.stack == name; });
        return it == result.entries.end() ? nullptr : &*it;
    };
    // Each stack that fell behind, with its last run, until a slower run decides.
    struct Behind {
        StackScore score;
        StackRun run;
        double scale;
        std::vector<std::string> history;  // "×120 (486 answered late, median 3m10s)"
    };
    std::map<std::string, Behind> behind;
    auto keep = [&](const std::string& name, const StackScore& score, const StackRun& run,
                    double scale, const std::string& rerun) {
        Entry* e = entry(name);
        if (e == nullptr) return;
        record(*e, score, run, with_stacks, scale);
        e->time_scales.push_back(scale);
        if (!rerun.empty() &&
            std::find(e->reruns.begin(), e->reruns.end(), rerun) == e->reruns.end())
            e->reruns.push_back(rerun);
    };
    for (double scale = result.time_scale; !names.empty(); scale /= 2) {
        if (c.stop != nullptr && *c.stop) {
            partial = true;
            break;
        }
        RunOptions options;
        options.seed = seed;
        options.time_scale = scale;
        options.stop = c.stop;
        options.clients = names;
        auto run_dir =
            (ctx.dir / (label + (scale == result.time_scale ? "" : fmt::format("-x{}", scale))))
                .string();
        options.log_dir = run_dir;  // as `run` does: a killed leaderboard can be scored
        options.scenario_text = ctx.text;
        out << fmt::format("{} · seed {}{} · {}", result.name, seed,
                           scale == result.time_scale ? "" : fmt::format(" · again at ×{}", scale),
                           fmt::join(names, ", "))
            << std::flush;
        RunResult run;
        std::optional<RunResult> earlier;
        if (c.resume) earlier = finished_run(run_dir, ctx.text, seed, scale, names);
        if (earlier) {
            run = std::move(*earlier);
            ++result.resumed;
            out << fmt::format(" · read back from {} (--resume)\n", run_dir);
        } else {
            try {
                run = run_scenario(with_stacks, options);
            } catch (const std::exception& e) {
                err << "\n" << e.what() << "\n";
                return 2;
            }
        }
        Report report{run, run_windows(run), {}, {}};
        for (const auto& stack : run.stacks)
            report.scores.push_back(score_stack(run.scenario, stack, report.windows));
        // A run read back gets its reports again: a start killed between finishing a run and
        // writing them left none.
        try {
            write_run_reports(report, run_dir);
        } catch (const std::exception& e) {
            err << "\nbrownout leaderboard: cannot write the reports: " << e.what() << "\n";
            return 2;
        }
        if (!earlier) out << fmt::format(" · {:.0f} s\n", run.wall_seconds);
        if (run.partial) {
            // Its report directory stays (and says partial); a stopped run is not averaged
            // with whole ones.
            partial = true;
            break;
        }
        ran = true;
        names.clear();
        for (std::size_t i = 0; i < run.stacks.size(); ++i) {
            auto& stack = run.stacks[i];
            const std::string name = stack.client.name;  // the stack may move
            auto was = behind.find(name);
            std::string at = fmt::format("×{}", scale);
            if (stack.late_answers.empty()) {
                std::string rerun;
                if (was != behind.end()) {
                    rerun = fmt::format("fell behind at {}: scored at {}, where it kept up",
                                        fmt::join(was->second.history, ", "), at);
                    behind.erase(was);
                }
                keep(name, report.scores[i], stack, scale, rerun);
                continue;
            }
            Duration late = median(stack.late_answers);
            std::string step =
                fmt::format("{} ({} answered late, median {})", at, stack.late_answers.size(),
                            format_duration(std::chrono::round<std::chrono::seconds>(late)));
            // Lateness that is the stack's own (its retries, timeouts, sleeps: scenario time)
            // stays when the time scale halves; what the machine adds shrinks with it (a fixed
            // wall delay is half as many scenario seconds; a backlog the machine builds drains).
            // Late answers nearly as late at half the scale (their median within a fifth) are
            // the stack's, and a slower run cannot help.
            bool own = was != behind.end() && late >= median(was->second.run.late_answers) * 4 / 5;
            std::vector<std::string> history;
            if (was != behind.end()) history = std::move(was->second.history);
            history.push_back(step);
            if (own || scale / 2 < c.min_time_scale) {
                keep(name, report.scores[i], stack, scale,
                     history.size() == 1
                         ? ""
                         : fmt::format("answered late at {}: {}", fmt::join(history, ", "),
                                       own ? "late in scenario time whatever the time scale, "
                                             "so the stack, not the machine"
                                           : "still behind at the slowest time scale "
                                             "tried (--min-time-scale)"));
                behind.erase(name);
                continue;
            }
            behind[name] = {report.scores[i], std::move(stack), scale, std::move(history)};
            names.push_back(name);
        }
    }
    // Interrupted before a slower run decided: the run that fell behind counts.
    for (auto& [name, last] : behind)
        keep(name, last.score, last.run, last.scale,
             fmt::format("fell behind at {}; the slower run was interrupted",
                         fmt::join(last.history, ", ")));
    return 0;
}

}  // namespace

int leaderboard_command(const LeaderboardCommand& c, std::ostream& out, std::ostream& err) {
    std::vector<StackEntry> stacks = builtin_stacks();
    try {
        if (std::filesystem::is_directory(c.stacks_dir)) {
            for (auto& s : load_stacks(c.stacks_dir)) {
                for (const auto& b : stacks)
                    if (b.name == s.name)
                        throw Error(fmt::format("{}: stack \"{}\" has a built-in stack's name",
                                                s.file, s.name));
                stacks.push_back(std::move(s));
            }
        }
    } catch (const Error& e) {
        err << e.what() << "\n";
        return 2;
    }
    if (!c.clients.empty()) {
        std::vector<std::string> names;
        names.reserve(stacks.size());
        for (const auto& s : stacks) names.push_back(s.name);
        for (const auto& want : c.clients) {
            if (std::find(names.begin(), names.end(), want) != names.end()) continue;
            auto hint = closest_match(want, names);
            err << fmt::format("brownout leaderboard: no stack \"{}\"{} (stacks: {})\n", want,
                               hint.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", hint),
                               fmt::join(names, ", "));
            return 2;
        }
        std::erase_if(stacks, [&](const StackEntry& s) {
            return std::find(c.clients.begin(), c.clients.end(), s.name) == c.clients.end();
        });
    }
    if (c.list) {
        for (const auto& s : stacks)
            out << fmt::format("{:<24} {}{}\n", s.name, s.about,
                               s.file.empty() ? "" : fmt::format(" ({})", s.file));
        return 0;
    }
    if (c.scenario_files.empty()) {
        err << "brownout leaderboard: no scenarios (the library has no incident scenarios?)\n";
        return 2;
    }

    std::string command = "brownout leaderboard";
    for (const auto& f : c.scenario_files) command += " " + f;
    if (c.seeds > 1) command += fmt::format(" --seeds {}", c.seeds);
    for (const auto& n : c.clients) command += " --client " + n;
    if (c.time_scale) command += fmt::format(" --time-scale {}", *c.time_scale);

    std::vector<ScenarioResult> results;
    bool partial = false;
    auto started = std::chrono::steady_clock::now();
    for (const auto& file : c.scenario_files) {
        if (c.stop != nullptr && *c.stop) {
            partial = true;
            break;
        }
        ScenarioResult result;
        Scenario with_stacks;
        std::string scenario_text;
        std::filesystem::path dir;
        try {
            Scenario original = load_scenario(file);
            std::vector<Placement> placements;
            placements.reserve(stacks.size());
            for (const auto& s : stacks) placements.push_back(place_stack(s, original));
            toml::table root =
                leaderboard_scenario(parse_toml_file(file), original, stacks, placements);
            dir = std::filesystem::path(c.out_dir) / original.name;
            std::filesystem::create_directories(dir);
            std::ostringstream text;
            text << "# Written by `" << command << "` from " << file
                 << ": the scenario with every stack that can run on it.\n# `brownout run` "
                    "runs it as the leaderboard did (stacks' {dir} paths are absolute).\n\n"
                 << root << "\n";
            auto generated = (dir / "scenario.toml").string();
            write_file_atomically(generated, text.str());
            scenario_text = text.str();
            with_stacks = load_scenario(generated);
            result.name = original.name;
            result.title = original.title;
            result.file = file;
            result.time_scale =
                c.time_scale.value_or(std::min(original.time_scale, c.max_time_scale));
            for (std::size_t i = 0; i < stacks.size(); ++i) {
                Entry e;
                e.stack = stacks[i].name;
                e.skipped = placements[i].providers.empty() ? placements[i].reason : "";
                result.entries.push_back(std::move(e));
            }
        } catch (const std::exception& e) {
            err << e.what() << "\n";
            return 2;
        }

        // External stacks run a few at a time (`parallel`): each is a process doing real work
        // at the scenario's time scale, and a CPU shared by a dozen of them would be scored as
        // the incident's. The built-ins (in process, cheap) run with the first batch. Every batch
        // lives the same seed: the same workload and the same timeline.
        std::vector<std::vector<std::string>> batches(1);
        for (const auto& client : with_stacks.clients)
            if (!client.external()) batches[0].push_back(client.name);
        std::size_t in_batch = 0;
        for (const auto& client : with_stacks.clients) {
            if (!client.external()) continue;
            if (in_batch == static_cast<std::size_t>(c.parallel)) {
                batches.emplace_back();
                in_batch = 0;
            }
            batches.back().push_back(client.name);
            ++in_batch;
        }
        BatchContext ctx{c, with_stacks, scenario_text, dir, result, out, err};
        for (int k = 0; k < c.seeds && !partial; ++k) {
            std::uint64_t seed = with_stacks.seed + static_cast<std::uint64_t>(k);
            bool seed_ran = false;
            for (std::size_t b = 0; b < batches.size() && !partial; ++b) {
                if (batches[b].empty()) continue;
                std::string label = fmt::format(
                    "seed-{}{}", seed, batches.size() == 1 ? "" : fmt::format(".{}", b + 1));
                if (run_batch(ctx, seed, label, batches[b], partial, seed_ran) != 0) return 2;
            }
            if (seed_ran) result.seeds.push_back(seed);
        }
        for (auto& e : result.entries)
            if (e.skipped.empty() && e.scores.empty())
                e.skipped = "did not run: the leaderboard was interrupted";
        for (auto& e : result.entries)
            if (e.skipped.empty()) e.why = explain(e);
        std::stable_sort(result.entries.begin(), result.entries.end(),
                         [](const Entry& a, const Entry& b) {
                             if (a.skipped.empty() != b.skipped.empty()) return a.skipped.empty();
                             double x = mean(a.scores), y = mean(b.scores);
                             return (std::isnan(x) ? -1 : x) > (std::isnan(y) ? -1 : y);
                         });
        results.push_back(std::move(result));
    }

    auto ranked = overall(results, stacks);
    out << fmt::format("\n{:<4} {:<24} {:>14} {:>10} {:>9}  {}\n", "rank", "stack",
                       fmt::format("vs {}", kBaseline), "mean score", "scenarios", "first place");
    for (std::size_t i = 0; i < ranked.size(); ++i) {
        const auto& o = ranked[i];
        out << fmt::format("{:<4} {:<24} {:>14} {:>10} {:>9}  {}\n", i + 1, o.stack,
                           signed_points(o.vs_baseline), points(o.mean_score), o.scores.size(),
                           o.wins);
    }
    try {
        std::filesystem::create_directories(c.out_dir);
        auto at = [&](const char* name) {
            return (std::filesystem::path(c.out_dir) / name).string();
        };
        write_file_atomically(at("leaderboard.json"), leaderboard_json(results, ranked, partial));
        write_file_atomically(at("leaderboard.md"),
                              leaderboard_md(results, ranked, command, partial));
        write_file_atomically(at("leaderboard.html"),
                              leaderboard_html(results, ranked, command, partial));
        out << fmt::format(
            "\n{} scenario{} in {:.0f} s · {} · {} · {}\n", results.size(),
            results.size() == 1 ? "" : "s",
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
            at("leaderboard.json"), at("leaderboard.md"), at("leaderboard.html"));
    } catch (const std::exception& e) {
        err << "brownout leaderboard: cannot write the leaderboard: " << e.what() << "\n";
        return 2;
    }
    if (partial) out << "interrupted: the leaderboard covers what ran and says partial\n";
    return 0;
}

}  // namespace brownout::harness
