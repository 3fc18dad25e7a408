// kind = "stdio": a program that reads one request per line on stdin and writes one result per
// line on stdout (README "Client stacks"), talking to the fleet itself with its own library —
// an official SDK, the Vercel AI SDK, LangChain, a Python stack. It is its own policy.

#include <fmt/format.h>

#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <functional>

#include "core/text.h"
#include "harness/process.h"
#include "harness/stacks/stack.h"
#include "harness/stdio_protocol.h"
#include "wire/answer.h"

namespace brownout::harness {
namespace {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

// Warm-up requests' ids: far above any workload id.
constexpr std::uint64_t kWarmupIds = std::uint64_t{1} << 62;

class Stdio final : public Stack {
public:
    Stdio(StackSetup setup, StackHost& host)
        : host_(host),
          scenario_(setup.scenario),
          client_(setup.client),
          workload_(setup.workload),
          log_file_(std::move(setup.log_file)),
          warped_(setup.warped) {}

    void prepare() override { launch(); }

    void start(std::size_t user) override {
        const auto& r = workload_[user];
        host_.attempted(user);
        if (!child_) return host_.finish(user, UserRecord::Outcome::failed, "", -1);
        by_id_[r.id] = user;
        writes_.push_back(line_for(r, r.id));
        if (writes_.size() == 1) write();
    }

    void abandon(std::size_t user) override {
        auto id = workload_[user].id;
        if (by_id_.erase(id) > 0) hung_ids_[id] = user;
    }

    // Stopping the program ends the pending read (read() then sees the run ending). A result it
    // writes meanwhile still finds its user, whom the runner no longer records: still unfinished.
    void stop() override {
        if (child_) child_->stop(std::chrono::milliseconds(1000));
    }
    void close() override {
        if (child_) child_->stop();
    }

    void notes(std::vector<std::string>& out) const override {
        if (garbage_lines_ > 0)
            out.push_back(
                fmt::format("stdio client wrote {} lines that are not results", garbage_lines_));
        if (unknown_ids_ > 0)
            out.push_back(
                fmt::format("stdio client answered {} unknown or finished ids", unknown_ids_));
    }
    std::vector<Duration> late_answers() const override { return late_answers_; }

private:
    void launch() {
        try {
            child_ = std::make_unique<ChildProcess>(host_.io(), client_.command, host_.child_env(),
                                                    log_file_);
        } catch (const std::exception& e) {
            host_.note(fmt::format("stdio client did not start: {}", e.what()));
            return;
        }
        if (++starts_ == 1 && !warped_)
            host_.note(
                "stdio client: its own timers (retries, timeouts) run in wall time, not scenario "
                "time");
        if (starts_ == 1 && client_.ready_line) await_ready_line();
        if (starts_ == 1) warm_up();
        read();
    }

    // Before the scenario clock starts: the client's first line, {"ready":true}, up to
    // ready_timeout. A Node stack importing LangChain takes a second or more of wall time — at a
    // time scale of 360 that is six scenario minutes its first users would otherwise wait.
    void await_ready_line() {
        bool ended = false, said = false;
        asio::async_read_until(child_->out(), buffer_, '\n',
                               [&](boost::system::error_code ec, std::size_t n) {
                                   ended = true;
                                   if (ec) return;
                                   said = is_ready_line(take_line(n));
                                   if (!said) ++garbage_lines_;
                               });
        auto& ioc = host_.io();
        auto give_up = SteadyClock::now() + client_.ready_timeout;
        while (!ended && SteadyClock::now() < give_up && !host_.stop_requested())
            ioc.run_one_for(std::chrono::milliseconds(100));
        if (!ended) child_->out().cancel();
        while (!ended) ioc.run_one();
        ioc.restart();
        if (!said)
            host_.note(fmt::format(
                "stdio client did not write {{\"ready\":true}} first within {} (ready_line): the "
                "run started without it",
                format_duration(client_.ready_timeout)));
    }

    std::string line_for(const UserRequest& r, std::uint64_t id) const {
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
        const auto deadline = scenario_.workload.deadline;
        return fmt::format(
            "{{\"id\":{},\"kind\":\"{}\",\"deadline_ms\":{:.0f},\"request\":{},\"anthropic_"
            "request\":{}{}}}\n",
            id, to_string(r.kind),
            std::chrono::duration<double, std::milli>(warped_ ? deadline : host_.to_wall(deadline))
                .count(),
            render_request(r, wire::DialectKind::openai, ""),
            render_request(r, wire::DialectKind::anthropic, ""), requests);
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
        host_.restart_clock();
        for (std::size_t k = 0; k < picks.size(); ++k) {
            // Another question of the same kind: nothing the stack could cache for the run.
            UserRequest r = workload_[picks[k]];
            r.warm_up = true;
            writes_.push_back(line_for(r, kWarmupIds + k));
        }
        write();
        std::size_t left = picks.size();
        bool reading = false;
        std::function<void()> read_one = [&] {
            reading = true;
            asio::async_read_until(child_->out(), buffer_, '\n',
                                   [&](boost::system::error_code ec, std::size_t n) {
                                       reading = false;
                                       if (ec) return;
                                       auto r = parse_stdio_line(take_line(n));
                                       if (r && r->id >= kWarmupIds) --left;
                                       if (left > 0) read_one();
                                   });
        };
        read_one();
        auto& ioc = host_.io();
        auto give_up = SteadyClock::now() + client_.ready_timeout;
        while (left > 0 && reading && SteadyClock::now() < give_up && !host_.stop_requested())
            ioc.run_one_for(std::chrono::milliseconds(100));
        if (reading) child_->out().cancel();
        while (reading || !writes_.empty()) {
            if (ioc.run_one_for(std::chrono::milliseconds(100)) == 0 && !reading) break;
        }
        ioc.restart();
        if (left > 0)
            host_.note(fmt::format("warm-up: {} of {} requests unanswered before the run", left,
                                   picks.size()));
    }

    std::string take_line(std::size_t n) {
        std::string line(asio::buffers_begin(buffer_.data()),
                         asio::buffers_begin(buffer_.data()) + static_cast<std::ptrdiff_t>(n));
        buffer_.consume(n);
        return line;
    }

    void write() {
        if (writes_.empty() || !child_) return;
        asio::async_write(child_->in(), asio::buffer(writes_.front()),
                          [this](boost::system::error_code ec, std::size_t) {
                              writes_.pop_front();
                              if (ec) {
                                  writes_.clear();
                                  return;  // the reader sees the exit and fails what is in flight
                              }
                              write();
                          });
    }

    void read() {
        asio::async_read_until(
            child_->out(), buffer_, '\n', [this](boost::system::error_code ec, std::size_t n) {
                if (ec)
                    return exited(ec == asio::error::not_found ? "wrote a line over 4 MiB"
                                                               : "exited");
                on_line(take_line(n));
                read();
            });
    }

    void on_line(const std::string& line) {
        if (is_ready_line(line)) return;  // a restarted client saying it is ready again
        auto result = parse_stdio_line(line);
        if (!result) {
            ++garbage_lines_;
            return;
        }
        if (result->id >= kWarmupIds) return;  // a warm-up answer that came late
        ++results_;
        auto it = by_id_.find(result->id);
        if (it == by_id_.end()) {
            if (auto hung = hung_ids_.find(result->id); hung != hung_ids_.end()) {
                late_answers_.push_back(host_.now() - workload_[hung->second].arrival);
                hung_ids_.erase(hung);
            } else {
                ++unknown_ids_;
            }
            return;
        }
        std::size_t user = it->second;
        by_id_.erase(it);
        if (!result->answered) return host_.finish(user, UserRecord::Outcome::failed, "", -1);
        int provider = -1;  // the first route of that provider
        for (std::size_t i = client_.providers.size(); i-- > 0;) {
            if (parse_route(client_.providers[i]).provider == result->provider)
                provider = static_cast<int>(i);
        }
        host_.finish(user, UserRecord::Outcome::answered, result->text, provider);
    }

    void exited(const std::string& why) {
        if (host_.ending()) return;
        host_.note(fmt::format(
            "stdio client {} after {} results; {} requests in flight recorded as failures (log: "
            "{})",
            why, results_, by_id_.size(), log_file_));
        auto failed = std::move(by_id_);
        by_id_.clear();
        for (auto& [id, user] : failed) host_.finish(user, UserRecord::Outcome::failed, "", -1);
        writes_.clear();
        buffer_.consume(buffer_.size());
        if (child_) child_->stop(std::chrono::milliseconds(200));
        child_.reset();
        // Restart it for the requests still to come, at most ten times.
        if (starts_ < 10 && !host_.stop_requested() && !host_.ending()) launch();
    }

    StackHost& host_;
    const Scenario& scenario_;
    const ClientSpec& client_;
    const std::vector<UserRequest>& workload_;
    std::string log_file_;
    bool warped_;
    std::unique_ptr<ChildProcess> child_;
    int starts_ = 0;
    std::map<std::uint64_t, std::size_t> by_id_;  // requests in flight: id to workload index
    // Users counted hung, by id: an answer that comes for one after all says the client fell
    // behind rather than lost the request.
    std::map<std::uint64_t, std::size_t> hung_ids_;
    std::vector<Duration> late_answers_;
    std::deque<std::string> writes_;
    asio::streambuf buffer_{std::size_t{4} * 1024 * 1024};
    std::size_t results_ = 0;
    std::size_t garbage_lines_ = 0;
    std::size_t unknown_ids_ = 0;
};

}  // namespace

std::unique_ptr<Stack> make_stdio_stack(StackSetup setup, StackHost& host) {
    return std::make_unique<Stdio>(std::move(setup), host);
}

}  // namespace brownout::harness
