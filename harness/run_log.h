#pragma once
// A run's record on disk as it goes, so that a run killed with SIGKILL, or a machine that dies,
// can still be scored (`brownout score DIR`) up to its last flushed line:
//
//   DIR/scenario.toml   the scenario as run (a copy, written first)
//   DIR/run.json        seed, time scale, clients; rewritten with "finished" at the end
//   DIR/attempts.jsonl  every attempt every stack's fleet journaled, as it was journaled
//   DIR/users.jsonl     every user request, when it ended: outcome, verdict, times
//
// Lines are appended and flushed about once a second (and at the end); a line cut by a crash
// is skipped when the files are read back. Times are integer nanoseconds of scenario time, so a
// run scored from its files gives the numbers the run printed.

#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "harness/run.h"

namespace brownout::harness {

class RunLog {
public:
    // Creates DIR and writes scenario.toml and run.json. Throws brownout::Error.
    RunLog(const std::filesystem::path& dir, const std::string& scenario_text,
           const Scenario& scenario);
    ~RunLog();
    RunLog(const RunLog&) = delete;
    RunLog& operator=(const RunLog&) = delete;

    void attempt(const std::string& client, const mock::Attempt& a);
    void user(const std::string& client, const UserRecord& u);
    void flush();
    // Flushes and marks the run finished (or interrupted) in run.json, with each stack's notes.
    void finish(const RunResult& run);

private:
    std::filesystem::path dir_;
    std::string meta_;  // run.json's fields before "finished"
    std::mutex mutex_;
    std::FILE* attempts_ = nullptr;
    std::FILE* users_ = nullptr;
    bool lost_ = false;  // a line could not be written (a full disk): run.json says so
};

std::string user_to_json(const std::string& client, const UserRecord& u);
std::string_view to_string(UserRecord::Outcome o);

// What a run directory holds, read back: the scenario with the run's seed, time scale and
// clients; each stack's users and attempts. A run that did not finish is partial, and scored on
// the users whose end was written. Throws brownout::Error naming the file and line.
RunResult read_run_log(const std::filesystem::path& dir);

// A run that did not finish, made fit to score: it ends where both records reached; a user
// unanswered by then is a failure if its deadline had passed, else left out (its end is
// unknown); what came after is dropped.
void trim_partial(RunResult& run);

}  // namespace brownout::harness
