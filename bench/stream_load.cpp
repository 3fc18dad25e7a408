// Load generator for bench/stream_load.sh (issue 5, "load held"): keeps STREAMS SSE streams open
// against a running mock (each replaced by a new one on the same connection when it ends) plus
// RPS non-streaming requests a second on fresh connections, for SECONDS. It measures every gap
// between consecutive answer tokens of a stream against the gap the scenario scripts
// (1 / tokens_per_second), verifies every answer with wire::verify_answer (complete, for its own
// request), and samples the server's RSS and CPU time from /proc.
//
// One thread, raw sockets and Beast's parser: the generator must cost less than the server it
// measures, or it measures itself (the Node generator this replaces did).
//
//   stream_load --url http://127.0.0.1:PORT --pid PID [--streams 1000] [--rps 50] [--seconds 300]
//               [--tokens-per-second 50] [--tokens 200]
// Exit code: 0 when every target holds (no errors, p99 < 5 ms, RSS flat), 1 otherwise.

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench/gap_histogram.h"
#include "wire/answer.h"
#include "wire/dialect.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
    std::string host = "127.0.0.1";
    std::string port;
    int pid = 0;
    int streams = 1000;
    double rps = 50;
    double seconds = 300;
    double tokens_per_second = 50;
};

struct Totals {
    std::uint64_t streams_ok = 0, stream_errors = 0, requests_ok = 0, request_errors = 0,
                  tokens = 0;
    std::vector<std::string> first_errors;
    std::map<int, std::uint64_t> errors_by_status;  // the HTTP status the client saw (0: none)
    brownout::bench::GapHistogram gap_error;
    // Where the misses fall: gap errors over the target (5 ms), by 5-second window of the run.
    Clock::time_point begin;
    std::vector<std::uint64_t> misses_by_window;
    void gap(Clock::time_point now, double error_micros) {
        gap_error.add(error_micros);
        if (error_micros <= 5000) return;
        auto window =
            static_cast<std::size_t>(std::chrono::duration<double>(now - begin).count() / 5);
        if (window >= misses_by_window.size()) misses_by_window.resize(window + 1);
        ++misses_by_window[window];
    }
    void error(std::uint64_t& counter, int status, std::string what) {
        ++counter;
        ++errors_by_status[status];
        if (first_errors.size() < 10) first_errors.push_back(std::move(what));
    }
};

// Attempts the server journaled with a fault, by the status it sent: the scripted ones.
std::map<int, std::uint64_t> faulted_attempts(const Options& o) {
    asio::io_context ioc;
    tcp::socket socket(ioc);
    asio::connect(socket, tcp::resolver(ioc).resolve(o.host, o.port));
    http::request<http::empty_body> req{http::verb::get, "/metrics", 11};
    req.set(http::field::host, o.host);
    http::write(socket, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(socket, buffer, res);
    std::map<int, std::uint64_t> out;
    std::istringstream lines(res.body());
    for (std::string line; std::getline(lines, line);) {
        if (!line.starts_with("brownout_attempts_total{")) continue;
        auto field = [&](std::string_view key) {
            auto at = line.find(std::string(key) + "=\"");
            if (at == std::string::npos) return std::string();
            at += key.size() + 2;
            return line.substr(at, line.find('"', at) - at);
        };
        if (field("fault").empty()) continue;
        out[std::stoi(field("status"))] += std::stoull(line.substr(line.rfind(' ') + 1));
    }
    return out;
}

const auto& dialect() {
    static auto d = brownout::wire::make_dialect(brownout::wire::DialectKind::openai,
                                                 brownout::wire::Vendor::openai);
    return *d;
}

std::string chat_body(bool stream, std::uint64_t n) {
    return fmt::format(
        R"({{"model":"gpt-4o-mini","stream":{},"messages":[{{"role":"user","content":"load request {}"}}]}})",
        stream ? "true" : "false", n);
}

std::string http_request(const Options& o, const std::string& body, bool keep_alive) {
    return fmt::format(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: {}:{}\r\ncontent-type: application/json\r\n"
        "content-length: {}\r\nconnection: {}\r\n\r\n{}",
        o.host, o.port, body.size(), keep_alive ? "keep-alive" : "close", body);
}

std::string verify(std::string_view text, const std::string& request_body) {
    auto parsed = dialect().parse_chat(request_body);
    auto verdict =
        brownout::wire::verify_answer(text, std::get<brownout::wire::ChatRequest>(parsed));
    return verdict == brownout::wire::Verdict::ok ? "" : std::string(to_string(verdict));
}

// One connection that streams answers back to back until the deadline.
class Streamer : public std::enable_shared_from_this<Streamer> {
public:
    Streamer(asio::io_context& ioc, const Options& o, const tcp::resolver::results_type& where,
             Totals& totals, Clock::time_point deadline, std::uint64_t id)
        : socket_(ioc),
          options_(o),
          where_(where),
          totals_(totals),
          deadline_(deadline),
          id_(id),
          gap_micros_(1e6 / o.tokens_per_second) {}

    void start() {
        asio::async_connect(
            socket_, where_,
            [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
                if (ec) return self->fail("connect: " + ec.message());
                self->socket_.set_option(tcp::no_delay(true));
                self->send();
            });
    }

private:
    void send() {
        if (Clock::now() >= deadline_) return;
        body_ = chat_body(true, (id_ << 20) + ++count_);
        out_ = http_request(options_, body_, true);
        text_.clear();
        pending_.clear();
        last_token_ = {};
        done_ = false;
        parser_.emplace();
        parser_->body_limit(boost::none);
        parser_->on_chunk_body(on_chunk_);  // Beast keeps a reference: the callback is a member
        asio::async_write(socket_, asio::buffer(out_),
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->fail("write: " + ec.message());
                              self->read();
                          });
    }

    void read() {
        http::async_read_some(
            socket_, buffer_, *parser_,
            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                if (ec) return self->fail("read: " + ec.message());
                if (self->parser_->is_header_done() && self->parser_->get().result_int() != 200) {
                    int status = static_cast<int>(self->parser_->get().result_int());
                    return self->fail(fmt::format("status {}", status), status);
                }
                if (!self->parser_->is_done()) return self->read();
                self->finish();
            });
    }

    // SSE events are split at blank lines; a token event's arrival is the time of the read
    // that completed it.
    void on_piece(std::string_view piece) {
        auto now = Clock::now();
        pending_.append(piece);
        std::size_t start = 0;
        for (auto end = pending_.find("\n\n"); end != std::string::npos;
             end = pending_.find("\n\n", start)) {
            std::string_view event(pending_.data() + start, end - start);
            start = end + 2;
            if (!event.starts_with("data: ")) continue;
            event.remove_prefix(6);
            if (event == "[DONE]") {
                done_ = true;
                continue;
            }
            boost::system::error_code ec;
            auto json = boost::json::parse(event, ec);
            if (ec) continue;
            const auto* choices = json.as_object().if_contains("choices");
            if (choices == nullptr || choices->as_array().empty()) continue;
            const auto* content =
                choices->as_array()[0].as_object().at("delta").as_object().if_contains("content");
            if (content == nullptr || !content->is_string() || content->as_string().empty())
                continue;
            text_ += std::string_view(content->as_string());
            ++totals_.tokens;
            if (last_token_ != Clock::time_point{}) {
                double gap = std::chrono::duration<double, std::micro>(now - last_token_).count();
                totals_.gap(now, std::abs(gap - gap_micros_));
            }
            last_token_ = now;
        }
        pending_.erase(0, start);
    }

    void finish() {
        if (!done_) return fail("stream ended without [DONE]", 200);
        if (auto bad = verify(text_, body_); !bad.empty()) return fail("answer " + bad, 200);
        ++totals_.streams_ok;
        send();
    }

    void fail(std::string what, int status = 0) {
        totals_.error(totals_.stream_errors, status, fmt::format("stream {}: {}", id_, what));
        beast::error_code ignored;
        socket_.close(ignored);
        // A failed connection is replaced, so the load stays at STREAMS.
        if (Clock::now() < deadline_) {
            auto next = std::make_shared<Streamer>(
                static_cast<asio::io_context&>(socket_.get_executor().context()), options_, where_,
                totals_, deadline_, id_ + 1'000'000);
            next->start();
        }
    }

    tcp::socket socket_;
    const Options& options_;
    tcp::resolver::results_type where_;
    Totals& totals_;
    Clock::time_point deadline_;
    std::uint64_t id_;
    double gap_micros_;
    std::uint64_t count_ = 0;
    std::string body_, out_, text_, pending_;
    beast::flat_buffer buffer_;
    std::optional<http::response_parser<http::empty_body>> parser_;
    Clock::time_point last_token_{};
    bool done_ = false;
    std::function<std::size_t(std::uint64_t, std::string_view, beast::error_code&)> on_chunk_ =
        [this](std::uint64_t, std::string_view piece, beast::error_code&) {
            on_piece(piece);
            return piece.size();
        };
};

// One non-streaming request on its own connection.
class Requester : public std::enable_shared_from_this<Requester> {
public:
    Requester(asio::io_context& ioc, const Options& o, const tcp::resolver::results_type& where,
              Totals& totals, std::uint64_t n)
        : socket_(ioc), options_(o), where_(where), totals_(totals), body_(chat_body(false, n)) {}

    void start() {
        asio::async_connect(
            socket_, where_,
            [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
                if (ec) return self->fail("connect: " + ec.message());
                self->out_ = http_request(self->options_, self->body_, false);
                asio::async_write(self->socket_, asio::buffer(self->out_),
                                  [self](beast::error_code ec2, std::size_t) {
                                      if (ec2) return self->fail("write: " + ec2.message());
                                      http::async_read(
                                          self->socket_, self->buffer_, self->response_,
                                          [self](beast::error_code ec3, std::size_t) {
                                              if (ec3) return self->fail("read: " + ec3.message());
                                              self->check();
                                          });
                                  });
            });
    }

private:
    void check() {
        int status = static_cast<int>(response_.result_int());
        if (status != 200) return fail(fmt::format("status {}", status), status);
        boost::system::error_code ec;
        auto json = boost::json::parse(response_.body(), ec);
        if (ec) return fail("invalid JSON", 200);
        std::string text(json.at("choices").at(0).at("message").at("content").as_string());
        if (auto bad = verify(text, body_); !bad.empty()) return fail("answer " + bad, 200);
        ++totals_.requests_ok;
    }
    void fail(std::string what, int status = 0) {
        totals_.error(totals_.request_errors, status, "request: " + what);
    }

    tcp::socket socket_;
    const Options& options_;
    tcp::resolver::results_type where_;
    Totals& totals_;
    std::string body_, out_;
    beast::flat_buffer buffer_;
    http::response<http::string_body> response_;
};

struct ProcSample {
    double rss_mib = 0;
    double cpu_seconds = 0;
};

ProcSample sample(int pid) {
    ProcSample s;
    std::ifstream status(fmt::format("/proc/{}/status", pid));
    for (std::string line; std::getline(status, line);) {
        if (line.starts_with("VmRSS:")) s.rss_mib = std::stod(line.substr(6)) / 1024.0;
    }
    std::ifstream stat(fmt::format("/proc/{}/stat", pid));
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    auto close = text.rfind(')');
    if (close != std::string::npos) {
        std::istringstream fields(text.substr(close + 2));
        std::string f;
        double utime = 0, stime = 0;
        for (int i = 3; i <= 15 && fields >> f; ++i) {
            if (i == 14) utime = std::stod(f);
            if (i == 15) stime = std::stod(f);
        }
        s.cpu_seconds = (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
    }
    return s;
}

Options parse_options(int argc, char** argv) {
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string key = argv[i], value = argv[i + 1];
        if (key == "--url") {
            auto rest = value.substr(value.find("//") + 2);
            auto colon = rest.find(':');
            o.host = rest.substr(0, colon);
            o.port = rest.substr(colon + 1);
            if (auto slash = o.port.find('/'); slash != std::string::npos) o.port.resize(slash);
        } else if (key == "--pid") {
            o.pid = std::stoi(value);
        } else if (key == "--streams") {
            o.streams = std::stoi(value);
        } else if (key == "--rps") {
            o.rps = std::stod(value);
        } else if (key == "--seconds") {
            o.seconds = std::stod(value);
        } else if (key == "--tokens-per-second") {
            o.tokens_per_second = std::stod(value);
        } else {
            throw std::runtime_error("unknown option " + key);
        }
    }
    if (o.port.empty() || o.pid == 0) throw std::runtime_error("--url and --pid are required");
    return o;
}

}  // namespace

int main(int argc, char** argv) try {
    Options o = parse_options(argc, argv);
    asio::io_context ioc(1);
    auto where = tcp::resolver(ioc).resolve(o.host, o.port);
    auto begin = Clock::now();
    auto deadline = begin + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(o.seconds));
    Totals totals;
    totals.begin = begin;

    // Streams start evenly over the first second (stream i at i/STREAMS s), as bench/stream_floor's
    // frames are spread, so that they do not run in lockstep. (Until 2026-12-04 they started in
    // batches of STREAMS/100 every 10 ms: at 10,000 streams and 5 tokens a second, 500 streams'
    // tokens fell due at the same instant, every 10 ms.)
    asio::steady_timer ramp(ioc);
    int started = 0;
    auto start_of = [&](int i) {
        return begin + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                           static_cast<double>(i) / std::max(o.streams, 1)));
    };
    std::function<void()> start_streams = [&] {
        auto now = Clock::now();
        while (started < o.streams && start_of(started) <= now && now < deadline) {
            std::make_shared<Streamer>(ioc, o, where, totals, deadline,
                                       static_cast<std::uint64_t>(started++))
                ->start();
        }
        if (started < o.streams && now < deadline) {
            ramp.expires_at(start_of(started));
            ramp.async_wait([&](beast::error_code) { start_streams(); });
        }
    };
    start_streams();

    // Non-streaming requests on a fixed schedule (not "one after the other"): a slow server
    // does not lower the offered load.
    asio::steady_timer pacer(ioc);
    std::uint64_t sent = 0;
    auto interval = std::chrono::duration<double>(1.0 / std::max(o.rps, 1e-3));
    std::function<void()> next_request = [&] {
        if (o.rps <= 0) return;
        auto due = begin + std::chrono::duration_cast<Clock::duration>(interval *
                                                                       static_cast<double>(sent));
        if (due >= deadline) return;
        pacer.expires_at(due);
        pacer.async_wait([&](beast::error_code) {
            std::make_shared<Requester>(ioc, o, where, totals, (1ULL << 62) + sent++)->start();
            next_request();
        });
    };
    next_request();

    std::vector<ProcSample> samples{sample(o.pid)};
    asio::steady_timer sampler(ioc);
    std::function<void()> take_sample = [&] {
        sampler.expires_after(std::chrono::seconds(5));
        sampler.async_wait([&](beast::error_code) {
            samples.push_back(sample(o.pid));
            if (Clock::now() < deadline) take_sample();
        });
    };
    take_sample();
    ioc.run();

    double elapsed = std::chrono::duration<double>(Clock::now() - begin).count();
    const auto& g = totals.gap_error;
    fmt::print(
        "streams completed {}, stream errors {}; requests completed {}, request errors {}; {:.0f} "
        "tokens/s\n",
        totals.streams_ok, totals.stream_errors, totals.requests_ok, totals.request_errors,
        static_cast<double>(totals.tokens) / elapsed);
    for (const auto& e : totals.first_errors) fmt::print("  error: {}\n", e);
    fmt::print(
        "inter-token timing error (ms): p50 {:.2f}  p99 {:.2f}  p99.9 {:.2f}  max {:.2f}  over {} "
        "gaps\n",
        g.quantile(0.5) / 1000, g.quantile(0.99) / 1000, g.quantile(0.999) / 1000, g.max() / 1000,
        g.count());
    // Window k is the run's seconds [5k, 5k + 5), to its end (the streams open at the deadline
    // finish their answers).
    auto& by_window = totals.misses_by_window;
    by_window.resize(std::max(by_window.size(), static_cast<std::size_t>(std::ceil(elapsed / 5))));
    std::string misses;
    for (auto n : by_window) misses += fmt::format("{} ", n);
    fmt::print("gaps more than 5 ms off, every 5 s: {}\n", misses);
    std::string rss;
    for (const auto& s : samples) rss += fmt::format("{:.0f} ", s.rss_mib);
    fmt::print("server RSS (MiB) every 5 s: {}\n", rss);
    double cpu = samples.back().cpu_seconds - samples.front().cpu_seconds;
    fmt::print("server CPU: {:.1f} s over {:.0f} s ({:.0f}% of one core)\n", cpu, elapsed,
               100 * cpu / elapsed);

    // Flat memory: the last two minutes (after warm-up and after the journal's window of
    // attempts has filled) add less than 3% to RSS.
    std::size_t from = samples.size() > 25 ? samples.size() - 25 : 0;
    double warm_rss = samples[from].rss_mib;
    double peak_after = warm_rss;
    for (std::size_t i = from; i < samples.size(); ++i)
        peak_after = std::max(peak_after, samples[i].rss_mib);
    bool flat = peak_after <= warm_rss * 1.03;
    // "No error beyond the scripted faults": an error the client saw with status S is scripted
    // when the server journaled that many faulted attempts with status S (0: no HTTP answer).
    auto faulted = faulted_attempts(o);
    std::uint64_t scripted = 0, unscripted = 0;
    std::string by_status;
    for (const auto& [status, seen] : totals.errors_by_status) {
        std::uint64_t covered = std::min(seen, faulted[status]);
        scripted += covered;
        unscripted += seen - covered;
        by_status += fmt::format(" {}×{} (journaled as faults: {})", status, seen, faulted[status]);
    }
    fmt::print("errors by status:{}\n", by_status.empty() ? " none" : by_status);
    bool ok = unscripted == 0 && g.quantile(0.99) < 5000 && flat && g.count() > 0;
    fmt::print(
        "targets: errors beyond the scripted faults {} ({} scripted), p99 < 5 ms {}, RSS flat over "
        "the last two minutes "
        "({:.0f} → {:.0f} MiB) {} → {}\n",
        unscripted, scripted, g.quantile(0.99) < 5000 ? "yes" : "NO", warm_rss, peak_after,
        flat ? "yes" : "NO", ok ? "MET" : "NOT MET");
    return ok ? 0 : 1;
} catch (const std::exception& e) {
    std::fprintf(stderr, "stream_load: %s\n", e.what());
    return 2;
}
