#include "harness/run_log.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "core/error.h"
#include "core/text.h"
#include "harness/json_exact.h"
#include "harness/serve.h"
#include "harness/workload.h"
#include "mockprovider/journal.h"

namespace brownout::harness {
namespace json = boost::json;

namespace {

std::FILE* open_append(const std::filesystem::path& file) {
    std::FILE* f = std::fopen(file.c_str(), "ae");
    if (f == nullptr)
        throw Error(
            fmt::format("cannot open {} to append: {}", file.string(), std::strerror(errno)));
    return f;
}

std::int64_t ns(Duration d) {
    return static_cast<std::int64_t>(d.count());
}

UserRecord::Outcome outcome_from(std::string_view s) {
    if (s == "answered") return UserRecord::Outcome::answered;
    if (s == "failed") return UserRecord::Outcome::failed;
    if (s == "hung") return UserRecord::Outcome::hung;
    return UserRecord::Outcome::unfinished;
}

RequestKind kind_of(std::string_view s) {
    for (auto k : {RequestKind::chat, RequestKind::stream, RequestKind::vision, RequestKind::tools})
        if (to_string(k) == s) return k;
    throw Error(fmt::format("unknown request kind \"{}\"", s));
}

Duration from_ms(const json::value& v) {
    return Duration(std::llround(v.to_number<double>() * 1e6));
}

mock::Attempt attempt_from(const json::object& o) {
    mock::Attempt a;
    a.seq = o.at("seq").to_number<std::uint64_t>();
    a.provider = json::value_to<std::string>(o.at("provider"));
    a.connection = o.at("connection").to_number<std::uint64_t>();
    a.at = from_ms(o.at("at_ms"));
    a.duration = from_ms(o.at("duration_ms"));
    a.method = json::value_to<std::string>(o.at("method"));
    a.path = json::value_to<std::string>(o.at("path"));
    a.status = o.at("status").to_number<int>();
    a.model = json::value_to<std::string>(o.at("model"));
    a.stream = o.at("stream").as_bool();
    a.prompt_tokens = o.at("prompt_tokens").to_number<int>();
    a.completion_tokens = o.at("completion_tokens").to_number<int>();
    a.retry_count = o.at("retry_count").is_null() ? -1 : o.at("retry_count").to_number<int>();
    a.fault = json::value_to<std::string>(o.at("fault"));
    a.outcome = json::value_to<std::string>(o.at("outcome"));
    a.request_id = json::value_to<std::string>(o.at("request_id"));
    a.digest = std::stoull(json::value_to<std::string>(o.at("digest")), nullptr, 16);
    a.retry_after = from_ms(o.at("retry_after_ms"));
    return a;
}

UserRecord user_from(const json::object& o) {
    UserRecord u;
    u.id = o.at("id").to_number<std::uint64_t>();
    u.arrival = Duration(o.at("arrival_ns").to_number<std::int64_t>());
    u.kind = kind_of(o.at("kind").as_string());
    u.outcome = outcome_from(o.at("outcome").as_string());
    u.finished = Duration(o.at("finished_ns").to_number<std::int64_t>());
    u.verdict = answer_verdict_from(o.at("verdict").as_string());
    u.outdated_by = Duration(o.at("outdated_by_ns").to_number<std::int64_t>());
    u.attempts = o.at("attempts").to_number<int>();
    u.provider = o.at("provider").to_number<int>();
    if (o.contains("digest"))  // external stacks' users, since 2026-12-02
        u.digest = std::stoull(json::value_to<std::string>(o.at("digest")), nullptr, 16);
    return u;
}

// Every complete line of a JSON-lines file, parsed; a last line cut by a crash is skipped, any
// other bad line is an error.
template <typename Each>
void each_line(const std::filesystem::path& file, Each&& each) {
    if (!std::filesystem::exists(file)) return;
    std::string text = read_text_file(file.string());
    std::size_t line_no = 0;
    for (std::size_t at = 0; at < text.size();) {
        std::size_t end = text.find('\n', at);
        ++line_no;
        if (end == std::string::npos) break;  // cut off mid-line: never flushed whole
        std::string_view line(text.data() + at, end - at);
        at = end + 1;
        if (line.empty()) continue;
        try {
            auto v = parse_json_exact(line, file.string());
            each(v.as_object());
        } catch (const std::exception& e) {
            throw Error(fmt::format("{}:{}: {}", file.string(), line_no, e.what()));
        }
    }
}

}  // namespace

std::string_view to_string(UserRecord::Outcome o) {
    switch (o) {
        case UserRecord::Outcome::answered:
            return "answered";
        case UserRecord::Outcome::failed:
            return "failed";
        case UserRecord::Outcome::hung:
            return "hung";
        case UserRecord::Outcome::unfinished:
            return "unfinished";
    }
    return "unfinished";
}

std::string user_to_json(const std::string& client, const UserRecord& u) {
    auto line = fmt::format(
        "{{\"client\":{},\"id\":{},\"arrival_ns\":{},\"kind\":\"{}\",\"outcome\":\"{}\","
        "\"finished_ns\":{},\"verdict\":{},\"outdated_by_ns\":{},\"attempts\":{},\"provider\":{}",
        json_string(client), u.id, ns(u.arrival), to_string(u.kind), to_string(u.outcome),
        ns(u.finished), json_string(to_string(u.verdict)), ns(u.outdated_by), u.attempts,
        u.provider);
    if (u.digest != 0) line += fmt::format(",\"digest\":\"{}\"", to_hex(u.digest));
    return line + "}";
}

RunLog::RunLog(const std::filesystem::path& dir, const std::string& scenario_text,
               const Scenario& s)
    : dir_(dir) {
    try {
        std::filesystem::create_directories(dir);
        // A directory used before: nothing of the old run may pass for this one's (a CI job
        // killed mid-run must not upload the last run's passing junit.xml).
        for (const char* old :
             {"attempts.jsonl", "users.jsonl", "report.json", "junit.xml", "report.html"})
            std::filesystem::remove(dir / old);
    } catch (const std::filesystem::filesystem_error& e) {
        throw Error(
            fmt::format("cannot write the reports in {}: {}", dir.string(), e.code().message()));
    }
    write_file_atomically((dir / "scenario.toml").string(), scenario_text);
    std::vector<std::string> clients;
    for (const auto& c : s.clients) clients.push_back(json_string(c.name));
    meta_ = fmt::format(
        "{{\"schema_version\":1,\"scenario\":{},\"seed\":{},\"time_scale\":{},"
        "\"clients\":[{}]",
        json_string(s.file), s.seed, s.time_scale, fmt::join(clients, ","));
    write_file_atomically((dir / "run.json").string(), meta_ + ",\"finished\":false}\n");
    attempts_ = open_append(dir / "attempts.jsonl");
    users_ = open_append(dir / "users.jsonl");
}

RunLog::~RunLog() {
    if (attempts_ != nullptr) std::fclose(attempts_);
    if (users_ != nullptr) std::fclose(users_);
}

void RunLog::attempt(const std::string& client, const mock::Attempt& a) {
    std::string line = mock::attempt_to_json(a);
    line =
        fmt::format("{{\"client\":{},{}\n", json_string(client), std::string_view(line).substr(1));
    std::lock_guard lock(mutex_);
    if (std::fwrite(line.data(), 1, line.size(), attempts_) != line.size()) lost_ = true;
}

void RunLog::user(const std::string& client, const UserRecord& u) {
    std::string line = user_to_json(client, u) + "\n";
    std::lock_guard lock(mutex_);
    if (std::fwrite(line.data(), 1, line.size(), users_) != line.size()) lost_ = true;
}

void RunLog::flush() {
    std::lock_guard lock(mutex_);
    if (std::fflush(attempts_) != 0 || std::fflush(users_) != 0) lost_ = true;
}

void RunLog::finish(const RunResult& run) {
    flush();
    std::string notes, late;
    for (const auto& s : run.stacks) {
        std::vector<std::string> each;
        for (const auto& n : s.notes) each.push_back(json_string(n));
        notes += fmt::format("{}{}:[{}]", notes.empty() ? "" : ",", json_string(s.client.name),
                             fmt::join(each, ","));
        if (s.late_answers.empty()) continue;
        std::vector<std::int64_t> each_ns;
        for (auto d : s.late_answers) each_ns.push_back(ns(d));
        late += fmt::format("{}{}:[{}]", late.empty() ? "" : ",", json_string(s.client.name),
                            fmt::join(each_ns, ","));
    }
    write_file_atomically(
        (dir_ / "run.json").string(),
        fmt::format("{},\"finished\":true,\"partial\":{},\"wall_seconds\":{},"
                    "\"log_complete\":{},\"notes\":{{{}}},\"late_answers_ns\":{{{}}}}}\n",
                    meta_, run.partial, run.wall_seconds, !lost_, notes, late));
}

RunResult read_run_log(const std::filesystem::path& dir) {
    auto meta_file = dir / "run.json";
    if (!std::filesystem::exists(meta_file))
        throw Error(
            fmt::format("{}: not a run directory (no run.json: was it written by "
                        "brownout run 2026-11-30 or later?)",
                        dir.string()));
    auto meta =
        parse_json_exact(read_text_file(meta_file.string()), meta_file.string()).as_object();
    RunResult run;
    run.scenario = load_scenario((dir / "scenario.toml").string());
    RunOptions options;
    options.seed = meta.at("seed").to_number<std::uint64_t>();
    options.time_scale = meta.at("time_scale").to_number<double>();
    for (const auto& c : meta.at("clients").as_array())
        options.clients.push_back(json::value_to<std::string>(c));
    apply_run_options(run.scenario, options);
    run.scenario.file = json::value_to<std::string>(meta.at("scenario"));
    // A run that did not finish, was stopped, or could not write every line (a full disk) is
    // scored on what is there, and says partial.
    run.partial = !meta.at("finished").as_bool() ||
                  (meta.contains("partial") && meta.at("partial").as_bool()) ||
                  (meta.contains("log_complete") && !meta.at("log_complete").as_bool());
    if (meta.contains("wall_seconds"))
        run.wall_seconds = meta.at("wall_seconds").to_number<double>();

    std::map<std::string, std::size_t> index;
    for (const auto& c : run.scenario.clients) {
        index[c.name] = run.stacks.size();
        run.stacks.push_back(StackRun{c, {}, {}, {}});
    }
    auto stack_of = [&](const json::object& o) -> StackRun* {
        auto it = index.find(json::value_to<std::string>(o.at("client")));
        return it == index.end() ? nullptr : &run.stacks[it->second];
    };
    // Attempts at a provider the directory's scenario does not have (a log from another
    // scenario): left out of scoring, and said, by stack and provider.
    std::map<std::pair<StackRun*, std::string>, std::size_t> unknown;
    each_line(dir / "attempts.jsonl", [&](const json::object& o) {
        auto* s = stack_of(o);
        if (s == nullptr) return;
        auto a = attempt_from(o);
        if (std::none_of(run.scenario.providers.begin(), run.scenario.providers.end(),
                         [&](const auto& p) { return p.id == a.provider; })) {
            ++unknown[{s, a.provider}];
            return;
        }
        s->attempts.push_back(record_of(run.scenario, a));
    });
    each_line(dir / "users.jsonl", [&](const json::object& o) {
        if (auto* s = stack_of(o)) s->users.push_back(user_from(o));
    });
    for (const auto& [where, count] : unknown) {
        where.first->notes.push_back(fmt::format(
            "{} attempt lines in attempts.jsonl name provider \"{}\", which the scenario does not "
            "have: left out of the scores",
            count, where.second));
    }
    for (auto& s : run.stacks) {
        sort_by_seq(s.attempts);
        std::sort(s.users.begin(), s.users.end(),
                  [](const auto& a, const auto& b) { return a.id < b.id; });
    }
    if (meta.contains("notes")) {
        for (const auto& [client, notes] : meta.at("notes").as_object()) {
            auto it = index.find(std::string(client));
            if (it == index.end()) continue;
            for (const auto& n : notes.as_array())
                run.stacks[it->second].notes.push_back(json::value_to<std::string>(n));
        }
    }
    if (meta.contains("late_answers_ns")) {  // written since 2026-12-01
        for (const auto& [client, late] : meta.at("late_answers_ns").as_object()) {
            auto it = index.find(std::string(client));
            if (it == index.end()) continue;
            for (const auto& d : late.as_array())
                run.stacks[it->second].late_answers.emplace_back(d.to_number<std::int64_t>());
        }
    }
    if (run.partial) {
        // The users who never wrote an end are in the workload (the seed makes it again): one
        // whose deadline passed before the run stopped counts as a failure, as in the run.
        auto workload =
            generate_workload(run.scenario.workload, run.scenario.duration, run.scenario.seed);
        for (auto& s : run.stacks) {
            std::vector<UserRecord> all(workload.size());
            for (std::size_t i = 0; i < workload.size(); ++i) {
                all[i].id = workload[i].id;
                all[i].arrival = workload[i].arrival;
                all[i].kind = workload[i].kind;
                if (s.client.external()) all[i].digest = request_digest(workload[i]);
            }
            for (auto& u : s.users) {
                auto it = std::lower_bound(
                    all.begin(), all.end(), u.id,
                    [](const UserRecord& a, std::uint64_t id) { return a.id < id; });
                if (it != all.end() && it->id == u.id) *it = u;
            }
            s.users = std::move(all);
        }
        trim_partial(run);
    }
    return run;
}

void trim_partial(RunResult& run) {
    // Where the run got to: the earlier of the two records' last lines (after a kill, one file
    // may have been flushed a second later than the other).
    Duration users_end{}, attempts_end{};
    bool any_attempt = false;
    for (const auto& s : run.stacks) {
        for (const auto& u : s.users)
            if (u.outcome != UserRecord::Outcome::unfinished)
                users_end = std::max(users_end, u.finished);
        for (const auto& a : s.attempts) {
            attempts_end = std::max(attempts_end, a.at + a.duration);
            any_attempt = true;
        }
    }
    Duration reached = any_attempt ? std::min(users_end, attempts_end) : users_end;
    reached = std::chrono::floor<std::chrono::seconds>(reached);
    if (run.reached && *run.reached < reached) reached = *run.reached;
    run.reached = reached;
    const Duration deadline = run.scenario.workload.deadline;
    for (auto& s : run.stacks) {
        std::erase_if(s.users, [&](const UserRecord& u) {
            if (u.outcome != UserRecord::Outcome::unfinished) return u.finished > reached;
            // Unanswered when the run stopped: a failure if its deadline had passed by then,
            // unknown (left out) if not.
            return u.arrival + deadline > reached;
        });
        std::erase_if(s.attempts, [&](const AttemptRecord& a) { return a.at >= reached; });
    }
}

}  // namespace brownout::harness
