#include "harness/sim.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <ostream>

#include "core/error.h"
#include "core/random.h"
#include "core/text.h"
#include "harness/metric.h"
#include "harness/report.h"
#include "harness/run.h"
#include "harness/serve.h"

namespace brownout::harness {

namespace {

// Two-sided 95% critical values of Student's t for 1..30 degrees of freedom; 1.96 beyond.
double t95(std::size_t df) {
    static constexpr double kT[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                                    2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
                                    2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
                                    2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
    if (df == 0) return std::nan("");
    return df <= 30 ? kT[df - 1] : 1.96;
}

// The metrics the table and the JSON summarise, with the phase each is read in.
struct Column {
    std::string_view label;
    std::string_view phase;
    std::string_view metric;
};
constexpr Column kColumns[] = {
    {"score", "all", metric::score},
    {"availability, incident", "incident", metric::availability},
    {"retry amplification", "all", metric::retry_amplification},
    {"wait p50, incident", "incident", metric::wait_p50},
    {"time to recover", "all", metric::time_to_recover},
};

double value_of(const StackScore& s, std::string_view phase, std::string_view name) {
    if (name == metric::score) return s.score;
    auto p = s.phases.find(std::string(phase));
    if (p == s.phases.end()) return std::nan("");
    auto m = p->second.find(std::string(name));
    return m == p->second.end() ? std::nan("") : m->second;
}

std::vector<double> values(const std::vector<StackScore>& runs, const Column& c) {
    std::vector<double> out;
    for (const auto& s : runs) {
        double v = value_of(s, c.phase, c.metric);
        if (!std::isnan(v)) out.push_back(v);
    }
    return out;
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

SimResult simulate(const std::string& scenario_file, const SimCommand& c) {
    Scenario scenario = load_scenario(scenario_file);
    SimResult r;
    std::vector<std::string> chosen;
    for (const auto& client : scenario.clients) {
        bool wanted = c.clients.empty() ||
                      std::find(c.clients.begin(), c.clients.end(), client.name) != c.clients.end();
        if (!wanted) continue;
        if (client.kind != "builtin") {
            // Their own timers run in wall time: they cannot live in virtual time.
            r.skipped.push_back(
                fmt::format("{} ({} stack: the simulator runs built-in stacks only)", client.name,
                            client.kind));
            continue;
        }
        chosen.push_back(client.name);
    }
    for (const auto& name : c.clients) {
        bool known = std::any_of(scenario.clients.begin(), scenario.clients.end(),
                                 [&](const ClientSpec& s) { return s.name == name; });
        if (!known) throw Error(fmt::format("--client {}: the scenario has no such client", name));
    }
    if (chosen.empty()) throw Error("sim: the scenario has no built-in stack to simulate");
    r.stacks = chosen;
    std::uint64_t first = c.seed.value_or(scenario.seed);
    for (int i = 0; i < std::max(1, c.seeds); ++i) {
        RunOptions options;
        options.seed = first + static_cast<std::uint64_t>(i);
        options.clients = chosen;
        options.virtual_time = true;
        auto run = run_scenario(scenario, options);
        auto windows = phase_windows(run.scenario);
        for (const auto& stack : run.stacks)
            r.scores[stack.client.name].push_back(score_stack(run.scenario, stack, windows));
        r.seeds.push_back(*options.seed);
    }
    return r;
}

std::string sim_table(const SimResult& r) {
    std::string out = fmt::format("{} seed{} ({}…{}), virtual time\n\n", r.seeds.size(),
                                  r.seeds.size() == 1 ? "" : "s", r.seeds.front(), r.seeds.back());
    out += fmt::format("{:<28}", "");
    for (const auto& name : r.stacks) out += fmt::format("{:>24}", name);
    out += "\n";
    for (const auto& col : kColumns) {
        out += fmt::format("{:<28}", col.label);
        for (const auto& name : r.stacks) {
            auto s = summarize(values(r.scores.at(name), col));
            std::string cell = col.metric == metric::score ? fmt::format("{:.1f}", s.mean)
                                                           : metric::format(col.metric, s.mean);
            if (s.n >= 2 && col.metric == metric::score) cell += fmt::format(" ± {:.1f}", s.ci95);
            out += fmt::format("{:>24}", cell);
        }
        out += "\n";
    }
    // Paired: the same seeds, so the difference per seed is what the stacks alone did.
    if (r.seeds.size() >= 2 && r.stacks.size() >= 2) {
        out += "\npaired on the same seeds (score):\n";
        for (std::size_t a = 0; a < r.stacks.size(); ++a) {
            for (std::size_t b = a + 1; b < r.stacks.size(); ++b) {
                const auto& sa = r.scores.at(r.stacks[a]);
                const auto& sb = r.scores.at(r.stacks[b]);
                std::vector<double> diff;
                std::size_t wins = 0;
                for (std::size_t i = 0; i < sa.size(); ++i) {
                    diff.push_back(sa[i].score - sb[i].score);
                    wins += sa[i].score > sb[i].score;
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
    for (const auto& s : r.skipped) out += fmt::format("\nskipped: {}", s);
    if (!r.skipped.empty()) out += "\n";
    return out;
}

std::string sim_json(const SimResult& r) {
    auto num = [](double v) {
        return std::isnan(v) ? std::string("null") : fmt::format("{:.6g}", v);
    };
    std::string out = "{\"schema_version\":1,\"mode\":\"sim\",\"seeds\":[";
    for (std::size_t i = 0; i < r.seeds.size(); ++i)
        out += fmt::format("{}{}", i ? "," : "", r.seeds[i]);
    out += "],\"stacks\":[";
    for (std::size_t k = 0; k < r.stacks.size(); ++k) {
        const auto& runs = r.scores.at(r.stacks[k]);
        out +=
            fmt::format("{}{{\"client\":{},\"scores\":[", k ? "," : "", json_string(r.stacks[k]));
        for (std::size_t i = 0; i < runs.size(); ++i) out += (i ? "," : "") + num(runs[i].score);
        out += "],\"summary\":{";
        bool first = true;
        for (const auto& col : kColumns) {
            auto s = summarize(values(runs, col));
            out += fmt::format("{}\"{}.{}\":{{\"n\":{},\"mean\":{},\"sd\":{},\"ci95\":{}}}",
                               first ? "" : ",", col.phase, col.metric, s.n, num(s.mean), num(s.sd),
                               num(s.ci95));
            first = false;
        }
        out += "}}";
    }
    out += "],\"skipped\":[";
    for (std::size_t i = 0; i < r.skipped.size(); ++i)
        out += (i ? "," : "") + json_string(r.skipped[i]);
    return out + "]}";
}

int sim_command(const SimCommand& c, std::ostream& out, std::ostream& err) {
    SimResult r;
    try {
        r = simulate(c.scenario_file, c);
    } catch (const Error& e) {
        err << e.what() << "\n";
        return 2;
    }
    out << sim_table(r) << std::flush;
    if (!c.json_file.empty()) {
        try {
            write_file_atomically(c.json_file, sim_json(r));
        } catch (const std::exception& e) {
            err << "brownout sim: cannot write " << c.json_file << ": " << e.what() << "\n";
            return 2;
        }
    }
    return 0;
}

}  // namespace brownout::harness
