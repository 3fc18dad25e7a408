#include "mockprovider/server.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <functional>
#include <mutex>
#include <variant>

#include "core/duration.h"
#include "core/error.h"
#include "core/random.h"
#include "core/real_scheduler.h"
#include "core/text.h"
#include "mockprovider/control.h"
#include "mockprovider/http_request.h"
#include "mockprovider/idle_deadlines.h"
#include "mockprovider/lease.h"
#include "mockprovider/status_json.h"

namespace brownout::mock {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;  // NOLINT(readability-identifier-naming): Asio's own spelling
using SteadyClock = std::chrono::steady_clock;

namespace {

// Every settable limit once: its name, the field it sets, and for counts the allowed range.
using CountField = std::size_t ServerLimits::*;
using WallField = std::chrono::milliseconds ServerLimits::*;
struct LimitField {
    const char* name;
    std::variant<CountField, WallField> field;
    std::size_t low = 0;
    std::size_t high = 0;
};
const LimitField kLimitFields[] = {
    {"max_header_bytes", &ServerLimits::max_header_bytes, 1024, 1 << 20},
    {"header_timeout", &ServerLimits::header_timeout},
    {"idle_timeout", &ServerLimits::idle_timeout},
    {"shutdown_grace", &ServerLimits::shutdown_grace},
    {"max_connections", &ServerLimits::max_connections, 0, 1'000'000},
    {"max_streams", &ServerLimits::max_streams, 0, 1'000'000},
    {"journal_entries", &ServerLimits::journal_entries, 0, 100'000'000},
};

}  // namespace

const std::vector<std::string>& server_limit_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const auto& f : kLimitFields) out.emplace_back(f.name);
        return out;
    }();
    return names;
}

std::string set_server_limit(ServerLimits& limits, std::string_view name, std::string_view value) {
    for (const auto& f : kLimitFields) {
        if (name != f.name) continue;
        if (const auto* count = std::get_if<CountField>(&f.field)) {
            std::size_t n = 0;
            auto [ptr, err] = std::from_chars(value.data(), value.data() + value.size(), n);
            if (err != std::errc() || ptr != value.data() + value.size() || n < f.low ||
                n > f.high) {
                return fmt::format("\"{}\" is not a whole number from {} to {}", value, f.low,
                                   f.high);
            }
            limits.*(*count) = n;
            return "";
        }
        auto d = parse_duration(value);
        if (!d || *d <= Duration::zero())
            return fmt::format("\"{}\" is not a positive duration (e.g. \"10s\", \"2m\")", value);
        limits.*std::get<WallField>(f.field) =
            std::chrono::duration_cast<std::chrono::milliseconds>(*d);
        return "";
    }
    auto near = closest_match(name, server_limit_names());
    return fmt::format("unknown server limit \"{}\"{}", name,
                       near.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", near));
}

std::string Endpoint::url() const {
    return fmt::format("http://{}:{}", host, port);
}

std::string ready_json(const std::vector<Endpoint>& endpoints) {
    std::string out = "{\"providers\":[";
    for (std::size_t i = 0; i < endpoints.size(); ++i) {
        if (i > 0) out += ",";
        out += fmt::format("{{\"id\":{},\"url\":{}}}", json_string(endpoints[i].provider),
                           json_string(endpoints[i].url()));
    }
    return out + "]}";
}

class Session;

class ProviderServer : public std::enable_shared_from_this<ProviderServer> {
public:
    ProviderServer(asio::io_context& ioc, Provider& provider, const ServerLimits& limits,
                   bool threaded)
        : ioc_(ioc),
          acceptor_(asio::make_strand(ioc)),
          provider_(provider),
          limits_(limits),
          grace_timer_(ioc),
          threaded_(threaded),
          refused_connections_(&provider.metrics().series(
              metric::refused_connections,
              {{"provider", provider.config().id}, {"limit", "max_connections"}})),
          accept_failures_(&provider.metrics().series(
              metric::refused_connections,
              {{"provider", provider.config().id}, {"limit", "accept_failed"}})) {}

    void listen(const std::string& host, unsigned short port) {
        boost::system::error_code ec;
        tcp::endpoint endpoint(asio::ip::make_address(host, ec), port);
        if (ec)
            throw Error(fmt::format("provider {}: bad listen address '{}': {}",
                                    provider_.config().id, host, ec.message()));
        open_acceptor(endpoint, ec);
        if (ec) {
            throw Error(fmt::format("provider {}: cannot listen on {}:{}: {}",
                                    provider_.config().id, host, port, ec.message()));
        }
        endpoint_ = {provider_.config().id, host, acceptor_.local_endpoint().port()};
    }

    void start() {
        do_accept();
        sweep();
        // A jump of the clock (control API) can move the timeline into or out of an outage.
        clock_ = provider_.controllable_clock();
        if (clock_ != nullptr) {
            subscription_ = clock_->subscribe([weak = weak_from_this()] {
                if (auto self = weak.lock()) self->timeline_changed();
            });
        }
        timeline_changed();
    }
    // No destructor work: a handler the io_context still holds may destroy the server after the
    // fleet's providers and clock are gone (release_sessions() unsubscribes while they live).
    ~ProviderServer() = default;
    ProviderServer(const ProviderServer&) = delete;
    ProviderServer& operator=(const ProviderServer&) = delete;
    // Looks at the timeline again now: a phase was injected or cleared, or the clock jumped.
    void timeline_changed() {
        asio::post(acceptor_.get_executor(),
                   [self = shared_from_this()] { self->watch_timeline(); });
    }
    const Endpoint& endpoint() const { return endpoint_; }
    Provider& provider() { return provider_; }
    const ServerLimits& limits() const { return limits_; }
    bool shutting_down() const { return shutting_down_.load(); }

    // Gives a new session its place among the idle deadlines.
    void add(const std::shared_ptr<Session>& s);

    // `drained` runs once every session has ended or the grace period is over.
    void shutdown(std::function<void()> drained);
    // Drops every reference to a session the server keeps outside the io_context.
    void release_sessions();

private:
    void drain(std::vector<std::weak_ptr<Session>> watched, SteadyClock::time_point deadline,
               std::function<void()> drained);
    // Timeouts are checked by one periodic sweep rather than a timer per read: cheaper on the
    // hot path, and precise enough for limits measured in seconds. It reads the idle deadlines'
    // table and visits only the connections past theirs.
    void sweep();
    // Follows the timeline between requests: closes or reopens the port for outages with mode
    // "refuse", at each phase boundary (a scheduled event, on the acceptor's strand).
    void watch_timeline();
    void update_refusal();

    // A session needs a strand only when several threads run the io_context.
    asio::any_io_executor session_executor() {
        return threaded_ ? asio::any_io_executor(asio::make_strand(ioc_))
                         : asio::any_io_executor(ioc_.get_executor());
    }

    void do_accept() {
        auto executor = session_executor();
        acceptor_.async_accept(executor, [self = shared_from_this()](boost::system::error_code ec,
                                                                     tcp::socket socket) {
            if (given_up(ec)) return self->do_accept();  // that one is gone: the next
            if (ec) {
                if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) return;
                // Out of file descriptors (EMFILE/ENFILE) or memory: accepting again at once would
                // fail again at once and spin. Pause, count it, and let open answers finish.
                self->accept_failures_->fetch_add(1);
                self->accept_pause_.expires_after(std::chrono::milliseconds(50));
                self->accept_pause_.async_wait([self](beast::error_code wait_ec) {
                    if (!wait_ec && self->acceptor_.is_open()) self->do_accept();
                });
                return;
            }
            self->on_accept(std::move(socket));
            self->accept_waiting();
            self->do_accept();
        });
    }

    // An accept completes once a round of the event loop, and under load a round runs thousands
    // of handlers (the frames due): taken one a round, the connections waiting overflow the
    // kernel's queue for them (somaxconn), the clients' handshakes are dropped and sent again
    // later, and a request can arrive after the header timeout. So the connections already
    // waiting are taken at once too, up to kAcceptsAtOnce (as nginx's multi_accept), while the
    // server is not stopping and under its connection cap (past it, they wait in the queue).
    // The acceptor does not block: with none waiting, accept() says so. A connection its client
    // gave up while it waited is passed over; any other error is async_accept's to meet
    // (do_accept).
    static constexpr int kAcceptsAtOnce = 64;
    void accept_waiting() {
        for (int i = 0;
             i < kAcceptsAtOnce && acceptor_.is_open() && !shutting_down_ &&
             (limits_.max_connections == 0 || open_connections_.load() < limits_.max_connections);
             ++i) {
            boost::system::error_code ec;
            tcp::socket socket = acceptor_.accept(session_executor(), ec);
            if (given_up(ec)) continue;
            if (ec) return;
            on_accept(std::move(socket));
        }
    }
    // A waiting connection its client gave up (reset before it was taken), as accept says it.
    static bool given_up(const boost::system::error_code& ec) {
        return ec == asio::error::connection_aborted ||
               (ec.category() == boost::system::system_category() && ec.value() == EPROTO);
    }
    // Opens the acceptor listening on `endpoint` (at start, and again after an outage that
    // refused connections), as accept_waiting() needs it: accept() that does not block, and a
    // connection given up while waiting said so (Asio's own accept otherwise waits for the next
    // one, with no time limit, where the system says ECONNABORTED or EPROTO).
    void open_acceptor(const tcp::endpoint& endpoint, boost::system::error_code& ec) {
        acceptor_.open(endpoint.protocol(), ec);
        if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec) acceptor_.bind(endpoint, ec);
        if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
        if (!ec) acceptor_.non_blocking(true, ec);
        if (!ec) acceptor_.set_option(asio::socket_base::enable_connection_aborted(true), ec);
    }
    void on_accept(tcp::socket socket);

    asio::io_context& ioc_;
    tcp::acceptor acceptor_;
    Provider& provider_;
    ServerLimits limits_;
    Endpoint endpoint_;
    IdleDeadlines<Session> idle_deadlines_;  // every session's, and the sessions
    std::atomic<bool> shutting_down_{false};
    asio::steady_timer grace_timer_;
    asio::steady_timer sweep_timer_{acceptor_.get_executor()};  // on the acceptor's strand
    Scheduler::TimerId timeline_timer_ = 0;                     // on the acceptor's strand
    ScaledClock* clock_ = nullptr;                              // the fleet's, while it lives
    std::uint64_t subscription_ = 0;
    asio::steady_timer accept_pause_{acceptor_.get_executor()};  // on the acceptor's strand
    bool refusing_ = false;
    std::atomic<std::uint64_t> next_connection_{0};
    std::atomic<std::size_t> open_connections_{0};
    std::atomic<std::size_t> open_streams_{0};
    bool threaded_;
    Metrics::Series* refused_connections_ = nullptr;
    Metrics::Series* accept_failures_ = nullptr;
    friend class Session;
};

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket socket, std::shared_ptr<ProviderServer> server, std::uint64_t id)
        : socket_(std::move(socket)),
          server_(std::move(server)),
          provider_(server_->provider()),
          reader_(server_->limits().max_header_bytes, provider_.config().max_body_bytes) {
        incoming_.connection = id;
    }
    ~Session() { server_->open_connections_.fetch_sub(1); }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    void start() {
        // The peer is read once a connection, not once a request (a system call each).
        beast::error_code ec;
        auto peer = socket_.remote_endpoint(ec);
        incoming_.peer_loopback = !ec && peer.address().is_loopback();
        if (!ec) incoming_.peer = peer.address().to_string();
        // A chunk is written at once where the socket takes it whole (write_chunk); a socket that
        // would block says so instead of blocking the thread. (One that cannot be made so writes
        // every chunk as any write.)
        beast::error_code blocking;
        socket_.non_blocking(true, blocking);
        write_at_once_ = !blocking;
        asio::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->do_read(); });
    }

    // Called on shutdown: idle connections close now, busy ones after their answer.
    void shutdown() {
        asio::post(socket_.get_executor(), [self = shared_from_this()] {
            self->closing_ = true;
            if (self->idle_) self->close();
        });
    }

    // Called by the server's sweep: a connection that has waited too long for its request
    // (header timeout for the first, idle timeout for the next) is closed.
    void close_if_idle(SteadyClock::time_point now) {
        asio::post(socket_.get_executor(), [self = shared_from_this(), now] {
            if (self->idle_ && now - self->waiting_since_ > self->idle_limit()) self->close();
        });
    }

    void force_close() {
        asio::post(socket_.get_executor(), [self = shared_from_this()] {
            if (self->busy_) self->finish_attempt("cut");
            self->close();
        });
    }

private:
    // ── reading ───────────────────────────────────────────────────────────
    // How long a connection may wait for its request: the header timeout for its first, the
    // idle timeout for the next.
    SteadyClock::duration idle_limit() const {
        return first_request_ ? server_->limits().header_timeout : server_->limits().idle_timeout;
    }

    void do_read() {
        if (closing_) return close();
        idle_ = true;
        reader_.reset();
        waiting_since_ = SteadyClock::now();
        idle_place_.set(waiting_since_ + idle_limit());
        if (in_size_ > 0) return on_bytes();  // the next request came with the last one
        read_more();
    }

    // Room for a typical request in one read; more grows as a request needs it (up to the
    // reader's limits), and a connection gives back what a large one took (on_bytes).
    static constexpr std::size_t kReadRoom = 2048;
    static constexpr std::size_t kKeptRoom = std::size_t{64} * 1024;

    void read_more() {
        if (in_.size() - in_size_ < kReadRoom)
            in_.resize(std::max(2 * in_.size(), in_size_ + kReadRoom));
        socket_.async_read_some(asio::buffer(in_.data() + in_size_, in_.size() - in_size_),
                                [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                                    self->in_size_ += n;
                                    if (ec) return self->on_read_error(ec);
                                    self->on_bytes();
                                });
    }

    // A request has begun (or the connection failed): no longer waiting for one.
    void stop_waiting() {
        idle_ = false;
        idle_place_.never();
        first_request_ = false;
    }

    void on_read_error(beast::error_code ec) {
        stop_waiting();
        // Closed between requests, reset, or the server stopping: there is nothing to answer. A
        // request cut off in the middle is a bad one.
        if (!reader_.begun() || ec == asio::error::operation_aborted ||
            ec == asio::error::connection_reset) {
            return close();
        }
        send_plain(400, "Bad Request\n");
    }

    void on_bytes() {
        using Status = RequestReader::Status;
        auto status = reader_.parse({in_.data(), in_size_});
        if (status == Status::incomplete) return read_more();
        stop_waiting();
        switch (status) {
            case Status::bad:
                return send_plain(400, "Bad Request\n");
            case Status::header_too_large:
                return send_plain(431, "Request Header Fields Too Large\n");
            case Status::body_too_large:
                return carry_out(provider_.error_reply(
                    provider_.dialect().body_too_large(provider_.config().max_body_bytes),
                    take_request(), true));
            case Status::incomplete:
            case Status::complete:
                break;
        }
        // What came after the request is the next one's.
        in_size_ -= reader_.consumed();
        std::memmove(in_.data(), in_.data() + reader_.consumed(), in_size_);
        if (in_.size() > kKeptRoom && in_size_ <= kReadRoom) {
            in_.resize(kReadRoom);
            in_.shrink_to_fit();
        }
        on_request();
    }

    void on_request() {
        const IncomingRequest& in = take_request();
        std::string_view target = in.target;
        if (target == "/metrics" && in.method == "GET") {
            return send_plain(200, provider_.metrics().render(),
                              "text/plain; version=0.0.4; charset=utf-8");
        }
        // A health endpoint for whatever waits on the fleet (a CI runner, a Kubernetes probe):
        // any peer, nothing in it but the provider's id.
        if (target == "/healthz" && in.method == "GET") {
            return send_plain(200,
                              fmt::format("{{\"status\":\"ok\",\"provider\":{}}}",
                                          json_string(provider_.config().id)),
                              "application/json");
        }
        if (target.starts_with("/_brownout/")) {
            auto result = handle_control(provider_, in, server_->limits().control);
            if (in.method == "POST" || in.method == "DELETE") server_->timeline_changed();
            return send_plain(result.status, std::move(result.body), "application/json");
        }
        if (target.starts_with("/api/v2/")) {
            auto path = strip_query(target);
            auto now = provider_.clock().now();
            PageInfo page{
                to_hex(hash64(provider_.config().id), 12), provider_.config().id,
                fmt::format("http://{}:{}", server_->endpoint().host, server_->endpoint().port),
                provider_.epoch_unix()};
            if (auto body = render_status_page(path, provider_.status(now), page)) {
                return send_plain(200, std::move(*body), "application/json");
            }
        }
        carry_out(provider_.handle(in));
    }

    // The request just read, moved into the form the provider takes: its strings are swapped
    // with the reader's, which clears them before it reads the next request into them, so a
    // connection's requests after the first allocate none of them. The connection is set when the
    // session is made, the peer once it starts (start()).
    const IncomingRequest& take_request() {
        auto& req = reader_.request();
        auto& in = incoming_;
        in.method.swap(req.method);
        in.target.swap(req.target);
        in.body.swap(req.body);
        in.authorization.swap(req.authorization);
        in.api_key = request_api_key(req.x_api_key, req.x_goog_api_key, in.target);
        in.forced_fault.swap(req.brownout_fault);
        in.retry_count.reset();
        if (!req.retry_count.empty()) {
            int value = 0;
            const auto* end = req.retry_count.data() + req.retry_count.size();
            auto [ptr, err] = std::from_chars(req.retry_count.data(), end, value);
            if (err == std::errc()) in.retry_count = value;
        }
        keep_alive_ = req.keep_alive;
        return in;
    }

    // ── answering ─────────────────────────────────────────────────────────
    // A reply that is not a provider attempt (metrics, control, status page, protocol errors).
    // Protocol errors (plain text) close the connection; the rest keep it.
    void send_plain(int status, std::string body,
                    std::string_view content_type = "text/plain; charset=utf-8") {
        bool close_after = status >= 400 && content_type.starts_with("text/plain");
        reply_ = Reply{};
        reply_.head = fmt::format(
            "HTTP/1.1 {} {}\r\ndate: {}\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: "
            "{}\r\n\r\n",
            status, reason_phrase(status), http_date_now(), content_type, body.size(),
            close_after ? "close" : "keep-alive");
        reply_.body = std::move(body);
        reply_.close = close_after;
        journaled_ = false;
        if (status >= 400)
            provider_.metrics().add(metric::bad_requests, {{"provider", provider_.config().id},
                                                           {"status", std::to_string(status)}});
        write_head();
    }

    void carry_out(Reply&& reply) {
        reply_ = std::move(reply);
        journaled_ = true;
        busy_ = true;
        started_ = provider_.scheduler().running();
        in_flight_ = Gauge(*provider_.counters().in_flight);
        // The stream cap and gauge count SSE answers (a held JSON answer is chunked, not SSE).
        if (reply_.streaming && reply_.attempt.stream && !reserve_stream()) {
            reply_ = provider_.overloaded(std::move(reply_), "max_streams", false);
            return run_reply();
        }
        if (reply_.needs_slot) {
            auto self = shared_from_this();
            switch (provider_.admit([self] {
                asio::post(self->socket_.get_executor(), [self] { self->start_answer(); });
            })) {
                case Provider::Admission::now:
                    slot_ = SlotLease(provider_);
                    break;
                case Provider::Admission::queued:
                    return;  // start_answer() runs when a slot frees up
                case Provider::Admission::rejected:
                    reply_ = provider_.overloaded(std::move(reply_), "capacity", false);
                    break;
            }
        }
        run_reply();
    }

    // The concurrent-stream cap: a stream holds its place from admission to its last byte.
    bool reserve_stream() {
        stream_place_ = StreamPlace::under(server_->open_streams_, server_->limits().max_streams);
        return stream_place_.held();
    }

    void start_answer() {
        slot_ = SlotLease(provider_);
        if (!socket_.is_open()) {
            // The client left while queued; the work still occupies the slot if it continues.
            finish_attempt("client_closed");
            return;
        }
        run_reply();
    }

    void run_reply() {
        switch (reply_.connection) {
            case faults::ConnectionAction::reset:
                finish_attempt("reset");
                return reset();
            case faults::ConnectionAction::hang:
                return watch_for_close("hung");
            case faults::ConnectionAction::none:
                break;
        }
        // The network's time (LatencyModel::rtt) is spent before the head, holding the slot.
        Duration delay = reply_.delay + provider_.network_delay();
        if (delay <= Duration::zero()) return write_head();
        send_later(delay, [](Session& self) { self.write_head(); });
    }

    // Runs `send` once `span` has passed (later()), if the attempt is still on and its client
    // connected, with how late it goes out measured (record_lateness).
    template <class Send>
    void send_later(Duration span, Send send) {
        auto due = provider_.scheduler().running() + span;
        later(span, [due, send](Session& self) {
            if (!self.busy_ || !self.socket_.is_open()) return;
            self.record_lateness(due, self.provider_.scheduler().running());
            send(self);
        });
    }

    // A timed send goes out at `now`, due at `due` (running scenario time): how late, in wall
    // time, goes to the provider's metric (metric::send_lateness).
    void record_lateness(Duration due, Duration now) {
        auto late = now > due ? provider_.scheduler().to_wall(now - due) : Histogram::Span::zero();
        provider_.counters().send_lateness->observe(late);
    }

    // Runs `step` on this session's executor once `span` of running scenario time has passed
    // (core/scheduler.h): pauses hold it, jumps do not move it.
    template <class Step>
    void later(Duration span, Step step) {
        timer_ = provider_.scheduler().after(span, [self = shared_from_this(), step] {
            asio::dispatch(self->socket_.get_executor(), [self, step] { step(*self); });
        });
    }
    void cancel_timer() {
        if (timer_ != 0) provider_.scheduler().cancel(timer_);
        timer_ = 0;
    }

    void write_head() {
        bool cut = false;
        if (!reply_.streaming && reply_.cut_after_bytes &&
            *reply_.cut_after_bytes < reply_.body.size()) {
            reply_.body.resize(*reply_.cut_after_bytes);
            cut = true;
        }
        // A stream's frames due with its head go out in the head's write, with the stream's end
        // when they are all of it (no pacing: one write, and one read for the client, not two).
        // Their tokens count as sent once handed to the write, as a later chunk's do. No frames
        // (or a cut at byte 0) leave the head alone, as before.
        bool ends = false;
        out_.clear();
        if (reply_.streaming) {
            next_due_ = provider_.scheduler().running();
            auto batch = take_due_frames(/*paced=*/false);
            ends = frame_ == reply_.frames.size() && reply_.stream_end == Reply::StreamEnd::clean &&
                   !batch.empty();
            if (!batch.empty()) cut = encode_chunk(batch, ends);
        }
        // The head and a whole body (or a stream's first frames) in one write, the head and body
        // not copied.
        std::array<asio::const_buffer, 2> head_and_body{
            asio::buffer(reply_.head),
            reply_.streaming ? asio::buffer(out_) : asio::buffer(reply_.body)};
        asio::async_write(
            socket_, head_and_body,
            [self = shared_from_this(), cut, ends](beast::error_code ec, std::size_t) {
                if (ec) {
                    self->finish_attempt("client_closed");
                    return self->close();
                }
                if (cut) {
                    self->finish_attempt("cut");
                    return self->reset();
                }
                if (self->reply_.streaming) {
                    if (self->reply_.attempt.stream)
                        self->stream_gauge_ = Gauge(*self->provider_.counters().active_streams);
                    self->streaming_ = true;
                    if (ends) return self->ended_cleanly();
                    return self->stream_next();
                }
                self->finish_attempt("complete");
                self->after_answer();
            });
    }

    void after_answer() {
        if (reply_.close || !keep_alive_ || closing_) return close();
        // The connection keeps room for the next answer's chunks, not a large one's. Here, not
        // in finish_attempt: an attempt may end (force_close, a stall's read) while a write of
        // out_ is still in flight; this runs after the answer's last write.
        for (auto* room : {&out_, &batch_}) {
            if (room->capacity() > kKeptRoom) std::string().swap(*room);
        }
        do_read();
    }

    // Sends every frame that is due, then waits for the next one.
    void stream_next() {
        if (!streaming_ || !socket_.is_open()) return;
        auto batch = take_due_frames(/*paced=*/true);
        if (batch.empty()) {
            if (frame_ == reply_.frames.size()) return end_stream();
            auto due = next_due_ + reply_.frames[frame_].gap;
            return later(due - provider_.scheduler().running(),
                         [](Session& self) { self.stream_next(); });
        }
        if (frame_ == reply_.frames.size() && reply_.stream_end == Reply::StreamEnd::clean) {
            // The last frames and the stream's end in one write.
            return write_chunk(
                batch, [self = shared_from_this()] { self->ended_cleanly(); }, true);
        }
        write_chunk(batch, [self = shared_from_this()] { self->stream_next(); });
    }

    // The frames due now, from frame_ on, taken (frame_, next_due_ and tokens_sent_ move past
    // them); empty when the next is later. Frames due within the scheduler's window are taken
    // together (RealScheduler::kWindow, in wall time). A view of batch_, valid until the next call.
    // `paced`: each frame taken was waited for, and how late it goes out is measured
    // (record_lateness); those that go with the head are not.
    std::string_view take_due_frames(bool paced) {
        auto& scheduler = provider_.scheduler();
        auto now = scheduler.running();
        auto window =
            std::chrono::duration_cast<Duration>(RealScheduler::kWindow * scheduler.time_scale());
        batch_.clear();
        while (frame_ < reply_.frames.size()) {
            auto& frame = reply_.frames[frame_];
            auto due = next_due_ + frame.gap;
            if (due > now + window) break;
            next_due_ = due;
            if (paced) record_lateness(due, now);
            reply_.append_frame(frame, batch_);
            tokens_sent_ += frame.tokens;
            ++frame_;
        }
        return batch_;
    }

    // Puts `data` into out_ as one chunk, cut where the reply's cut falls (then true: nothing
    // more is sent), and with the terminating chunk after it when `ends` (not when cut). out_
    // keeps its room from one chunk to the next.
    bool encode_chunk(std::string_view data, bool ends) {
        bool cut_now = false;
        if (reply_.cut_after_bytes) {
            std::size_t room =
                *reply_.cut_after_bytes > body_bytes_ ? *reply_.cut_after_bytes - body_bytes_ : 0;
            if (data.size() >= room) {
                data = data.substr(0, room);
                cut_now = true;
            }
        }
        body_bytes_ += data.size();
        out_.clear();
        if (!data.empty())
            fmt::format_to(std::back_inserter(out_), "{:x}\r\n{}\r\n", data.size(), data);
        if (ends && !cut_now) out_ += kLastChunk;
        return cut_now;
    }

    // `ends`: the terminating chunk follows the data in the same write (not when a cut falls
    // in it). A token's chunk is small, and the socket nearly always takes it whole at once: it
    // is written so, and `next` runs now, with no operation queued in the reactor and no
    // completion posted (one system call a token, as before). What the socket does not take is
    // written as any write is (tests/integration/server_test.cpp, "reads a stream late").
    template <class Next>
    void write_chunk(std::string_view data, Next next, bool ends = false) {
        bool cut_now = encode_chunk(data, ends);
        beast::error_code ec;
        std::size_t sent = 0;
        if (write_at_once_) sent = socket_.write_some(asio::buffer(out_), ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) {  // nothing taken now
            ec = {};
            sent = 0;
        }
        if (write_at_once_ && (ec || sent == out_.size())) {
            // `next` may write again at once, and so on while tokens fall due as fast as they
            // are written: past a few, it runs from the executor's queue, on a stack of its own,
            // after what else is waiting there.
            // (`next` holds the session: it stays while `next` runs.)
            if (inline_depth_ < kWritesAtOnce) {
                ++inline_depth_;
                chunk_written(ec, cut_now, next);
                --inline_depth_;
                return;
            }
            asio::post(socket_.get_executor(), [self = shared_from_this(), ec, cut_now, next] {
                self->chunk_written(ec, cut_now, next);
            });
            return;
        }
        asio::async_write(
            socket_, asio::buffer(out_) + sent,
            [self = shared_from_this(), next, cut_now](beast::error_code ec, std::size_t) {
                self->chunk_written(ec, cut_now, next);
            });
    }

    template <class Next>
    void chunk_written(beast::error_code ec, bool cut_now, const Next& next) {
        if (ec) {
            finish_attempt("client_closed");
            return close();
        }
        if (cut_now) {
            finish_attempt("cut");
            return reset();
        }
        next();
    }

    void end_stream() {
        switch (reply_.stream_end) {
            case Reply::StreamEnd::clean: {
                out_ = kLastChunk;
                asio::async_write(socket_, asio::buffer(out_),
                                  [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                      if (ec) {
                                          self->finish_attempt("client_closed");
                                          return self->close();
                                      }
                                      self->ended_cleanly();
                                  });
                return;
            }
            case Reply::StreamEnd::cut:
                finish_attempt("cut");
                return reset();
            case Reply::StreamEnd::stall_silent:
                return watch_for_close("stalled");
            case Reply::StreamEnd::stall_keepalive:
                watch_for_close("stalled");
                return keepalive();
        }
    }

    static constexpr std::string_view kLastChunk = "0\r\n\r\n";

    void ended_cleanly() {
        finish_attempt("complete");
        after_answer();
    }

    void keepalive() {
        send_later(reply_.keepalive_interval, [](Session& self) {
            self.write_chunk(self.reply_.keepalive_bytes,
                             [s = self.shared_from_this()] { s->keepalive(); });
        });
    }

    // For hangs and stalls: nothing more is sent; the attempt ends when the client gives up.
    void watch_for_close(std::string outcome) {
        stall_outcome_ = std::move(outcome);
        socket_.async_read_some(asio::buffer(scratch_),
                                [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                    if (!ec) return self->watch_for_close(self->stall_outcome_);
                                    self->finish_attempt(self->stall_outcome_);
                                    self->close();
                                });
    }

    void finish_attempt(std::string_view outcome) {
        if (!busy_) return;
        busy_ = false;
        Duration took = provider_.scheduler().running() - started_;
        slot_.release(provider_.slot_held_after(reply_, outcome, took));
        in_flight_.reset();
        stream_place_.reset();
        stream_gauge_.reset();
        streaming_ = false;
        if (!journaled_) return;
        provider_.finish(reply_, outcome, took, tokens_sent_);
        frame_ = 0;
        tokens_sent_ = 0;
        body_bytes_ = 0;
    }

    void reset() {
        beast::error_code ignored;
        socket_.set_option(asio::socket_base::linger(true, 0), ignored);
        close();
    }

    void close() {
        beast::error_code ignored;
        cancel_timer();
        if (busy_) finish_attempt("client_closed");
        if (socket_.is_open()) {
            socket_.shutdown(tcp::socket::shutdown_both, ignored);
            socket_.close(ignored);
        }
    }

    tcp::socket socket_;
    Scheduler::TimerId timer_ = 0;  // the pending delay, token or keep-alive
    std::shared_ptr<ProviderServer> server_;
    Provider& provider_;
    RequestReader reader_;
    std::string in_;  // bytes read and not yet taken: in_size_ of them, then room for more
    std::size_t in_size_ = 0;
    IncomingRequest incoming_;
    Reply reply_;
    std::string out_;
    std::string batch_;           // the frames due together (take_due_frames)
    bool write_at_once_ = false;  // the socket does not block: write_chunk tries it first
    static constexpr int kWritesAtOnce = 4;
    int inline_depth_ = 0;  // chunks written at once whose `next` is still running
    std::array<char, 512> scratch_{};
    std::string stall_outcome_;
    Duration started_{};   // running scenario time (core/scheduler.h)
    Duration next_due_{};  // running scenario time the last frame was due
    std::size_t frame_ = 0;
    int tokens_sent_ = 0;
    std::size_t body_bytes_ = 0;
    bool keep_alive_ = true;
    bool idle_ = false;
    bool busy_ = false;
    bool streaming_ = false;
    bool journaled_ = false;
    bool closing_ = false;
    bool first_request_ = true;
    // What the attempt in progress holds (mockprovider/lease.h), given back when it finishes or
    // when the session ends, whichever comes first.
    using Gauge = CountLease<Metrics::Series>;
    using StreamPlace = CountLease<std::atomic<std::size_t>>;
    SlotLease slot_;
    StreamPlace stream_place_;  // under the server's stream cap
    Gauge in_flight_;
    Gauge stream_gauge_;  // in the active-streams gauge
    SteadyClock::time_point waiting_since_{};
    // Past waiting_since_ + idle_limit(), the server's sweep looks at this connection. Declared
    // after server_, whose table it is a place in.
    IdleDeadlines<Session>::Place idle_place_;
    friend class ProviderServer;  // add() gives the place
};

void ProviderServer::sweep() {
    sweep_timer_.expires_after(std::chrono::milliseconds(250));
    sweep_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (ec || self->shutting_down_) return;
        auto now = SteadyClock::now();
        for (auto& s : self->idle_deadlines_.due(now)) s->close_if_idle(now);
        self->sweep();
    });
}

void ProviderServer::watch_timeline() {
    if (shutting_down_) return;
    update_refusal();
    auto& scheduler = provider_.scheduler();
    if (timeline_timer_ != 0) scheduler.cancel(timeline_timer_);
    timeline_timer_ = 0;
    std::optional<Duration> next;
    {
        std::lock_guard lock(provider_.engine_mutex());
        next = provider_.engine().next_boundary(scheduler.now());
    }
    if (!next) return;
    timeline_timer_ = scheduler.at(*next, [weak = weak_from_this()] {
        if (auto self = weak.lock()) self->timeline_changed();
    });
}

void ProviderServer::update_refusal() {
    if (shutting_down_) return;
    const bool refuse = provider_.refusing(provider_.clock().now());
    beast::error_code ec;
    if (refuse && !refusing_) {
        refusing_ = true;
        acceptor_.close(ec);
    } else if (!refuse && refusing_) {
        tcp::endpoint endpoint(asio::ip::make_address(endpoint_.host, ec), endpoint_.port);
        open_acceptor(endpoint, ec);
        if (ec) {
            // The port is taken meanwhile: try again shortly.
            acceptor_.close(ec);
            provider_.scheduler().after(from_seconds(0.1 * provider_.clock().time_scale()),
                                        [weak = weak_from_this()] {
                                            if (auto self = weak.lock()) self->timeline_changed();
                                        });
            return;
        }
        refusing_ = false;
        do_accept();
    }
}

void ProviderServer::add(const std::shared_ptr<Session>& s) {
    s->idle_place_ = idle_deadlines_.take(s);
}

void ProviderServer::on_accept(tcp::socket socket) {
    if (shutting_down_) return;
    beast::error_code ignored;
    if (limits_.max_connections != 0 && open_connections_.load() >= limits_.max_connections) {
        // Over the connection cap: closed before a byte is read, as a server out of file
        // descriptors would. Clients see a closed connection and may retry.
        refused_connections_->fetch_add(1);
        socket.close(ignored);
        return;
    }
    open_connections_.fetch_add(1);
    socket.set_option(tcp::no_delay(true), ignored);
    provider_.counters().connections->fetch_add(1);
    auto session =
        std::make_shared<Session>(std::move(socket), shared_from_this(), ++next_connection_);
    add(session);
    session->start();
}

void ProviderServer::shutdown(std::function<void()> drained) {
    shutting_down_ = true;
    asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
        beast::error_code ignored;
        self->acceptor_.close(ignored);
        self->sweep_timer_.cancel();
        self->accept_pause_.cancel();
        if (self->timeline_timer_ != 0) self->provider_.scheduler().cancel(self->timeline_timer_);
    });
    auto live = idle_deadlines_.owners();
    if (live.empty()) return drained();
    for (auto& s : live) s->shutdown();
    // Wait for the grace period, or less: look every 20 ms whether the sessions have ended.
    std::vector<std::weak_ptr<Session>> watched(live.begin(), live.end());
    live.clear();
    drain(std::move(watched), std::chrono::steady_clock::now() + limits_.shutdown_grace,
          std::move(drained));
}

void ProviderServer::drain(std::vector<std::weak_ptr<Session>> watched,
                           SteadyClock::time_point deadline, std::function<void()> drained) {
    // The pending wait holds the server, nothing holds the wait: when the io_context goes, so
    // does this chain (a self-referencing callback would outlive its fleet).
    grace_timer_.expires_after(std::chrono::milliseconds(20));
    grace_timer_.async_wait([self = shared_from_this(), watched = std::move(watched), deadline,
                             drained = std::move(drained)](beast::error_code ec) mutable {
        bool any_alive =
            std::any_of(watched.begin(), watched.end(), [](const auto& w) { return !w.expired(); });
        if (ec || !any_alive) return drained();
        if (SteadyClock::now() >= deadline) {
            for (auto& w : watched) {
                if (auto s = w.lock()) s->force_close();
            }
            return drained();
        }
        self->drain(std::move(watched), deadline, std::move(drained));
    });
}

void ProviderServer::release_sessions() {
    // Called once no thread runs the io_context and the scheduler has dropped its timers (the
    // other owners of a session outside the io_context).
    if (clock_ != nullptr && subscription_ != 0) clock_->unsubscribe(subscription_);
    subscription_ = 0;
    idle_deadlines_.forget_owners();
}

Fleet::Fleet(std::vector<ProviderConfig> providers, std::shared_ptr<ScaledClock> clock,
             ServerLimits limits)
    : clock_(std::move(clock)),
      scheduler_(std::make_unique<RealScheduler>(ioc_, clock_)),
      limits_(std::move(limits)),
      journal_(limits_.journal_entries) {
    for (auto& config : providers) {
        providers_.push_back(
            std::make_unique<Provider>(std::move(config), *scheduler_, journal_, metrics_));
        providers_.back()->set_controllable_clock(clock_.get());
    }
}

Fleet::~Fleet() {
    try {
        if (!stopped_) shutdown();
        join();
        // Nothing outlives its fleet: the timers still pending (each may own a session) and
        // whatever a session still holds are released here, before the providers they point to
        // are destroyed.
        scheduler_->stop();
        for (auto& s : servers_) s->release_sessions();
    } catch (...) {
        // A destructor must not throw (a mutex or an allocation failing here leaves nothing to
        // save).
    }
}

void Fleet::start(const std::string& host, const std::vector<unsigned short>& ports, int threads) {
    for (std::size_t i = 0; i < providers_.size(); ++i) {
        auto server = std::make_shared<ProviderServer>(ioc_, *providers_[i], limits_, threads > 1);
        server->listen(host, i < ports.size() ? ports[i] : 0);
        servers_.push_back(server);
    }
    for (auto& s : servers_) s->start();
    for (int t = 0; t < std::max(1, threads); ++t) {
        threads_.emplace_back([this] { ioc_.run(); });
    }
}

std::vector<Endpoint> Fleet::endpoints() const {
    std::vector<Endpoint> out;
    for (const auto& s : servers_) out.push_back(s->endpoint());
    return out;
}

Provider& Fleet::provider(std::string_view id) {
    for (auto& p : providers_) {
        if (p->config().id == id) return *p;
    }
    throw Error(fmt::format("no provider '{}' in this fleet", id));
}

std::vector<Provider*> Fleet::providers() {
    std::vector<Provider*> out;
    for (auto& p : providers_) out.push_back(p.get());
    return out;
}

void Fleet::shutdown() {
    if (stopped_) return;
    stopped_ = true;
    // Once every server has drained, the scheduler drops what is left (far-off phase
    // boundaries, abandoned work) so that the io_context runs out of work and join() returns.
    auto draining = std::make_shared<std::atomic<std::size_t>>(servers_.size());
    auto* scheduler = scheduler_.get();
    auto drained = [draining, scheduler] {
        if (draining->fetch_sub(1) == 1) scheduler->stop();
    };
    if (servers_.empty()) scheduler->stop();
    for (auto& s : servers_) s->shutdown(drained);
}

void Fleet::join() {
    for (auto& t : threads_) {
        if (t.joinable()) t.join();
    }
    threads_.clear();
}

}  // namespace brownout::mock
