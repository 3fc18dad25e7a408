#include "harness/run.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "core/keyed.h"
#include "core/real_scheduler.h"
#include "core/text.h"
#include "harness/inprocess_transport.h"
#include "harness/outcome.h"
#include "harness/process.h"
#include "harness/run_log.h"
#include "harness/scenario_clock.h"
#include "harness/stacks/stack.h"
#include "harness/transport.h"
#include "mockprovider/server.h"
#include "wire/answer.h"

namespace brownout::harness {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr std::pair<AnswerVerdict, std::string_view> kVerdicts[] = {
    {AnswerVerdict::none, ""},
    {AnswerVerdict::ok, "ok"},
    {AnswerVerdict::missing_tag, "missing_tag"},
    {AnswerVerdict::wrong_request, "wrong_request"},
    {AnswerVerdict::image_ignored, "image_ignored"},
    {AnswerVerdict::corrupted, "corrupted"},
    {AnswerVerdict::stale, "stale"},
};

AnswerVerdict from_wire(wire::Verdict v) {
    switch (v) {
        case wire::Verdict::ok:
            return AnswerVerdict::ok;
        case wire::Verdict::missing_tag:
            return AnswerVerdict::missing_tag;
        case wire::Verdict::wrong_request:
            return AnswerVerdict::wrong_request;
        case wire::Verdict::image_ignored:
            return AnswerVerdict::image_ignored;
        case wire::Verdict::corrupted:
            return AnswerVerdict::corrupted;
    }
    return AnswerVerdict::corrupted;
}

}  // namespace

std::string_view to_string(AnswerVerdict v) {
    for (const auto& [verdict, word] : kVerdicts) {
        if (verdict == v) return word;
    }
    return "";
}

AnswerVerdict answer_verdict_from(std::string_view text) {
    for (const auto& [verdict, word] : kVerdicts) {
        if (word == text) return verdict;
    }
    throw Error(fmt::format("unknown verdict \"{}\"", text));
}

void sort_by_seq(std::deque<AttemptRecord>& attempts) {
    // Where each place's record is now (`from[k]`), then each record moved once along the
    // permutation's cycles: sorting the deque itself moved each record some log n times through
    // its slow iterators (1% of a simulated seed). A run's journal numbers every attempt it reads,
    // so the seqs are dense and each record's place is its seq's distance from the smallest, in
    // one pass; with ties, or gaps wider than the records, (seq, place) pairs are sorted. What
    // this takes is given back before scoring makes its own, larger, tables.
    const std::size_t n = attempts.size();
    if (n < 2) return;
    constexpr std::size_t kNone = SIZE_MAX;
    auto [lo, hi] = std::minmax_element(attempts.begin(), attempts.end(),
                                        [](const auto& a, const auto& b) { return a.seq < b.seq; });
    const std::uint64_t first = lo->seq, span = hi->seq - lo->seq;
    std::vector<std::size_t> from;
    if (span < 2 * n) {
        from.assign(span + 1, kNone);
        for (std::size_t i = 0; i < n && !from.empty(); ++i) {
            auto& slot = from[attempts[i].seq - first];
            if (slot != kNone)
                from.clear();  // a tie: sorted below
            else
                slot = i;
        }
        from.erase(std::remove(from.begin(), from.end(), kNone), from.end());
    }
    if (from.empty()) {
        std::vector<std::pair<std::uint64_t, std::size_t>> order(n);
        for (std::size_t i = 0; i < n; ++i) order[i] = {attempts[i].seq, i};
        std::sort(order.begin(), order.end());
        from.resize(n);
        for (std::size_t k = 0; k < n; ++k) from[k] = order[k].second;
    }
    // from[k]: where the record that belongs at k is now; k once it is there.
    for (std::size_t k = 0; k < n; ++k) {
        if (from[k] == k) continue;
        const AttemptRecord held = attempts[k];  // numbers only: copied
        std::size_t at = k;
        while (from[at] != k) {
            const std::size_t next = from[at];
            attempts[at] = attempts[next];
            from[at] = at;
            at = next;
        }
        attempts[at] = held;
        from[at] = at;
    }
}

Judgement judge_answer(const UserRequest& request, const std::string& text) {
    return judge_answer(request, wire::ConversationDigest::of(expected_digests(request)), text);
}

Judgement judge_answer(const UserRequest& request, const wire::ConversationDigest& digest,
                       const std::string& text) {
    wire::ChatRequest expected;
    digest.set_in(expected);
    if (request.kind == RequestKind::tools) {
        // A tool call's arguments carry the request digest instead of a tag.
        return {text.find("bo-" + to_hex(expected.text_digest, 8)) != std::string::npos
                    ? AnswerVerdict::ok
                    : AnswerVerdict::wrong_request};
    }
    auto verdict = wire::verify_answer(text, expected);
    if (verdict == wire::Verdict::wrong_request) {
        for (std::int64_t hour = request.freshness - 1; hour >= 0 && hour >= request.freshness - 48;
             --hour) {
            UserRequest older = request;
            older.freshness = hour;
            if (wire::verify_answer(text, expected_digests(older)) == wire::Verdict::ok) {
                // The answer for hour H was current until the end of hour H.
                return {AnswerVerdict::stale, request.arrival - std::chrono::hours(hour + 1)};
            }
        }
    }
    return {from_wire(verdict)};
}

namespace {

// One client stack's run: its providers, its stack (harness/stacks/), its users. On real sockets
// (a fleet on loopback, the shared scaled clock) or, for the simulator, in virtual time (the
// same providers in process, a VirtualScheduler of its own, no sockets). The driver owns time
// and the records; the stack only says how each user it was given was answered.
class StackDriver final : public StackHost {
public:
    // `digests`: each request's (conversation_digests()), or null to make them when needed.
    StackDriver(const Scenario& s, const ClientSpec& client, std::shared_ptr<ScaledClock> clock,
                const std::vector<UserRequest>& workload,
                const std::vector<wire::ConversationDigest>* digests, bool virtual_time,
                RunLog* log)
        : scenario_(s),
          client_(client),
          log_(log),
          clock_(std::move(clock)),
          workload_(workload),
          digests_(digests),
          virtual_(virtual_time ? std::make_unique<VirtualScheduler>(s.time_scale) : nullptr),
          real_(virtual_time ? nullptr : std::make_unique<RealScheduler>(ioc_, clock_)),
          scheduler_(virtual_ ? static_cast<Scheduler&>(*virtual_) : *real_) {
        std::vector<unsigned short> ports(s.providers.size(), 0);
        if (virtual_ && client.external()) {
            throw Error(fmt::format(
                "client {}: the simulator runs built-in stacks only ({} keeps its own wall-clock "
                "timers)",
                client.name, client.kind));
        }
        if (virtual_) {
            for (const auto& p : s.providers)
                in_process_.push_back(
                    std::make_unique<mock::Provider>(p, scheduler_, journal_, metrics_));
        } else {
            mock::ServerLimits limits = s.server;
            // The run is over when the fleet stops: answers still open are not waited for long.
            limits.shutdown_grace = std::min(limits.shutdown_grace, std::chrono::milliseconds(200));
            // The journal keeps its window, for a look at /_brownout/journal during the run; the
            // run keeps its own record of every attempt (run()).
            journal_window_ = limits.journal_entries == 0 ? SIZE_MAX : limits.journal_entries;
            fleet_ = std::make_unique<mock::Fleet>(s.providers, clock_, limits);
            fleet_->start("127.0.0.1", {}, 1);
            auto endpoints = fleet_->endpoints();
            for (std::size_t i = 0; i < endpoints.size(); ++i) ports[i] = endpoints[i].port;
        }
        StackSetup setup{s, client, workload, {}, {}, {}, false, digests};
        for (const auto& entry : client.providers) {
            auto route = parse_route(entry);
            std::size_t i = provider_index(s, route.provider);
            const auto& p = s.providers[i];
            setup.addresses.push_back(
                {p.id, "127.0.0.1", ports[i], p.dialect, route_model(s, route)});
            // The dialect puts the key where its SDKs do, and nowhere else (no report, no log).
            setup.addresses.back().api_key = p.api_key;
            setup.traits.push_back(
                {entry, p.has_feature("vision"), p.has_feature("tools"), p.has_feature("stream")});
        }
        for (std::size_t i = 0; i < s.providers.size(); ++i) {
            const auto& p = s.providers[i];
            env_[provider_env_name(p.id)] = fmt::format("http://127.0.0.1:{}", ports[i]);
            if (!p.api_key.empty()) env_[provider_env_name(p.id, "KEY")] = p.api_key;
        }
        // The client's own providers, in its order: an external stack's chain, as a built-in
        // policy gets it.
        std::string providers_json;
        std::vector<std::string> listed;
        for (const auto& a : setup.addresses) {
            if (std::find(listed.begin(), listed.end(), a.id) != listed.end()) continue;
            const auto& p = s.providers[provider_index(s, a.id)];
            providers_json += fmt::format(
                "{}{{\"id\":{},\"url\":{},\"dialect\":\"{}\",\"model\":{}}}",
                listed.empty() ? "" : ",", json_string(p.id),
                json_string(fmt::format("http://127.0.0.1:{}", ports[provider_index(s, a.id)])),
                wire::to_string(p.dialect), json_string(a.model));
            listed.push_back(a.id);
        }
        env_["BROWNOUT_PROVIDERS"] = "[" + providers_json + "]";
        env_["BROWNOUT_TIME_SCALE"] = fmt::format("{}", clock_->time_scale());
        env_["BROWNOUT_CLIENT"] = client.name;
        env_["BROWNOUT_CLOCK"] = "wall";
        if (!virtual_ && client.external() && client.time == "scenario" && s.time_scale != 1.0) {
            // Its own timers in scenario time: the child's clock warped (harness/scenario_clock.h)
            // and the fleet's retry hints said in scenario seconds.
            warp_ = find_libfaketime();
            if (warp_) {
                for (auto* p : fleet_->providers()) p->set_client_in_scenario_time(true);
                notes_.push_back(warped_clock_note(client.kind, s.time_scale));
            } else {
                notes_.push_back(
                    "time = \"scenario\": libfaketime not found (Debian package faketime), so "
                    "the stack's own timers ran in wall time");
            }
        }
        setup.warped = warp_.has_value();
        setup.log_file = (std::filesystem::temp_directory_path() /
                          fmt::format("brownout-{}-{}.log", client.name, ::getpid()))
                             .string();
        users_.resize(workload_.size());
        for (std::size_t i = 0; i < workload_.size(); ++i) {
            users_[i].id = workload_[i].id;
            users_[i].arrival = workload_[i].arrival;
            users_[i].kind = workload_[i].kind;
            if (client.external()) users_[i].digest = request_digest(workload_[i]);
        }
        stack_ = make_stack(std::move(setup), *this);
    }

    // Starts an external client or gateway and waits until it is ready — before the scenario
    // clock starts, so that no arrival is lost to its start-up.
    void prepare(std::atomic<bool>* stop) {
        stop_ = stop;
        stack_->prepare();
    }

    void run(std::atomic<bool>* stop) {
        stop_ = stop;
        // From here on, and not before: a warm-up's attempts (some journaled only after their
        // answer was read) are not the run's.
        // The run keeps what scoring reads of each attempt, its log the whole record, and the
        // fleet's journal its window ([server] journal_entries): a long run grows by 88 bytes an
        // attempt, not by the journal's record and its strings.
        auto& journal = fleet_ ? fleet_->journal() : journal_;
        journal.restart(
            [this](const mock::Attempt& a) {
                attempts_.push_back(record_of(scenario_, a));
                if (log_ != nullptr) log_->attempt(client_.name, a);
            },
            journal_window_, /*sink_reads_text=*/log_ != nullptr);
        // Not a warm-up's sends (though a warm-up's stream still open goes on counting).
        if (fleet_) mock_sends_before_ = mock_sends();
        schedule(0);
        if (virtual_) {
            virtual_->run();
            stack_->close();
            return;
        }
        ioc_.run();
        stack_->close();
        fleet_->shutdown();
        fleet_->join();
    }

    // In virtual time, timers still pending when the run ends hold in-process calls, whose slot
    // leases give the slots back to their providers when destroyed. They go while the providers
    // are still here (declared after the scheduler, the providers are destroyed before it), after
    // the calls still waiting were given up (which may set timers of their own).
    ~StackDriver() override {
        if (!virtual_) return;
        if (stack_) stack_->close();
        virtual_->drop_all();
    }
    StackDriver(const StackDriver&) = delete;
    StackDriver& operator=(const StackDriver&) = delete;

    // Called once, when the stack is done: the records move out.
    StackRun result() {
        StackRun r;
        r.client = client_;
        r.users = std::move(users_);
        sort_by_seq(attempts_);
        r.attempts = std::move(attempts_);
        // What is journaled from here on (calls dropped when the driver goes) is not the run's.
        (fleet_ ? fleet_->journal() : journal_).restart(nullptr, journal_window_);
        r.notes = notes_;
        note_lateness(r.notes);
        if (fleet_) {
            auto now = mock_sends();
            auto late = now.late - mock_sends_before_.late;
            if (late > 0) {
                r.notes.push_back(late_sends_note(late, now.sends - mock_sends_before_.sends,
                                                  mock_late_bound().scenario));
            }
        }
        stack_->notes(r.notes);
        r.late_answers = stack_->late_answers();
        if (!r.late_answers.empty()) r.notes.push_back(late_answers_note(r.late_answers));
        return r;
    }

    std::pair<std::size_t, std::size_t> progress() const { return {done_.load(), good_.load()}; }
    // From another thread (the stop flag was set): ends the run, keeping what was measured.
    void request_stop() {
        if (virtual_) {
            // The simulator runs on this driver's thread without an io_context: the flag is
            // read between events.
            stop_requested_ = true;
            return;
        }
        asio::post(ioc_, [this] {
            if (ending_) return;
            interrupted_ = true;
            end_run();
        });
    }
    bool interrupted() const { return interrupted_; }

    // ── StackHost ─────────────────────────────────────────────────────────
    Duration now() const override { return scheduler_.now(); }
    Scheduler& scheduler() override { return scheduler_; }
    asio::io_context& io() override { return ioc_; }
    std::unique_ptr<Transport> connect(std::vector<ProviderAddress> addresses) override {
        if (!virtual_)
            return std::make_unique<HttpTransport>(ioc_, std::move(addresses), scheduler_);
        std::vector<mock::Provider*> targets;
        for (const auto& a : addresses) {
            for (auto& p : in_process_) {
                if (p->config().id == a.id) targets.push_back(p.get());
            }
        }
        return std::make_unique<InProcessTransport>(scheduler_, targets, std::move(addresses));
    }
    void attempted(std::size_t user) override { ++users_[user].attempts; }
    void finish(std::size_t user, UserRecord::Outcome outcome, const std::string& text,
                int provider) override {
        auto it = open_.find(user);
        if (it == open_.end()) return;
        scheduler_.cancel(it->second);
        open_.erase(it);
        auto& u = users_[user];
        if (provider != -1) u.provider = provider;
        u.outcome = outcome;
        u.finished = now();
        if (outcome == UserRecord::Outcome::answered) {
            auto judged = digests_ != nullptr
                              ? judge_answer(workload_[user], (*digests_)[user], text)
                              : judge_answer(workload_[user], text);
            u.verdict = judged.verdict;
            u.outdated_by = judged.outdated_by;
            if (received_answer(u, scenario_.workload)) ++good_;
        }
        if (log_ != nullptr) log_->user(client_.name, u);
        ++done_;
        end_if_done();
    }
    bool ending() const override { return ending_; }
    bool stop_requested() const override { return stop_ != nullptr && stop_->load(); }
    // The child's environment; a warped child's clock starts at the scenario's calendar now.
    std::map<std::string, std::string> child_env() const override {
        auto env = env_;
        if (warp_) {
            auto offset = fleet_->providers().front()->client_unix_now() -
                          static_cast<std::int64_t>(std::time(nullptr));
            for (auto& [k, v] : scenario_clock_env(*warp_, offset, scenario_.time_scale))
                env[k] = v;
        }
        return env;
    }
    std::string expand(std::string value) const override {
        for (const auto& [k, v] : env_) value = replace_all(value, fmt::format("${{{}}}", k), v);
        return value;
    }
    Duration to_wall(Duration scenario) const override { return clock_->to_wall(scenario); }
    void restart_clock() override { clock_->jump_to(Duration::zero()); }
    void note(std::string text) override { notes_.push_back(std::move(text)); }

private:
    // Arrivals one at a time, each a timer at its scenario time. The driver's io_context runs on
    // one thread, so the scheduler's tasks and the sockets' handlers never run at once.
    void schedule(std::size_t i) {
        if (i >= workload_.size()) {
            arrivals_done_ = true;
            return end_if_done();
        }
        arrival_ = scheduler_.at(workload_[i].arrival, [this, i] {
            if (ending_) return;
            measure_lateness(now() - workload_[i].arrival);
            if (stop_requested_) {
                interrupted_ = true;
                return end_run();
            }
            start(i);
            schedule(i + 1);
        });
    }

    void start(std::size_t i) {
        // A user still waiting at twice the deadline is hung: the stack never answered.
        open_[i] = scheduler_.at(workload_[i].arrival + 2 * scenario_.workload.deadline, [this, i] {
            if (open_.count(i) == 0) return;
            finish(i, UserRecord::Outcome::hung, "", -1);
            stack_->abandon(i);
        });
        stack_->start(i);
    }

    // On the wire the harness shares the machine with the stacks it drives: a busy machine that
    // does not run it on time, or a burst of more users than it can send in the scenario time
    // they arrive in, sends users late, and what they then measure is the harness, not the
    // stack. A user sent later than a twentieth of the deadline is counted and said.
    void measure_lateness(Duration late) {
        if (virtual_) return;
        if (late > late_max_) late_max_ = late;
        if (late > scenario_.workload.deadline / 20) ++late_users_;
    }
    void note_lateness(std::vector<std::string>& notes) const {
        if (late_users_ == 0) return;
        notes.push_back(fmt::format(
            "the harness ran late (a busy machine, or more users at once than it sends in time): "
            "{} of {} users were sent more than {} late (up to {}), and their latency includes it",
            late_users_, workload_.size(), format_duration(scenario_.workload.deadline / 20),
            format_duration(std::chrono::round<std::chrono::milliseconds>(late_max_))));
    }

    // The mock shares the machine too, and may send late what it times (an answer's head after
    // its latency, each frame of a stream): the stack's latencies then include it. Measured by
    // the fleet (mock::metric::send_lateness) and said with the harness's own yardstick.
    LateSendsBound mock_late_bound() const {
        return late_sends_bound(scenario_.workload.deadline / 20, scheduler_);
    }
    // The fleet's timed sends so far, and how many of them were later than mock_late_bound().
    struct MockSends {
        std::uint64_t sends = 0;
        std::uint64_t late = 0;
    };
    MockSends mock_sends() const {
        auto bound = mock_late_bound().index;
        MockSends total;
        for (auto* p : fleet_->providers()) {
            auto s = p->counters().send_lateness->snapshot();
            total.sends += s.count();
            total.late += s.above(bound);
        }
        return total;
    }

    void end_if_done() {
        if (!ending_ && arrivals_done_ && open_.empty()) end_run();
    }

    // Ends the run: every user done, or the stop flag set. What is still in flight stays
    // unfinished; once the scheduler drops its timers the io_context runs out of work.
    void end_run() {
        ending_ = true;
        scheduler_.cancel(arrival_);
        for (auto& [user, hung] : in_key_order(open_)) scheduler_.cancel(hung);
        open_.clear();
        stack_->stop();
        scheduler_.stop();
    }

    const Scenario& scenario_;
    const ClientSpec& client_;
    RunLog* log_;                         // null: the run is not written as it goes
    std::deque<AttemptRecord> attempts_;  // every attempt the run's fleet journaled
    std::size_t journal_window_ = 0;      // what the journal itself keeps (none in virtual time)
    std::shared_ptr<ScaledClock> clock_;
    const std::vector<UserRequest>& workload_;
    const std::vector<wire::ConversationDigest>* digests_;  // by user; null: made when needed
    // Every socket, pipe and timer on it is used by one thread at a time (a stack's prepare() on
    // the main thread before the driver's thread starts, then the driver's thread, which alone
    // runs it): the reactor takes no lock per operation. Its queue keeps its lock, for work
    // posted from other threads (the stop from the main thread, request_stop; the scaled
    // clock's pause, resume and jump to the scheduler's strand).
    asio::io_context ioc_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    std::unique_ptr<VirtualScheduler> virtual_;
    std::unique_ptr<RealScheduler> real_;
    Scheduler& scheduler_;
    // Virtual time: the providers in this process, and their journal.
    // The in-process providers' (virtual time: one thread, no lock); a fleet keeps its own.
    mock::AttemptJournal journal_{0, false};
    mock::Metrics metrics_;
    std::vector<std::unique_ptr<mock::Provider>> in_process_;
    std::unique_ptr<mock::Fleet> fleet_;
    std::atomic<bool> stop_requested_{false};
    Scheduler::TimerId arrival_ = 0;
    std::vector<UserRecord> users_;
    // Users sent to the stack and not yet finished, each with its hung timer.
    Keyed<std::size_t, Scheduler::TimerId> open_;
    std::atomic<bool>* stop_ = nullptr;
    bool arrivals_done_ = false;
    Duration late_max_{};
    std::size_t late_users_ = 0;
    MockSends mock_sends_before_;  // mock_sends() as the run began
    bool interrupted_ = false;
    bool ending_ = false;
    std::atomic<std::size_t> done_{0};
    std::atomic<std::size_t> good_{0};
    // What an external stack's program is told about the fleet.
    std::map<std::string, std::string> env_;
    std::optional<std::string> warp_;  // libfaketime, when the child runs in scenario time
    std::vector<std::string> notes_;
    std::unique_ptr<Stack> stack_;  // last: it goes first, while all of the above is here
};

}  // namespace

std::string warped_clock_note(const std::string& kind, double time_scale) {
    return fmt::format(
        "{} client: its own timers ran in scenario time (its clock warped ×{} by libfaketime)",
        kind, time_scale);
}

AttemptRecord record_of(const Scenario& s, const mock::Attempt& a) {
    return {a.seq,      a.digest,        a.at,
            a.duration, a.retry_after,   static_cast<std::uint32_t>(provider_index(s, a.provider)),
            a.status,   a.prompt_tokens, a.completion_tokens};
}

std::string late_answers_note(const std::vector<Duration>& late) {
    return fmt::format(
        "the stdio client answered {} of its hung requests after all, up to {} after their "
        "arrival: it is slow in scenario time (its own retries and timeouts), or it fell behind "
        "in wall time (a busy machine, or a time scale too fast for it: a run at a lower "
        "--time-scale tells which)",
        late.size(),
        format_duration(
            std::chrono::round<std::chrono::seconds>(*std::max_element(late.begin(), late.end()))));
}

LateSendsBound late_sends_bound(Duration limit, const Clock& clock) {
    auto index = mock::Histogram::bound_within(clock.to_wall(limit));
    std::chrono::duration<double, std::nano> scenario(
        static_cast<double>(mock::Histogram::kBounds[index].count()) * clock.time_scale());
    return {index, std::chrono::round<std::chrono::microseconds>(scenario)};
}

std::string late_sends_note(std::uint64_t late, std::uint64_t sends, Duration bound) {
    return fmt::format(
        "the mock ran late (a busy machine, or a stack that reads its streams too slowly): {} of "
        "{} timed sends (answer heads after their latency, stream frames and keep-alives) went out "
        "more than {} late, and the stack's latencies include it",
        late, sends, format_duration(bound));
}

void apply_run_options(Scenario& scenario, const RunOptions& options) {
    if (options.time_scale) scenario.time_scale = *options.time_scale;
    if (options.seed) {
        scenario.seed = *options.seed;
        for (auto& p : scenario.providers) p.seed = hash64(p.id, scenario.seed);
    }
    if (!options.clients.empty()) {
        std::vector<ClientSpec> chosen;
        for (const auto& name : options.clients) {
            auto it = std::find_if(scenario.clients.begin(), scenario.clients.end(),
                                   [&](const ClientSpec& c) { return c.name == name; });
            if (it == scenario.clients.end())
                throw Error(fmt::format("--client {}: the scenario has no such client", name));
            chosen.push_back(*it);
        }
        scenario.clients = std::move(chosen);
    }
}

namespace {

// Every stack on a thread of its own, at once (on the wire they share one scaled clock and live
// the incident at the same moment).
void run_side_by_side(std::vector<std::unique_ptr<StackDriver>>& drivers, const RunOptions& options,
                      ScaledClock& clock, RunLog* log) {
    // Each driver ends its own run; this thread only relays the stop flag (set by a signal
    // handler, which cannot wake anyone) and prints progress, waking every 100 ms to do so.
    std::mutex mutex;
    std::condition_variable ended;
    std::size_t running = drivers.size();
    std::vector<std::thread> threads;
    threads.reserve(drivers.size());
    for (auto& d : drivers) {
        threads.emplace_back([&d, &options, &mutex, &ended, &running] {
            d->run(options.stop);
            std::lock_guard lock(mutex);
            --running;
            ended.notify_all();
        });
    }
    auto last_report = SteadyClock::now();
    bool stop_sent = false;
    for (std::unique_lock lock(mutex);
         !ended.wait_for(lock, std::chrono::milliseconds(100), [&] { return running == 0; });) {
        lock.unlock();
        if (!stop_sent && options.stop != nullptr && options.stop->load()) {
            for (auto& d : drivers) d->request_stop();
            stop_sent = true;
        }
        if (SteadyClock::now() - last_report >= std::chrono::seconds(1)) {
            last_report = SteadyClock::now();
            if (log) log->flush();  // what a kill leaves behind is at most a second old
            if (options.progress) {
                std::vector<std::pair<std::size_t, std::size_t>> progress(drivers.size());
                for (std::size_t i = 0; i < drivers.size(); ++i)
                    progress[i] = drivers[i]->progress();
                options.progress(clock.now(), progress);
            }
        }
        lock.lock();
    }
    for (auto& t : threads) t.join();
}

}  // namespace

RunResult run_scenario(Scenario scenario, const RunOptions& options) {
    apply_run_options(scenario, options);
    std::unique_ptr<RunLog> log;
    if (!options.log_dir.empty())
        log = std::make_unique<RunLog>(options.log_dir, options.scenario_text, scenario);
    RunResult result;
    auto workload = generate_workload(scenario.workload, scenario.duration, scenario.seed);
    // In virtual time every stack reads each request's digests from one list, made here: none
    // makes a request's text to send it or to judge its answer.
    std::vector<wire::ConversationDigest> digests;
    if (options.virtual_time) digests = conversation_digests(workload);
    // One clock for every stack: they all live the same incident at the same moment.
    auto clock = std::make_shared<ScaledClock>(scenario.time_scale);
    std::vector<std::unique_ptr<StackDriver>> drivers;
    for (const auto& client : scenario.clients)
        drivers.push_back(std::make_unique<StackDriver>(scenario, client, clock, workload,
                                                        options.virtual_time ? &digests : nullptr,
                                                        options.virtual_time, log.get()));
    for (auto& d : drivers) d->prepare(options.stop);
    clock->jump_to(Duration::zero());
    auto started = SteadyClock::now();
    // In turn only where nothing needs this thread meanwhile: no stop flag to relay, no
    // progress to print, no log to flush.
    if (options.stacks_in_turn && options.virtual_time && options.stop == nullptr &&
        !options.progress && !log) {
        for (auto& d : drivers) d->run(options.stop);
    } else {
        run_side_by_side(drivers, options, *clock, log.get());
    }
    result.wall_seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
    for (auto& d : drivers) {
        result.partial = result.partial || d->interrupted();
        result.stacks.push_back(d->result());
    }
    if (options.stop != nullptr && options.stop->load()) result.partial = true;
    result.scenario = std::move(scenario);
    if (result.partial) trim_partial(result);
    if (log) log->finish(result);
    return result;
}

}  // namespace brownout::harness
