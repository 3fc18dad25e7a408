#pragma once
// `brownout run`: every client stack against its own fresh fleet, concurrently, on one shared
// scenario clock; the workload driven through each; every answer verified. Scoring and reports
// are separate (score.h, report.h) and read only what this records.

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "harness/scenario.h"
#include "mockprovider/journal.h"

namespace brownout::harness {

// The verdict on the answer a user got: wire::verify_answer's, or stale (the answer to the same
// question from an earlier hour). `none` for a user not answered.
enum class AnswerVerdict : std::uint8_t {
    none,
    ok,
    missing_tag,
    wrong_request,
    image_ignored,
    corrupted,
    stale
};
// As report files and the run log spell it ("" for none).
std::string_view to_string(AnswerVerdict v);
// Throws brownout::Error for a word that is not a verdict.
AnswerVerdict answer_verdict_from(std::string_view text);

struct UserRecord {
    std::uint64_t id = 0;
    Duration arrival{};
    Duration finished{};  // scenario time the stack gave its answer or error
    Duration
        outdated_by{};  // stale: how long the answer had been out of date when the request arrived
    // An external stack's request's content digest, as its attempts carry it (0 for built-in
    // stacks): how the report finds when the request first reached a provider (stack_lag()).
    std::uint64_t digest = 0;
    int attempts = 0;
    // Index into the stack's providers that answered; -1: none did, kFromCache: the stack's cache.
    static constexpr int kFromCache = -2;
    int provider = -1;
    RequestKind kind = RequestKind::chat;
    enum class Outcome : std::uint8_t {
        answered,
        failed,
        hung,
        unfinished
    } outcome = Outcome::unfinished;
    AnswerVerdict verdict = AnswerVerdict::none;
};
// The byte-sized fields last: a long run keeps one a request.
static_assert(sizeof(UserRecord) <= 56);

// An attempt as scoring reads it: the journal's record (mock::Attempt) without its text
// fields, which the run log keeps (attempts.jsonl). 88 bytes against the journal's 296 and its
// strings: a long run keeps one per attempt.
struct AttemptRecord {
    std::uint64_t seq = 0;
    std::uint64_t digest = 0;    // the request's content digest: retries of one request share it
    Duration at{};               // scenario time the request was read
    Duration duration{};         // scenario time until the answer ended
    Duration retry_after{};      // the Retry-After the answer carried, 0 if none
    std::uint32_t provider = 0;  // its place in the scenario's providers (Scenario::providers)
    int status = 0;              // 0 when no HTTP status was sent
    int prompt_tokens = 0;
    int completion_tokens = 0;
};
// A long run keeps one an attempt: numbers only (the provider by its place, not its id).
static_assert(sizeof(AttemptRecord) == 56);
// Throws brownout::Error when the attempt's provider is not one of the scenario's.
AttemptRecord record_of(const Scenario& s, const mock::Attempt& a);
// Puts a stack's attempts in the order the journal keeps: by seq, the order they were read (ties
// in the order given). They are journaled in the order they ended.
void sort_by_seq(std::deque<AttemptRecord>& attempts);

struct StackRun {
    ClientSpec client;
    std::vector<UserRecord> users;
    std::deque<AttemptRecord> attempts;  // every attempt its fleet journaled, in seq order
    std::vector<std::string>
        notes;  // what happened to an external client (exits, garbage, readiness)
    // A stdio client that answered requests after they were counted hung fell behind: each such
    // answer's time after its request's arrival (scenario time), in the order they came. A
    // machine too busy for the time scale does this; so does a stack slow in scenario time.
    std::vector<Duration> late_answers;
};

struct RunOptions {
    std::optional<double> time_scale;
    std::optional<std::uint64_t> seed;
    std::vector<std::string> clients;  // empty: all
    // The simulator: built-in stacks in virtual time, in process, no sockets (external stacks
    // are left out with a note).
    bool virtual_time = false;
    // Virtual time only: the stacks run one after another on the calling thread (each has its
    // own scheduler, so nothing else changes), for a caller that runs several runs at once; they
    // then also share the thread's table of expected answers (expected_digests()). Not with a
    // stop flag, progress or a log, which want a thread of their own: side by side then.
    bool stacks_in_turn = false;
    std::atomic<bool>* stop =
        nullptr;  // set from a signal handler: end early, keep what was measured
    // Called about once a second from the main thread with the scenario time and per-stack
    // progress (requests done, good answers).
    std::function<void(Duration, const std::vector<std::pair<std::size_t, std::size_t>>&)> progress;
    // Where to write the run as it goes (harness/run_log.h), so that a run killed outright can
    // still be scored: empty for none. `scenario_text` is the scenario file's text, kept there.
    std::string log_dir;
    std::string scenario_text;
};

struct RunResult {
    Scenario scenario;
    std::vector<StackRun> stacks;
    bool partial = false;
    // A partial run: the scenario time it reached (the windows it is scored on end there).
    std::optional<Duration> reached;
    double wall_seconds = 0;
};

// The run's seed (every provider's seed follows it), time scale and choice of clients applied
// to the scenario; throws brownout::Error for a client the scenario does not have.
void apply_run_options(Scenario& scenario, const RunOptions& options);

RunResult run_scenario(Scenario scenario, const RunOptions& options);

// Notes a run writes on a stack that a reader (the leaderboard) tells apart: each is made here
// alone, so the reader compares whole notes and never searches their wording.
std::string warped_clock_note(const std::string& kind, double time_scale);
std::string late_answers_note(const std::vector<Duration>& late);
// The mock's timed sends that went out late (mock::metric::send_lateness) are counted past one of
// the metric's bounds: for a limit in scenario time, the largest bound within it in wall time at
// `clock`'s scale (the smallest when none is).
struct LateSendsBound {
    std::size_t index = 0;  // into mock::Histogram::kBounds
    Duration scenario{};    // that bound in scenario time, to the microsecond
};
LateSendsBound late_sends_bound(Duration limit, const Clock& clock);
// `late` of `sends` went out more than `bound` (scenario time) late.
std::string late_sends_note(std::uint64_t late, std::uint64_t sends, Duration bound);

// The verdict on one answer: ok, or what is wrong with it (stale: an answer to the same question
// from an earlier hour; `outdated_by` then says since when it had been out of date).
struct Judgement {
    AnswerVerdict verdict = AnswerVerdict::none;
    Duration outdated_by{};
};
Judgement judge_answer(const UserRequest& request, const std::string& text);
// The same with the request's digests already made (conversation_digests()).
Judgement judge_answer(const UserRequest& request, const wire::ConversationDigest& digest,
                       const std::string& text);

}  // namespace brownout::harness
