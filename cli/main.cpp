// brownout: the command line. Parsing and exit codes only; the work is in the libraries.

#include <dlfcn.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/duration.h"
#include "core/error.h"
#include "harness/command.h"
#include "harness/init.h"
#include "harness/leaderboard.h"
#include "harness/scenario.h"
#include "harness/schema.h"
#include "harness/score.h"
#include "harness/serve.h"
#include "harness/sim.h"

namespace {

// The allocator this process runs on, for --version: tcmalloc when it is linked (its tc_version
// is then found), else the C library's.
std::string allocator_name() {
    using Version = const char* (*)(int*, int*, const char**);
    if (auto* version = reinterpret_cast<Version>(dlsym(RTLD_DEFAULT, "tc_version"))) {
        int major = 0, minor = 0;
        const char* patch = "";
        version(&major, &minor, &patch);
        return fmt::format("tcmalloc {}.{}{}", major, minor, patch);
    }
    return "glibc malloc";
}

constexpr int kOk = 0;
constexpr int kUsage = 2;

constexpr const char* kUsageText = R"(brownout — chaos testing for software that depends on LLM APIs

usage:
  brownout run [SCENARIO] [--client NAME]… [--seed N] [--time-scale X] [--report-dir DIR]
               [--json FILE] [--junit FILE] [--html FILE] [LIMIT…]
  brownout score DIR [--report-dir DIR] [--json FILE] [--junit FILE] [--html FILE]
  brownout sim [SCENARIO] [--seeds N] [--seed N] [--client NAME]… [--sweep KEY=V1,V2,…]…
               [--shard I/N] [--jobs N] [--metric PHASE.METRIC] [--json FILE] [--csv FILE]
               [--html FILE]
  brownout merge SHARD.json… [--json FILE] [--csv FILE] [--html FILE]
  brownout leaderboard [SCENARIO…] [--seeds N] [--client NAME]… [--time-scale X] [--out DIR]
                       [--max-time-scale X] [--min-time-scale X] [--parallel N] [--stacks DIR]
                       [--resume] [--list]
  brownout serve [SCENARIO] [--listen HOST:PORT] [--time-scale X] [--start-at DURATION | --epoch TIME]
                 [--ready-file FILE] [--threads N] [LIMIT…]
  brownout validate FILE…
  brownout init [DIR] [--stack node|python|gateway] [--force]
                                      a starter scenario and a client skeleton for your stack
  brownout schema                     the JSON Schema of scenario files (for editors)
  brownout scenarios [--dir DIR]

SCENARIO: a TOML file, or the name of one in the library (`brownout scenarios` lists them)
  brownout --version

server limits (wall time; override the scenario's [server] table):
  --max-connections N  --max-streams N  --max-header-bytes N  --journal-entries N
  --header-timeout DURATION  --idle-timeout DURATION  --shutdown-grace DURATION
serve: BROWNOUT_CONTROL_TOKEN=… requires that bearer token on /_brownout/ and then also
  serves the control API to non-loopback peers

exit codes: 0 success · 1 an expectation failed · 2 usage or scenario error
)";

struct Args {
    std::vector<std::string> items;
    std::size_t at = 0;
    bool done() const { return at >= items.size(); }
    const std::string& peek() const { return items[at]; }
    std::string next() { return items[at++]; }
    std::string value(const std::string& flag) {
        if (done()) throw brownout::Error(fmt::format("{} needs a value", flag));
        return next();
    }
};

double parse_number(const std::string& flag, const std::string& text) {
    try {
        std::size_t used = 0;
        double v = std::stod(text, &used);
        if (used == text.size() && v > 0) return v;
    } catch (const std::exception&) {
    }
    throw brownout::Error(fmt::format("{}: \"{}\" is not a positive number", flag, text));
}

// --epoch: unix seconds (1764446400) or UTC RFC 3339 (2025-11-29T20:00:00Z).
std::int64_t parse_epoch(const std::string& text) {
    std::int64_t seconds = 0;
    auto [ptr, err] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (err == std::errc() && ptr == text.data() + text.size()) return seconds;
    std::tm tm{};
    const char* end = ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (end != nullptr && std::string_view(end) == "Z")
        return static_cast<std::int64_t>(::timegm(&tm));
    throw brownout::Error(fmt::format(
        "--epoch: \"{}\" is neither unix seconds nor a UTC time like 2025-11-29T20:00:00Z", text));
}

// --max-streams N and the other server limits: true when `flag` is one (its value is taken).
bool limit_flag(Args& args, const std::string& flag, brownout::harness::LimitFlags& out) {
    if (!flag.starts_with("--")) return false;
    std::string name = flag.substr(2);
    std::replace(name.begin(), name.end(), '-', '_');
    const auto& names = brownout::mock::server_limit_names();
    if (std::find(names.begin(), names.end(), name) == names.end()) return false;
    out.emplace_back(name, args.value(flag));
    return true;
}

// A folder of data the package installs beside the binary: `env` if set; else the installed one
// (PREFIX/bin/brownout, PREFIX/share/brownout/NAME); else ./NAME; else the source tree's (a build).
std::filesystem::path data_dir(const char* name, const char* env) {
    if (const char* set = std::getenv(env)) return set;
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    std::vector<std::filesystem::path> candidates;
    if (!ec) candidates.push_back(exe.parent_path().parent_path() / "share/brownout" / name);
    candidates.emplace_back(name);
    candidates.push_back(std::filesystem::path(BROWNOUT_SOURCE_DIR) / name);
    for (const auto& dir : candidates) {
        if (std::filesystem::is_directory(dir)) return dir;
    }
    return name;
}

std::filesystem::path scenarios_dir() {
    return data_dir("scenarios", "BROWNOUT_SCENARIOS");
}

// A scenario argument: a file, or the name of one in the library ("deepseek-2025-05-08",
// "papers/sre-retry-budget").
std::string scenario_path(const std::string& arg) {
    if (std::filesystem::exists(arg)) return arg;
    for (const auto& candidate : {scenarios_dir() / arg, scenarios_dir() / (arg + ".toml")}) {
        if (std::filesystem::is_regular_file(candidate)) return candidate.string();
    }
    return arg;
}

int cmd_serve(Args& args) {
    brownout::harness::ServeOptions options;
    std::optional<std::string> file;
    while (!args.done()) {
        std::string a = args.next();
        if (a == "--listen") {
            std::string v = args.value(a);
            auto colon = v.rfind(':');
            if (colon == std::string::npos)
                throw brownout::Error(fmt::format("--listen: \"{}\" is not HOST:PORT", v));
            options.host = v.substr(0, colon);
            int port = -1;
            try {
                port = std::stoi(v.substr(colon + 1));
            } catch (const std::exception&) {
            }
            if (port < 0 || port > 65535)
                throw brownout::Error(fmt::format("--listen: bad port in \"{}\"", v));
            options.port = static_cast<unsigned short>(port);
        } else if (a == "--time-scale") {
            options.time_scale = parse_number(a, args.value(a));
        } else if (a == "--start-at") {
            std::string v = args.value(a);
            auto d = brownout::parse_duration(v);
            if (!d) throw brownout::Error(fmt::format("--start-at: \"{}\" is not a duration", v));
            options.start_at = *d;
        } else if (a == "--epoch") {
            options.epoch_unix = parse_epoch(args.value(a));
        } else if (a == "--ready-file") {
            options.ready_file = args.value(a);
        } else if (a == "--threads") {
            options.threads = static_cast<int>(parse_number(a, args.value(a)));
        } else if (limit_flag(args, a, options.limits)) {
        } else if (a.starts_with("--")) {
            throw brownout::Error(fmt::format("serve: unknown option {}", a));
        } else if (!file) {
            file = a;
        } else {
            throw brownout::Error("serve takes at most one scenario");
        }
    }
    if (const char* token = std::getenv("BROWNOUT_CONTROL_TOKEN")) options.control_token = token;
    auto scenario = file ? brownout::harness::load_scenario(scenario_path(*file))
                         : brownout::harness::default_serve_scenario();
    return brownout::harness::serve(scenario, options, std::cerr);
}

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) {
    g_stop = true;
}

int cmd_run(Args& args) {
    brownout::harness::RunCommand run;
    std::optional<std::string> file;
    while (!args.done()) {
        std::string a = args.next();
        if (a == "--client")
            run.clients.push_back(args.value(a));
        else if (a == "--seed")
            run.seed = static_cast<std::uint64_t>(parse_number(a, args.value(a)));
        else if (a == "--time-scale")
            run.time_scale = parse_number(a, args.value(a));
        else if (a == "--report-dir")
            run.report_dir = args.value(a);
        else if (a == "--json")
            run.json_file = args.value(a);
        else if (a == "--junit")
            run.junit_file = args.value(a);
        else if (a == "--html")
            run.html_file = args.value(a);
        else if (limit_flag(args, a, run.limits))
            continue;
        else if (a.starts_with("--"))
            throw brownout::Error(fmt::format("run: unknown option {}", a));
        else if (!file)
            file = a;
        else
            throw brownout::Error("run takes at most one scenario");
    }
    run.scenario_file =
        file ? scenario_path(*file) : (scenarios_dir() / "deepseek-2025-05-08.toml").string();
    run.progress = ::isatty(STDERR_FILENO) != 0;
    run.stop = &g_stop;
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
    return brownout::harness::run_command(run, std::cout, std::cerr);
}

int cmd_sim(Args& args) {
    brownout::harness::SimCommand sim;
    std::optional<std::string> file;
    while (!args.done()) {
        std::string a = args.next();
        if (a == "--seeds") {
            double n = parse_number(a, args.value(a));
            if (n < 1 || n > 100000 || n != std::floor(n))
                throw brownout::Error("sim: --seeds takes a whole number from 1 to 100000");
            sim.seeds = static_cast<int>(n);
        } else if (a == "--seed") {
            sim.seed = static_cast<std::uint64_t>(parse_number(a, args.value(a)));
        } else if (a == "--client") {
            sim.clients.push_back(args.value(a));
        } else if (a == "--sweep") {
            sim.sweep.push_back(brownout::harness::parse_sweep(args.value(a)));
        } else if (a == "--shard") {
            sim.shard = brownout::harness::parse_shard(args.value(a));
        } else if (a == "--jobs") {
            double n = parse_number(a, args.value(a));
            if (n < 1 || n > 256 || n != std::floor(n))
                throw brownout::Error("sim: --jobs takes a whole number from 1 to 256");
            sim.jobs = static_cast<int>(n);
        } else if (a == "--metric") {
            sim.metric = args.value(a);
        } else if (a == "--json") {
            sim.json_file = args.value(a);
        } else if (a == "--csv") {
            sim.csv_file = args.value(a);
        } else if (a == "--html") {
            sim.html_file = args.value(a);
        } else if (a.starts_with("--")) {
            throw brownout::Error(fmt::format("sim: unknown option {}", a));
        } else if (!file) {
            file = a;
        } else {
            throw brownout::Error("sim takes at most one scenario");
        }
    }
    sim.scenario_file =
        file ? scenario_path(*file) : (scenarios_dir() / "deepseek-2025-05-08.toml").string();
    return brownout::harness::sim_command(sim, std::cout, std::cerr);
}

int cmd_leaderboard(Args& args) {
    brownout::harness::LeaderboardCommand board;
    board.stacks_dir = data_dir("clients", "BROWNOUT_CLIENTS");
    board.parallel = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
    while (!args.done()) {
        std::string a = args.next();
        if (a == "--seeds") {
            double n = parse_number(a, args.value(a));
            if (n < 1 || n > 1000 || n != std::floor(n))
                throw brownout::Error("leaderboard: --seeds takes a whole number from 1 to 1000");
            board.seeds = static_cast<int>(n);
        } else if (a == "--client") {
            board.clients.push_back(args.value(a));
        } else if (a == "--time-scale") {
            board.time_scale = parse_number(a, args.value(a));
        } else if (a == "--max-time-scale") {
            board.max_time_scale = parse_number(a, args.value(a));
        } else if (a == "--min-time-scale") {
            board.min_time_scale = parse_number(a, args.value(a));
        } else if (a == "--out") {
            board.out_dir = args.value(a);
        } else if (a == "--parallel") {
            double n = parse_number(a, args.value(a));
            if (n < 1 || n > 64 || n != std::floor(n))
                throw brownout::Error("leaderboard: --parallel takes a whole number from 1 to 64");
            board.parallel = static_cast<int>(n);
        } else if (a == "--stacks") {
            board.stacks_dir = args.value(a);
        } else if (a == "--list") {
            board.list = true;
        } else if (a == "--resume") {
            board.resume = true;
        } else if (a.starts_with("--")) {
            throw brownout::Error(fmt::format("leaderboard: unknown option {}", a));
        } else {
            board.scenario_files.push_back(scenario_path(a));
        }
    }
    if (board.scenario_files.empty() && !board.list) {
        // The library's incident scenarios: every one with a fault on its timeline.
        for (const auto& e : brownout::harness::scenario_library(scenarios_dir())) {
            // Incidents, not the published results' simulations in papers/.
            if (!e.error.empty() || e.key.find('/') != std::string::npos) continue;
            auto windows =
                brownout::harness::phase_windows(brownout::harness::load_scenario(e.file));
            if (std::any_of(windows.begin(), windows.end(),
                            [](const auto& w) { return w.name == "incident"; }))
                board.scenario_files.push_back(e.file);
        }
    }
    board.stop = &g_stop;
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
    return brownout::harness::leaderboard_command(board, std::cout, std::cerr);
}

int cmd_score(Args& args) {
    brownout::harness::ScoreCommand score;
    while (!args.done()) {
        std::string a = args.next();
        if (a == "--report-dir")
            score.report_dir = args.value(a);
        else if (a == "--json")
            score.json_file = args.value(a);
        else if (a == "--junit")
            score.junit_file = args.value(a);
        else if (a == "--html")
            score.html_file = args.value(a);
        else if (a.starts_with("--"))
            throw brownout::Error(fmt::format("score: unknown option {}", a));
        else if (score.run_dir.empty())
            score.run_dir = a;
        else
            throw brownout::Error("score takes one run directory");
    }
    if (score.run_dir.empty()) throw brownout::Error("score needs the run's report directory");
    return brownout::harness::score_command(score, std::cout, std::cerr);
}

int cmd_merge(Args& args) {
    brownout::harness::MergeCommand merge;
    while (!args.done()) {
        std::string a = args.next();
        if (a == "--json")
            merge.json_file = args.value(a);
        else if (a == "--csv")
            merge.csv_file = args.value(a);
        else if (a == "--html")
            merge.html_file = args.value(a);
        else if (a.starts_with("--"))
            throw brownout::Error(fmt::format("merge: unknown option {}", a));
        else
            merge.inputs.push_back(a);
    }
    return brownout::harness::merge_command(merge, std::cout, std::cerr);
}

int cmd_validate(Args& args) {
    if (args.done()) throw brownout::Error("validate needs at least one file");
    int rc = kOk;
    while (!args.done()) {
        std::string file = args.next();
        try {
            auto s = brownout::harness::load_scenario(file);
            std::cout << fmt::format("{}: ok ({}, {} provider{})\n", file, s.name,
                                     s.providers.size(), s.providers.size() == 1 ? "" : "s");
        } catch (const brownout::Error& e) {
            std::cerr << e.what() << "\n";
            rc = kUsage;
        }
    }
    return rc;
}

int cmd_init(Args& args) {
    brownout::harness::InitCommand init;
    init.templates = data_dir("init", "BROWNOUT_INIT");
    init.schema = std::filesystem::absolute(scenarios_dir() / "brownout.schema.json");
    bool dir_given = false;
    while (!args.done()) {
        std::string a = args.next();
        if (a == "--stack")
            init.stack = args.value(a);
        else if (a == "--force")
            init.force = true;
        else if (a.starts_with("--"))
            throw brownout::Error(fmt::format("init: unknown option {}", a));
        else if (!dir_given) {
            init.dir = a;
            dir_given = true;
        } else {
            throw brownout::Error("init takes at most one directory");
        }
    }
    return brownout::harness::init_command(init, std::cout, std::cerr);
}

int cmd_schema(Args& args) {
    if (!args.done()) throw brownout::Error("schema takes no arguments");
    std::cout << brownout::harness::json_schema(
        brownout::harness::scenario_spec(),
        "https://github.com/brownout-dev/brownout/raw/main/scenarios/brownout.schema.json");
    return kOk;
}

int cmd_scenarios(Args& args) {
    std::filesystem::path dir = scenarios_dir();
    while (!args.done()) {
        std::string a = args.next();
        if (a == "--dir")
            dir = args.value(a);
        else
            throw brownout::Error(fmt::format("scenarios: unknown argument {}", a));
    }
    auto entries = brownout::harness::scenario_library(dir);
    if (entries.empty()) std::cout << fmt::format("no scenarios in {}\n", dir.string());
    for (const auto& e : entries) {
        if (e.error.empty())
            std::cout << fmt::format("{:<34} {}\n", e.key, e.title);
        else
            std::cout << fmt::format("{:<34} (invalid: {})\n", e.key, e.error);
    }
    return kOk;
}

// Sockets are file descriptors: take the hard limit, so that max_connections (10,000 by
// default) is what refuses connections, not a soft limit of 1,024.
void raise_file_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
}

}  // namespace

int main(int argc, char** argv) {
    // A stdio client that exits while brownout writes it a request is an EPIPE for the stack to
    // report, not a SIGPIPE that kills the run (harness/process.cpp gives children the default).
    std::signal(SIGPIPE, SIG_IGN);
    Args args;
    for (int i = 1; i < argc; ++i) args.items.emplace_back(argv[i]);
    if (args.done() || args.peek() == "--help" || args.peek() == "-h" || args.peek() == "help") {
        std::cout << kUsageText;
        return args.done() ? kUsage : kOk;
    }
    std::string command = args.next();
    // `brownout run --help` and the like: the usage, which covers every command.
    if (std::any_of(args.items.begin(), args.items.end(),
                    [](const std::string& a) { return a == "--help" || a == "-h"; })) {
        std::cout << kUsageText;
        return kOk;
    }
    try {
        if (command == "--version") {
            std::cout << "brownout " << BROWNOUT_VERSION << " (allocator: " << allocator_name()
                      << ")\n";
            return kOk;
        }
        if (command == "serve" || command == "run" || command == "leaderboard") raise_file_limit();
        if (command == "serve") return cmd_serve(args);
        if (command == "validate") return cmd_validate(args);
        if (command == "scenarios") return cmd_scenarios(args);
        if (command == "run") return cmd_run(args);
        if (command == "sim") return cmd_sim(args);
        if (command == "merge") return cmd_merge(args);
        if (command == "leaderboard") return cmd_leaderboard(args);
        if (command == "score") return cmd_score(args);
        if (command == "schema") return cmd_schema(args);
        if (command == "init") return cmd_init(args);
        std::cerr << fmt::format("brownout: unknown command \"{}\"\n\n{}", command, kUsageText);
        return kUsage;
    } catch (const brownout::Error& e) {
        std::cerr << "brownout " << command << ": " << e.what() << "\n";
        return kUsage;
    } catch (const std::exception& e) {
        std::cerr << "brownout " << command << ": " << e.what() << "\n";
        return kUsage;
    }
}
