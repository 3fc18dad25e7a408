#include "harness/run.h"

#include <fmt/format.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "core/real_scheduler.h"
#include "core/text.h"
#include "harness/inprocess_transport.h"
#include "harness/outcome.h"
#include "harness/process.h"
#include "harness/run_log.h"
#include "harness/scenario_clock.h"
#include "harness/stdio_protocol.h"
#include "harness/transport.h"
#include "mockprovider/server.h"
#include "wire/answer.h"

namespace brownout::harness {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

Judgement judge_answer(const UserRequest& request, const std::string& text) {
    auto expected = expected_request(request);
    if (request.kind == RequestKind::tools) {
        // A tool call's arguments carry the request digest instead of a tag.
        return {text.find("bo-" + to_hex(expected.text_digest, 8)) != std::string::npos
                    ? "ok"
                    : "wrong_request"};
    }
    auto verdict = wire::verify_answer(text, expected);
    if (verdict == wire::Verdict::wrong_request) {
        for (std::int64_t hour = request.freshness - 1; hour >= 0 && hour >= request.freshness - 48;
             --hour) {
            UserRequest older = request;
            older.freshness = hour;
            if (wire::verify_answer(text, expected_request(older)) == wire::Verdict::ok) {
                // The answer for hour H was current until the end of hour H.
                return {"stale", request.arrival - std::chrono::hours(hour + 1)};
            }
        }
    }
    return {std::string(wire::to_string(verdict))};
}

namespace {

// Warm-up requests' ids (StackDriver::warm_up): far above any workload id.
constexpr std::uint64_t kWarmupIds = std::uint64_t{1} << 62;

// One client stack's run: its providers, its transport, its policy, its users. On real sockets
// (a fleet on loopback, the shared scaled clock) or, for the simulator, in virtual time (the
// same providers in process, a VirtualScheduler of its own, no sockets).
class StackDriver {
public:
    StackDriver(const Scenario& s, const ClientSpec& client, std::shared_ptr<ScaledClock> clock,
                const std::vector<UserRequest>& workload, bool virtual_time, RunLog* log)
        : scenario_(s),
          client_(client),
          log_(log),
          clock_(std::move(clock)),
          workload_(workload),
          virtual_(virtual_time ? std::make_unique<VirtualScheduler>(s.time_scale) : nullptr),
          real_(virtual_time ? nullptr : std::make_unique<RealScheduler>(ioc_, clock_)),
          scheduler_(virtual_ ? static_cast<Scheduler&>(*virtual_) : *real_) {
        std::vector<unsigned short> ports(s.providers.size(), 0);
        if (virtual_ && client.kind != "builtin") {
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
            limits.journal_entries = 0;  // the score is computed from every attempt
            fleet_ = std::make_unique<mock::Fleet>(s.providers, clock_, limits);
            fleet_->start("127.0.0.1", {}, 1);
            auto endpoints = fleet_->endpoints();
            for (std::size_t i = 0; i < endpoints.size(); ++i) ports[i] = endpoints[i].port;
        }
        std::vector<ProviderAddress> addresses;
        std::vector<ProviderTraits> traits;
        for (const auto& entry : client.providers) {
            auto route = parse_route(entry);
            std::size_t i = provider_index(s, route.provider);
            const auto& p = s.providers[i];
            addresses.push_back({p.id, "127.0.0.1", ports[i], p.dialect, route_model(s, route)});
            // The dialect puts the key where its SDKs do, and nowhere else (no report, no log).
            addresses.back().api_key = p.api_key;
            traits.push_back(
                {entry, p.has_feature("vision"), p.has_feature("tools"), p.has_feature("stream")});
        }
        for (std::size_t i = 0; i < s.providers.size(); ++i) {
            const auto& p = s.providers[i];
            env_[provider_env_name(p.id)] = fmt::format("http://127.0.0.1:{}", ports[i]);
            if (!p.api_key.empty()) env_[provider_env_name(p.id, "KEY")] = p.api_key;
        }
        // The client's own providers, in its order: an external stack's chain, as a built-in
        // policy gets it.
        std::vector<std::string> listed;
        for (const auto& a : addresses) {
            if (std::find(listed.begin(), listed.end(), a.id) != listed.end()) continue;
            const auto& p = s.providers[provider_index(s, a.id)];
            providers_json_ += fmt::format(
                "{}{{\"id\":{},\"url\":{},\"dialect\":\"{}\",\"model\":{}}}",
                listed.empty() ? "" : ",", json_string(p.id),
                json_string(fmt::format("http://127.0.0.1:{}", ports[provider_index(s, a.id)])),
                wire::to_string(p.dialect), json_string(a.model));
            listed.push_back(a.id);
        }
        providers_json_ = "[" + providers_json_ + "]";
        env_["BROWNOUT_PROVIDERS"] = providers_json_;
        env_["BROWNOUT_TIME_SCALE"] = fmt::format("{}", clock_->time_scale());
        env_["BROWNOUT_CLIENT"] = client.name;
        env_["BROWNOUT_CLOCK"] = "wall";
        if (!virtual_ && client.kind != "builtin" && client.time == "scenario" &&
            s.time_scale != 1.0) {
            // Its own timers in scenario time: the child's clock warped (harness/scenario_clock.h)
            // and the fleet's retry hints said in scenario seconds.
            warp_ = find_libfaketime();
            if (warp_) {
                for (auto* p : fleet_->providers()) p->set_client_in_scenario_time(true);
                notes_.push_back(fmt::format(
                    "{} client: its own timers ran in scenario time (its clock warped ×{} by "
                    "libfaketime)",
                    client.kind, s.time_scale));
            } else {
                notes_.push_back(
                    "time = \"scenario\": libfaketime not found (Debian package faketime), so "
                    "the stack's own timers ran in wall time");
            }
        }
        log_file_ = (std::filesystem::temp_directory_path() /
                     fmt::format("brownout-{}-{}.log", client.name, ::getpid()))
                        .string();
        if (client.kind == "gateway") {
            addresses = {gateway_address()};
            PolicyParams once;
            once.policy = "naive";
            once.attempt_timeout = 2 * s.workload.deadline;  // the gateway retries; the user waits
            policy_ = make_policy(once, {}, 0, s.workload.deadline);
        } else if (client.kind == "builtin") {  // a stdio child is its own policy
            policy_ = make_policy(client.params, traits, hash64(client.name, s.seed),
                                  s.workload.deadline);
        }
        if (virtual_) {
            std::vector<mock::Provider*> targets;
            for (const auto& a : addresses) {
                for (auto& p : in_process_) {
                    if (p->config().id == a.id) targets.push_back(p.get());
                }
            }
            transport_ = std::make_unique<InProcessTransport>(scheduler_, targets, addresses);
        } else {
            transport_ = std::make_unique<HttpTransport>(ioc_, addresses, scheduler_);
        }
        users_.resize(workload_.size());
        for (std::size_t i = 0; i < workload_.size(); ++i) {
            users_[i].id = workload_[i].id;
            users_[i].arrival = workload_[i].arrival;
            users_[i].kind = workload_[i].kind;
        }
    }

    // Starts an external client or gateway and waits until it is ready — before the scenario
    // clock starts, so that no arrival is lost to its start-up.
    void prepare(std::atomic<bool>* stop) {
        stop_ = stop;
        if (client_.kind == "stdio") start_stdio();
        if (client_.kind == "gateway") start_gateway();
    }

    void run(std::atomic<bool>* stop) {
        stop_ = stop;
        // From here on, and not before: a warm-up's attempts (some journaled only after their
        // answer was read) are not the run's.
        auto& journal = fleet_ ? fleet_->journal() : journal_;
        if (log_ != nullptr)
            journal.restart([this](const mock::Attempt& a) { log_->attempt(client_.name, a); });
        else
            journal.restart(nullptr);
        schedule(0);
        if (virtual_) {
            virtual_->run();
            transport_->close_all();
            return;
        }
        ioc_.run();
        transport_->close_all();
        if (child_) child_->stop();
        fleet_->shutdown();
        fleet_->join();
    }

    // In virtual time, timers still pending when the run ends hold in-process calls, whose slot
    // leases give the slots back to their providers when destroyed. They go while the providers
    // are still here (declared after the scheduler, the providers are destroyed before it), after
    // the calls still waiting were given up (which may set timers of their own).
    ~StackDriver() {
        if (!virtual_) return;
        if (transport_) transport_->close_all();
        virtual_->drop_all();
    }
    StackDriver(const StackDriver&) = delete;
    StackDriver& operator=(const StackDriver&) = delete;

    std::vector<std::string> notes() const { return notes_; }

    // Called once, when the stack is done: the records move out.
    StackRun result() {
        StackRun r;
        r.client = client_;
        r.users = std::move(users_);
        r.attempts = fleet_ ? fleet_->journal().take() : journal_.take();
        r.notes = notes_;
        note_lateness(r.notes);
        if (garbage_lines_ > 0)
            r.notes.push_back(
                fmt::format("stdio client wrote {} lines that are not results", garbage_lines_));
        if (unknown_ids_ > 0)
            r.notes.push_back(
                fmt::format("stdio client answered {} unknown or finished ids", unknown_ids_));
        if (!late_answers_.empty())
            r.notes.push_back(fmt::format(
                "the stdio client answered {} of its hung requests after all, up to {} after "
                "their arrival: it is slow in scenario time (its own retries and timeouts), or "
                "it fell behind in wall time (a busy machine, or a time scale too fast for it: "
                "a run at a lower --time-scale tells which)",
                late_answers_.size(),
                format_duration(std::chrono::round<std::chrono::seconds>(
                    *std::max_element(late_answers_.begin(), late_answers_.end())))));
        r.late_answers = std::move(late_answers_);
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

private:
    struct Flight {
        std::size_t index;
        std::unique_ptr<PolicyRun> run;
        Scheduler::TimerId timer = 0;  // the policy's wait
        Scheduler::TimerId hung = 0;   // twice the deadline after arrival
        std::optional<AttemptResult> last;
        std::uint64_t handle = 0;
        bool done = false;
        explicit Flight(std::size_t i) : index(i) {}
    };

    Duration now() const { return scheduler_.now(); }

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
            format_duration(late_max_)));
    }

    void end_if_done() {
        if (!ending_ && arrivals_done_ && flights_.empty()) end_run();
    }

    // Ends the run: every user done, or the stop flag set. What is still in flight stays
    // unfinished; once the scheduler drops its timers the io_context runs out of work.
    void end_run() {
        ending_ = true;
        scheduler_.cancel(arrival_);
        if (child_) child_->stop(std::chrono::milliseconds(1000));  // ends the pending read
        for (auto& [index, flight] : flights_) transport_->abandon(flight->handle);
        flights_.clear();
        scheduler_.stop();
    }

    void start(std::size_t i) {
        auto flight = std::make_shared<Flight>(i);
        flights_[i] = flight;
        // A user still waiting at twice the deadline is hung: the stack never answered.
        flight->hung =
            scheduler_.at(workload_[i].arrival + 2 * scenario_.workload.deadline, [this, flight] {
                if (!flight->done) finish(*flight, UserRecord::Outcome::hung, "");
            });
        if (client_.kind == "stdio") return send_stdio(flight);
        if (client_.kind == "gateway" && !gateway_ready_)
            return finish(*flight, UserRecord::Outcome::failed, "");
        flight->run = policy_->begin(workload_[i], now());
        step(flight, flight->run->next(now(), nullptr));
    }

    // ── gateway ───────────────────────────────────────────────────────────
    ProviderAddress gateway_address() {
        if (client_.url.find("{port}") != std::string::npos) gateway_port_ = free_port();
        gateway_url_ = replace_all(client_.url, "{port}", std::to_string(gateway_port_));
        // http://HOST:PORT/PATH
        std::string rest = gateway_url_.substr(7);
        auto slash = rest.find('/');
        std::string hostport = rest.substr(0, slash);
        std::string path = slash == std::string::npos ? "" : rest.substr(slash);
        if (path.empty() || path.back() != '/') path += "/";
        ProviderAddress a;
        a.id = client_.name;
        a.host = hostport.substr(0, hostport.rfind(':'));
        a.port = static_cast<unsigned short>(std::stoi(hostport.substr(hostport.rfind(':') + 1)));
        a.dialect = wire::DialectKind::openai;
        a.model = client_.model.empty()
                      ? route_model(scenario_, parse_route(client_.providers.front()))
                      : client_.model;
        a.path = path + "chat/completions";
        for (const auto& [k, v] : client_.headers) a.headers.emplace_back(k, expand(v));
        return a;
    }

    void start_gateway() {
        const auto& a = transport_->providers().front();
        if (!client_.command.empty()) {
            std::string command = replace_all(client_.command, "{port}", std::to_string(a.port));
            try {
                child_ =
                    std::make_unique<ChildProcess>(ioc_, command, child_env(), log_file_, false);
            } catch (const std::exception& e) {
                notes_.push_back(fmt::format("gateway did not start: {}", e.what()));
                return;
            }
        }
        // Ready when it accepts connections, within ready_timeout (wall time).
        auto until = SteadyClock::now() +
                     std::chrono::duration_cast<std::chrono::nanoseconds>(client_.ready_timeout);
        while (SteadyClock::now() < until && !(stop_ && stop_->load())) {
            boost::system::error_code ec;
            asio::ip::tcp::socket probe(ioc_);
            probe.connect({asio::ip::make_address(a.host), a.port}, ec);
            if (!ec) {
                gateway_ready_ = true;
                break;
            }
            if (child_ && !child_->running()) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        if (!gateway_ready_) {
            notes_.push_back(fmt::format(
                "gateway never became ready at {} (its log: {}): its requests are failures",
                gateway_url_, log_file_));
        }
        if (!client_.command.empty() && !warp_)
            notes_.push_back(
                "gateway: its own timers (retries, timeouts) run in wall time, not scenario time");
    }

    // ── stdio ─────────────────────────────────────────────────────────────
    void start_stdio() {
        try {
            child_ = std::make_unique<ChildProcess>(ioc_, client_.command, child_env(), log_file_);
        } catch (const std::exception& e) {
            notes_.push_back(fmt::format("stdio client did not start: {}", e.what()));
            return;
        }
        if (++starts_ == 1 && !warp_)
            notes_.push_back(
                "stdio client: its own timers (retries, timeouts) run in wall time, not scenario "
                "time");
        if (starts_ == 1 && client_.ready_line) await_ready_line();
        if (starts_ == 1) warm_up();
        read_stdio();
    }

    // Before the scenario clock starts: the client's first line, {"ready":true}, up to
    // ready_timeout. A Node stack importing LangChain takes a second or more of wall time — at a
    // time scale of 360 that is six scenario minutes its first users would otherwise wait.
    void await_ready_line() {
        bool ended = false, said = false;
        asio::async_read_until(
            child_->out(), read_buffer_, '\n', [&](boost::system::error_code ec, std::size_t n) {
                ended = true;
                if (ec) return;
                std::string line(
                    asio::buffers_begin(read_buffer_.data()),
                    asio::buffers_begin(read_buffer_.data()) + static_cast<std::ptrdiff_t>(n));
                read_buffer_.consume(n);
                said = is_ready_line(line);
                if (!said) ++garbage_lines_;
            });
        auto give_up = SteadyClock::now() + client_.ready_timeout;
        while (!ended && SteadyClock::now() < give_up && !(stop_ != nullptr && *stop_))
            ioc_.run_one_for(std::chrono::milliseconds(100));
        if (!ended) child_->out().cancel();
        while (!ended) ioc_.run_one();
        ioc_.restart();
        if (!said)
            notes_.push_back(fmt::format(
                "stdio client did not write {{\"ready\":true}} first within {} (ready_line): the "
                "run started without it",
                format_duration(client_.ready_timeout)));
    }

    void send_stdio(const std::shared_ptr<Flight>& f) {
        const auto& r = workload_[f->index];
        ++users_[f->index].attempts;
        if (!child_) return finish(*f, UserRecord::Outcome::failed, "");
        by_id_[r.id] = f;
        writes_.push_back(stdio_line(r, r.id));
        if (writes_.size() == 1) write_stdio();
    }

    std::string stdio_line(const UserRequest& r, std::uint64_t id) const {
        // The request in both wire formats: a client on either official SDK sends its own; and in
        // each dialect the client asked for, as method, path and body with "{model}" to fill in
        // (Gemini carries the model in the path).
        std::string requests;
        for (const auto& name : client_.dialects) {
            const auto* info = wire::find_dialect(name);
            auto sent = client_dialect(info->kind).render_chat(outgoing_chat(r, "{model}"), "");
            requests += fmt::format("{}{}:{{\"method\":{},\"path\":{},\"body\":{}}}",
                                    requests.empty() ? "" : ",", json_string(name),
                                    json_string(sent.method), json_string(sent.path), sent.body);
        }
        if (!requests.empty()) requests = ",\"requests\":{" + requests + "}";
        std::string line = fmt::format(
            "{{\"id\":{},\"kind\":\"{}\",\"deadline_ms\":{:.0f},\"request\":{},\"anthropic_"
            "request\":{}{}}}\n",
            id, to_string(r.kind),
            std::chrono::duration<double, std::milli>(
                warp_ ? scenario_.workload.deadline : clock_->to_wall(scenario_.workload.deadline))
                .count(),
            render_request(r, wire::DialectKind::openai, ""),
            render_request(r, wire::DialectKind::anthropic, ""), requests);
        return line;
    }

    // Before the scenario clock starts: `warmup` requests (the workload's first of each kind,
    // then the next ones) that the stack answers unscored, their attempts dropped from the
    // journal. Run at scenario time zero, which the clock then returns to.
    void warm_up() {
        if (!child_ || client_.warmup <= 0 || workload_.empty()) return;
        std::vector<std::size_t> picks;
        for (auto kind :
             {RequestKind::chat, RequestKind::stream, RequestKind::vision, RequestKind::tools}) {
            auto it = std::find_if(workload_.begin(), workload_.end(),
                                   [&](const UserRequest& r) { return r.kind == kind; });
            if (it != workload_.end())
                picks.push_back(static_cast<std::size_t>(it - workload_.begin()));
        }
        for (std::size_t i = 0; picks.size() < static_cast<std::size_t>(client_.warmup); ++i)
            picks.push_back(i % workload_.size());
        picks.resize(static_cast<std::size_t>(client_.warmup));
        clock_->jump_to(Duration::zero());
        for (std::size_t k = 0; k < picks.size(); ++k) {
            // Another question of the same kind: nothing the stack could cache for the run.
            UserRequest r = workload_[picks[k]];
            r.prompt = "Warm-up " + r.prompt;
            writes_.push_back(stdio_line(r, kWarmupIds + k));
        }
        write_stdio();
        std::size_t left = picks.size();
        bool reading = false;
        std::function<void()> read_one = [&] {
            reading = true;
            asio::async_read_until(
                child_->out(), read_buffer_, '\n',
                [&](boost::system::error_code ec, std::size_t n) {
                    reading = false;
                    if (ec) return;
                    std::string line(
                        asio::buffers_begin(read_buffer_.data()),
                        asio::buffers_begin(read_buffer_.data()) + static_cast<std::ptrdiff_t>(n));
                    read_buffer_.consume(n);
                    if (auto r = parse_stdio_line(line); r && r->id >= kWarmupIds) --left;
                    if (left > 0) read_one();
                });
        };
        read_one();
        auto give_up = SteadyClock::now() + client_.ready_timeout;
        while (left > 0 && reading && SteadyClock::now() < give_up && !(stop_ != nullptr && *stop_))
            ioc_.run_one_for(std::chrono::milliseconds(100));
        if (reading) child_->out().cancel();
        while (reading || !writes_.empty()) {
            if (ioc_.run_one_for(std::chrono::milliseconds(100)) == 0 && !reading) break;
        }
        ioc_.restart();
        if (left > 0)
            notes_.push_back(fmt::format("warm-up: {} of {} requests unanswered before the run",
                                         left, picks.size()));
    }

    void write_stdio() {
        if (writes_.empty() || !child_) return;
        asio::async_write(child_->in(), asio::buffer(writes_.front()),
                          [this](boost::system::error_code ec, std::size_t) {
                              writes_.pop_front();
                              if (ec) {
                                  writes_.clear();
                                  return;  // the reader sees the exit and fails what is in flight
                              }
                              write_stdio();
                          });
    }

    void read_stdio() {
        asio::async_read_until(
            child_->out(), read_buffer_, '\n', [this](boost::system::error_code ec, std::size_t n) {
                if (ec)
                    return stdio_exited(ec == asio::error::not_found ? "wrote a line over 4 MiB"
                                                                     : "exited");
                std::string line(
                    asio::buffers_begin(read_buffer_.data()),
                    asio::buffers_begin(read_buffer_.data()) + static_cast<std::ptrdiff_t>(n));
                read_buffer_.consume(n);
                on_stdio_line(line);
                read_stdio();
            });
    }

    void on_stdio_line(const std::string& line) {
        if (is_ready_line(line)) return;  // a restarted client saying it is ready again
        auto result = parse_stdio_line(line);
        if (!result) {
            ++garbage_lines_;
            return;
        }
        if (result->id >= kWarmupIds) return;  // a warm-up answer that came late
        auto it = by_id_.find(result->id);
        if (it == by_id_.end()) {
            if (auto hung = hung_ids_.find(result->id); hung != hung_ids_.end()) {
                late_answers_.push_back(now() - workload_[hung->second].arrival);
                hung_ids_.erase(hung);
            } else {
                ++unknown_ids_;
            }
            return;
        }
        auto f = it->second;
        by_id_.erase(it);
        if (!result->answered) return finish(*f, UserRecord::Outcome::failed, "");
        for (std::size_t i = client_.providers.size();
             i-- > 0;) {  // the first route of that provider
            if (parse_route(client_.providers[i]).provider == result->provider)
                users_[f->index].provider = static_cast<int>(i);
        }
        finish(*f, UserRecord::Outcome::answered, result->text);
    }

    void stdio_exited(const std::string& why) {
        if (ending_) return;
        notes_.push_back(fmt::format(
            "stdio client {} after {} lines; {} requests in flight recorded as failures (log: {})",
            why, done_.load(), by_id_.size(), log_file_));
        for (auto& [id, f] : by_id_) finish(*f, UserRecord::Outcome::failed, "");
        by_id_.clear();
        writes_.clear();
        read_buffer_.consume(read_buffer_.size());
        if (child_) child_->stop(std::chrono::milliseconds(200));
        child_.reset();
        // Restart it for the requests still to come, at most ten times.
        if (starts_ < 10 && !(stop_ && stop_->load())) start_stdio();
    }

    std::string expand(std::string value) const {
        for (const auto& [k, v] : env_) value = replace_all(value, fmt::format("${{{}}}", k), v);
        return value;
    }
    static unsigned short free_port() {
        asio::io_context ioc;
        asio::ip::tcp::acceptor a(ioc, {asio::ip::make_address("127.0.0.1"), 0});
        return a.local_endpoint().port();
    }

    void step(const std::shared_ptr<Flight>& f, const Step& s) {
        if (f->done) return;
        switch (s.action) {
            case Step::Action::give_up:
                return finish(*f, UserRecord::Outcome::failed, "");
            case Step::Action::serve_cached:
                users_[f->index].provider = -2;
                return finish(*f, UserRecord::Outcome::answered, s.cached);
            case Step::Action::wait:
                f->timer = scheduler_.after(s.delay, [this, f] {
                    if (f->done) return;
                    step(f, f->run->next(now(), f->last ? &*f->last : nullptr));
                });
                return;
            case Step::Action::attempt: {
                const auto& request = workload_[f->index];
                const auto& address = transport_->providers()[s.provider];
                ++users_[f->index].attempts;
                std::size_t provider = s.provider;
                f->handle = transport_->send(
                    provider,
                    client_dialect(address.dialect)
                        .render_chat(outgoing_chat(request, address.model), address.api_key),
                    s.timeout, [this, f, provider](AttemptResult r) {
                        if (f->done) return;
                        if (r.kind == AttemptResult::Kind::answer && !policy_->accepts(r))
                            r.kind = AttemptResult::Kind::broken_stream;
                        if (r.kind == AttemptResult::Kind::answer) {
                            f->run->answered(now(), provider, r.text);
                            users_[f->index].provider = static_cast<int>(provider);
                            return finish(*f, UserRecord::Outcome::answered, r.text);
                        }
                        f->last = r;
                        step(f, f->run->next(now(), &*f->last));
                    });
                return;
            }
        }
    }

    void finish(Flight& f, UserRecord::Outcome outcome, const std::string& text) {
        if (f.done) return;
        f.done = true;
        scheduler_.cancel(f.timer);
        scheduler_.cancel(f.hung);
        auto& u = users_[f.index];
        u.outcome = outcome;
        u.finished = now();
        if (outcome == UserRecord::Outcome::answered) {
            auto judged = judge_answer(workload_[f.index], text);
            u.verdict = std::move(judged.verdict);
            u.outdated_by = judged.outdated_by;
            if (received_answer(u, scenario_.workload)) ++good_;
        }
        if (log_ != nullptr) {
            log_->user(client_.name, u);
        }
        if (outcome == UserRecord::Outcome::hung) {
            transport_->abandon(f.handle);
            if (by_id_.erase(workload_[f.index].id) > 0) hung_ids_[workload_[f.index].id] = f.index;
        }
        ++done_;
        flights_.erase(f.index);  // `f` stays alive: its caller holds it
        end_if_done();
    }

    const Scenario& scenario_;
    const ClientSpec& client_;
    RunLog* log_;  // null: the run is not written as it goes
    std::shared_ptr<ScaledClock> clock_;
    const std::vector<UserRequest>& workload_;
    asio::io_context ioc_;
    std::unique_ptr<VirtualScheduler> virtual_;
    std::unique_ptr<RealScheduler> real_;
    Scheduler& scheduler_;
    // Virtual time: the providers in this process, and their journal.
    mock::AttemptJournal journal_;
    mock::Metrics metrics_;
    std::vector<std::unique_ptr<mock::Provider>> in_process_;
    std::atomic<bool> stop_requested_{false};
    Scheduler::TimerId arrival_ = 0;
    std::unique_ptr<mock::Fleet> fleet_;
    std::unique_ptr<Transport> transport_;
    std::unique_ptr<Policy> policy_;
    std::vector<UserRecord> users_;
    std::map<std::size_t, std::shared_ptr<Flight>> flights_;
    std::atomic<bool>* stop_ = nullptr;
    bool arrivals_done_ = false;
    Duration late_max_{};
    std::size_t late_users_ = 0;
    bool interrupted_ = false;
    std::atomic<std::size_t> done_{0};
    std::atomic<std::size_t> good_{0};
    // External stacks.
    std::map<std::string, std::string> env_;
    std::optional<std::string> warp_;  // libfaketime, when the child runs in scenario time

    // The child's environment; a warped child's clock starts at the scenario's calendar now.
    std::map<std::string, std::string> child_env() const {
        auto env = env_;
        if (warp_) {
            auto offset = fleet_->providers().front()->client_unix_now() -
                          static_cast<std::int64_t>(std::time(nullptr));
            for (auto& [k, v] : scenario_clock_env(*warp_, offset, scenario_.time_scale))
                env[k] = v;
        }
        return env;
    }
    std::string providers_json_;
    std::string log_file_;
    std::unique_ptr<ChildProcess> child_;
    std::map<std::uint64_t, std::shared_ptr<Flight>> by_id_;
    std::deque<std::string> writes_;
    asio::streambuf read_buffer_{std::size_t{4} * 1024 * 1024};
    std::size_t garbage_lines_ = 0;
    std::size_t unknown_ids_ = 0;
    // Stdio users counted hung, by id (to their index): an answer that comes for one after all
    // says the client fell behind rather than lost the request.
    std::map<std::uint64_t, std::size_t> hung_ids_;
    std::vector<Duration> late_answers_;
    int starts_ = 0;
    unsigned short gateway_port_ = 0;
    std::string gateway_url_;
    bool gateway_ready_ = false;
    bool ending_ = false;
    std::vector<std::string> notes_;
};

}  // namespace

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

RunResult run_scenario(Scenario scenario, const RunOptions& options) {
    apply_run_options(scenario, options);
    std::unique_ptr<RunLog> log;
    if (!options.log_dir.empty())
        log = std::make_unique<RunLog>(options.log_dir, options.scenario_text, scenario);
    RunResult result;
    auto workload = generate_workload(scenario.workload, scenario.duration, scenario.seed);
    // One clock for every stack: they all live the same incident at the same moment.
    auto clock = std::make_shared<ScaledClock>(scenario.time_scale);
    std::vector<std::unique_ptr<StackDriver>> drivers;
    for (const auto& client : scenario.clients)
        drivers.push_back(std::make_unique<StackDriver>(scenario, client, clock, workload,
                                                        options.virtual_time, log.get()));
    for (auto& d : drivers) d->prepare(options.stop);
    clock->jump_to(Duration::zero());
    auto started = SteadyClock::now();
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
                options.progress(clock->now(), progress);
            }
        }
        lock.lock();
    }
    for (auto& t : threads) t.join();
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
