// The run log (harness/run_log.h) read back: a finished run scores from its files exactly as it
// scored when it ran; a run cut off mid-line is partial, skips the cut line, and is scored on
// what it reached. In virtual time, so it runs in every build (the ASan pass included).

#include "harness/run_log.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/text.h"
#include "harness/report.h"
#include "harness/score.h"
#include "harness/serve.h"
#include "harness/workload.h"

using namespace brownout;
using namespace brownout::harness;
namespace fs = std::filesystem;

namespace {

const char* kLoggedScenario = R"(
[scenario]
name = "logged"
duration = "30m"
seed = 11
[workload]
rate = "1200/h"
deadline = "30s"
[[providers]]
id = "primary"
latency = { ttft = "300ms", tokens_per_second = 100 }
  [[providers.phases]]
  start = "10m"
  end = "20m"
  fault = "busy"
  rate = 0.5
[[providers]]
id = "fallback"
dialect = "anthropic"
[[clients]]
name = "failover"
providers = ["primary", "fallback"]
[[clients]]
name = "naive"
policy = "naive"
providers = ["primary"]
)";

std::vector<double> scores(const RunResult& run) {
    std::vector<double> out;
    auto windows = run_windows(run);
    for (const auto& s : run.stacks) out.push_back(score_stack(run.scenario, s, windows).score);
    return out;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

TEST_CASE("a run log reads back to the run it recorded", "[run_log]") {
    auto dir = fs::temp_directory_path() / fmt::format("brownout-run-log-{}", ::getpid());
    fs::remove_all(dir);
    RunOptions options;
    options.virtual_time = true;
    options.log_dir = (dir / "run").string();
    options.scenario_text = kLoggedScenario;
    RunResult ran = run_scenario(load_scenario_text(kLoggedScenario, "logged.toml"), options);

    SECTION("finished: the same users, attempts and scores") {
        RunResult read = read_run_log(dir / "run");
        CHECK_FALSE(read.partial);
        REQUIRE(read.stacks.size() == ran.stacks.size());
        for (std::size_t i = 0; i < ran.stacks.size(); ++i) {
            CHECK(read.stacks[i].client.name == ran.stacks[i].client.name);
            CHECK(read.stacks[i].users.size() == ran.stacks[i].users.size());
            CHECK(read.stacks[i].attempts.size() == ran.stacks[i].attempts.size());
        }
        CHECK(scores(read) == scores(ran));
    }

    SECTION("cut off mid-line: partial, the cut line skipped, scored on what it reached") {
        auto cut = dir / "cut";
        fs::create_directories(cut);
        for (const char* f : {"scenario.toml", "attempts.jsonl"})
            fs::copy_file(dir / "run" / f, cut / f);
        // Half the users, then half a line, as a SIGKILL leaves them; run.json not finished.
        std::string users = slurp(dir / "run" / "users.jsonl");
        std::size_t half = users.find('\n', users.size() / 2) + 1;
        write_file_atomically((cut / "users.jsonl").string(),
                              users.substr(0, half) + R"({"client":"naive","id":)");
        std::string meta = slurp(dir / "run" / "run.json");
        write_file_atomically((cut / "run.json").string(),
                              replace_all(meta, "\"finished\":true", "\"finished\":false"));
        RunResult read = read_run_log(cut);
        CHECK(read.partial);
        REQUIRE(read.reached.has_value());
        CHECK(*read.reached < ran.scenario.duration);
        std::size_t users_read = 0, users_ran = 0;
        for (const auto& s : read.stacks) users_read += s.users.size();
        for (const auto& s : ran.stacks) users_ran += s.users.size();
        CHECK(users_read > 0);
        CHECK(users_read < users_ran);
        for (double s : scores(read)) CHECK((s >= 0 && s <= 100));
    }

    SECTION("attempts at a provider the scenario lacks: left out, and said") {
        auto other = dir / "other";
        fs::create_directories(other);
        for (const char* f : {"scenario.toml", "users.jsonl", "run.json"})
            fs::copy_file(dir / "run" / f, other / f);
        std::string attempts = slurp(dir / "run" / "attempts.jsonl");
        write_file_atomically(
            (other / "attempts.jsonl").string(),
            replace_all(attempts, "\"provider\":\"fallback\"", "\"provider\":\"elsewhere\""));
        RunResult read = read_run_log(other);
        const auto& failover = read.stacks.front();
        REQUIRE(failover.client.name == "failover");
        CHECK(failover.attempts.size() < ran.stacks.front().attempts.size());
        CHECK(std::any_of(failover.notes.begin(), failover.notes.end(), [](const auto& n) {
            return n.find("provider \"elsewhere\"") != std::string::npos;
        }));
        for (double s : scores(read)) CHECK((s >= 0 && s <= 100));
    }
    fs::remove_all(dir);
}

TEST_CASE("every answer verdict is written as one word and read back as itself", "[run_log]") {
    for (auto v : {AnswerVerdict::none, AnswerVerdict::ok, AnswerVerdict::missing_tag,
                   AnswerVerdict::wrong_request, AnswerVerdict::image_ignored,
                   AnswerVerdict::corrupted, AnswerVerdict::stale}) {
        INFO(to_string(v));
        CHECK(answer_verdict_from(to_string(v)) == v);
    }
    CHECK(to_string(AnswerVerdict::stale) == "stale");
    CHECK(to_string(AnswerVerdict::none).empty());
    CHECK_THROWS_WITH(answer_verdict_from("fine"), "unknown verdict \"fine\"");
}

TEST_CASE("a stack's notes and late answers are read back as the run had them", "[run_log]") {
    // The leaderboard decides a rerun from a stack's late answers; a run it reads back
    // (--resume) must decide as it did.
    auto dir = fs::temp_directory_path() / fmt::format("brownout-run-log-late-{}", ::getpid());
    fs::remove_all(dir);
    Scenario scenario = load_scenario_text(kLoggedScenario, "logged.toml");
    RunResult run;
    run.scenario = scenario;
    {
        RunLog log(dir, kLoggedScenario, scenario);
        for (const auto& c : scenario.clients) run.stacks.push_back(StackRun{c, {}, {}, {}, {}});
        run.stacks[1].notes = {"exited with code 3"};
        run.stacks[1].late_answers = {std::chrono::milliseconds(125'500), std::chrono::seconds(90)};
        log.finish(run);
    }
    RunResult read = read_run_log(dir);
    REQUIRE(read.stacks.size() == 2);
    CHECK(read.stacks[0].late_answers.empty());
    CHECK(read.stacks[1].notes == run.stacks[1].notes);
    CHECK(read.stacks[1].late_answers == run.stacks[1].late_answers);
    fs::remove_all(dir);
}

TEST_CASE("an external stack's users keep their digest, from which the report finds their lag",
          "[run_log][lag]") {
    auto dir = fs::temp_directory_path() / fmt::format("brownout-run-log-digest-{}", ::getpid());
    fs::remove_all(dir);
    Scenario scenario = load_scenario_text(kLoggedScenario, "logged.toml");
    UserRecord external;
    external.id = 1;
    external.outcome = UserRecord::Outcome::answered;
    external.digest = 0xc868d6829f283ccbULL;
    UserRecord builtin = external;
    builtin.digest = 0;
    {
        RunLog log(dir, kLoggedScenario, scenario);
        log.user("failover", external);
        log.user("naive", builtin);
        RunResult run;
        run.scenario = scenario;
        for (const auto& c : scenario.clients) run.stacks.push_back(StackRun{c, {}, {}, {}, {}});
        log.finish(run);
    }
    CHECK_THAT(user_to_json("failover", external),
               Catch::EndsWith(R"(,"digest":"c868d6829f283ccb"})"));
    // A built-in stack's line is as it was before digests were written.
    CHECK_THAT(user_to_json("naive", builtin), !Catch::Contains("digest"));
    RunResult read = read_run_log(dir);
    REQUIRE(read.stacks.size() == 2);
    REQUIRE(read.stacks[0].users.size() == 1);
    REQUIRE(read.stacks[1].users.size() == 1);
    CHECK(read.stacks[0].users[0].digest == external.digest);
    CHECK(read.stacks[1].users[0].digest == 0);
    fs::remove_all(dir);
}

TEST_CASE("a killed run's external users that never ended get their digest from the workload",
          "[run_log][lag]") {
    // What was unanswered when the run died is what the lag is about: a stuck stack.
    const std::string text = std::string(kLoggedScenario) + R"(
[[clients]]
name = "program"
kind = "stdio"
command = "true"
providers = ["primary"]
)";
    auto dir = fs::temp_directory_path() / fmt::format("brownout-run-log-killed-{}", ::getpid());
    fs::remove_all(dir);
    Scenario scenario = load_scenario_text(text, "logged.toml");
    auto workload = generate_workload(scenario.workload, scenario.duration, scenario.seed);
    REQUIRE(workload.size() > 50);
    {
        RunLog log(dir, text, scenario);  // never finished: as a SIGKILL leaves it
        UserRecord first;
        first.id = workload[0].id;
        first.arrival = workload[0].arrival;
        first.outcome = UserRecord::Outcome::answered;
        first.finished = workload[40].arrival;  // the run reached here
        first.digest = request_digest(workload[0]);
        log.user("program", first);
        log.user("naive", first);
    }
    RunResult read = read_run_log(dir);
    REQUIRE(read.partial);
    REQUIRE(read.stacks.size() == 3);
    const auto& program = read.stacks[2];
    REQUIRE(program.users.size() > 1);
    for (const auto& u : program.users) {
        auto it = std::find_if(workload.begin(), workload.end(),
                               [&](const UserRequest& r) { return r.id == u.id; });
        REQUIRE(it != workload.end());
        CHECK(u.digest == request_digest(*it));
    }
    // A built-in stack's users carry none, but what its log said.
    for (const auto& u : read.stacks[1].users)
        CHECK(u.digest == (u.id == workload[0].id ? request_digest(workload[0]) : 0));
    fs::remove_all(dir);
}
