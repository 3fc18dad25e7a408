#include "harness/transport.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <map>

#include "harness/http_response.h"

namespace brownout::harness {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;  // NOLINT(readability-identifier-naming): Asio's own spelling

std::uint64_t Transport::send_chat(std::size_t provider, ChatToSend& request, Duration timeout,
                                   Done done) {
    const auto& address = providers()[provider];
    return send(provider,
                client_dialect(address.dialect).render_chat(request.with_text(), address.api_key),
                timeout, std::move(done));
}

namespace {

std::optional<double> parse_number(std::string_view s) {
    try {
        std::size_t used = 0;
        double v = std::stod(std::string(s), &used);
        if (used > 0) return v;
    } catch (const std::exception&) {
    }
    return std::nullopt;
}

}  // namespace

ResultHead ResultHead::read(const std::function<std::string_view(std::string_view)>& header) {
    ResultHead head;
    for (std::size_t i = 0; i < count; ++i) head.values[i] = header(kNames[i]);
    return head;
}

void read_result(AttemptResult& r, const wire::Dialect& dialect, int status, const ResultHead& head,
                 std::string_view body, bool body_complete, double time_scale,
                 wire::ReadAnswer* already_read, const wire::ReadError* error_read) {
    r.status = status;
    // Retry hints are wall time on the wire and scenario time in the policy.
    if (auto ms = head[ResultHead::retry_after_ms]; !ms.empty()) {
        if (auto v = parse_number(ms)) r.retry_after = from_seconds(*v / 1000.0 * time_scale);
    }
    if (!r.retry_after) {
        if (auto ra = head[ResultHead::retry_after]; !ra.empty()) {
            if (auto v = parse_number(ra)) r.retry_after = from_seconds(*v * time_scale);
        }
    }
    if (auto sr = head[ResultHead::should_retry]; sr == "true" || sr == "false")
        r.should_retry = sr == "true";
    if (status != 200) {
        r.kind = AttemptResult::Kind::http_error;
        std::optional<wire::ReadError> parsed;  // the one handed over is read where it is
        const wire::ReadError& error =
            error_read != nullptr ? *error_read : parsed.emplace(dialect.read_error(status, body));
        r.unsupported = error.klass == wire::ErrorClass::unsupported;
        // A wait named in the body (Gemini's RetryInfo) when no header named one.
        if (!r.retry_after && error.retry_seconds)
            r.retry_after = from_seconds(*error.retry_seconds * time_scale);
        return;
    }
    if (already_read != nullptr) {
        r.kind =
            already_read->broken ? AttemptResult::Kind::broken_stream : AttemptResult::Kind::answer;
        r.text = std::move(already_read->text);
        r.finish_reason = std::move(already_read->finish_reason);
        return;
    }
    // A stream is what this dialect streams as (SSE, NDJSON), whatever its parameters say.
    auto stream_type = dialect.stream_content_type();
    bool is_stream =
        head[ResultHead::content_type].starts_with(stream_type.substr(0, stream_type.find(';')));
    auto read = dialect.read_answer(is_stream, body, body_complete);
    r.kind = read.broken ? AttemptResult::Kind::broken_stream : AttemptResult::Kind::answer;
    r.text = std::move(read.text);
    r.finish_reason = std::move(read.finish_reason);
}

AttemptResult read_result(const wire::Dialect& dialect, int status,
                          const std::function<std::string_view(std::string_view)>& header,
                          std::string_view body, bool body_complete, double time_scale,
                          wire::ReadAnswer* already_read, const wire::ReadError* error_read) {
    AttemptResult r;
    read_result(r, dialect, status, ResultHead::read(header), body, body_complete, time_scale,
                already_read, error_read);
    return r;
}

// A request's bytes as Beast wrote them from a message built field by field, written into one
// string (one allocation, not one a header field, and no serializer): the host and user agent,
// the request's headers, the address's headers, each replacing an earlier one of the same name,
// then the body's length (for a body, or a method Beast gives one: POST, PUT, OPTIONS).
std::string request_bytes(const ProviderAddress& address, const wire::ClientRequest& request) {
    std::vector<std::pair<std::string_view, std::string_view>> fields;
    fields.reserve(request.headers.size() + address.headers.size() + 2);
    auto set = [&fields](std::string_view name, std::string_view value) {
        std::erase_if(fields, [name](const auto& f) { return beast::iequals(f.first, name); });
        fields.emplace_back(name, value);
    };
    set("Host", address.host);
    set("User-Agent", "brownout-harness");
    for (const auto& [k, v] : request.headers) set(k, v);
    for (const auto& [k, v] : address.headers) set(k, v);
    std::erase_if(fields, [](const auto& f) {
        return beast::iequals(f.first, "content-length") ||
               beast::iequals(f.first, "transfer-encoding");
    });
    const std::string& target = address.path.empty() ? request.path : address.path;
    std::string out;
    out.reserve(64 + target.size() + request.body.size() + 64 * fields.size());
    out.append(request.method).append(" ").append(target).append(" HTTP/1.1\r\n");
    for (const auto& [k, v] : fields) out.append(k).append(": ").append(v).append("\r\n");
    bool carries =
        request.method == "POST" || request.method == "PUT" || request.method == "OPTIONS";
    if (!request.body.empty() || carries)
        out.append("Content-Length: ").append(std::to_string(request.body.size())).append("\r\n");
    out.append("\r\n").append(request.body);
    return out;
}

struct HttpTransport::Impl {
    static constexpr std::size_t kReadRoom = 8192;
    static constexpr std::size_t kMaxHead = std::size_t{64} * 1024;
    static constexpr std::size_t kMaxBody = std::size_t{64} * 1024 * 1024;

    asio::io_context& ioc;
    Scheduler& scheduler;
    std::vector<ProviderAddress> providers;
    // A connection, its read buffer and its response reader, kept together while it is idle:
    // the room for a whole answer in one read (8 KiB: a streamed answer of a few dozen tokens,
    // 5–6 KB, needed two reads of 4 KiB) is made once a connection, not once an attempt.
    struct Connection {
        explicit Connection(asio::io_context& ioc) : socket(ioc), buffer(kReadRoom) {}
        tcp::socket socket;
        std::vector<char> buffer;  // its size is the room; `held` of it are read
        std::size_t held = 0;
        ResponseReader reader{kMaxHead, kMaxBody};
        std::string_view bytes() const { return {buffer.data(), held}; }
    };
    std::vector<std::vector<std::shared_ptr<Connection>>> idle;  // per provider

    struct Call : std::enable_shared_from_this<Call> {
        Impl* owner;
        std::size_t provider;
        std::shared_ptr<Connection> connection;
        bool reused = false;
        std::string request;           // its bytes, head and body
        Scheduler::TimerId timer = 0;  // the attempt's timeout
        Done done;
        bool finished = false;
        bool timed_out = false;
        std::uint64_t handle;

        Call(Impl* o, std::size_t p) : owner(o), provider(p) {}

        void fail(AttemptResult::Kind kind) {
            AttemptResult r;
            r.kind = kind;
            finish(std::move(r), false);
        }
        void finish(AttemptResult r, bool reusable) {
            if (finished) return;
            finished = true;
            owner->scheduler.cancel(timer);
            // Bytes read past the answer's end would be taken for the next answer's start: such
            // a connection is closed, as one that did not end cleanly is.
            auto& c = *connection;
            if (reusable && c.socket.is_open() && c.held == c.reader.consumed())
                owner->idle[provider].push_back(connection);
            else {
                beast::error_code ignored;
                c.socket.close(ignored);
            }
            owner->calls.erase(handle);
            auto d = std::move(done);
            if (d) d(std::move(r));
        }
    };
    std::map<std::uint64_t, std::shared_ptr<Call>> calls;
    std::uint64_t next_handle = 0;

    Impl(asio::io_context& i, Scheduler& s, std::vector<ProviderAddress> p)
        : ioc(i), scheduler(s), providers(std::move(p)), idle(providers.size()) {}

    void start(const std::shared_ptr<Call>& call, const wire::ClientRequest& request,
               Duration timeout) {
        call->request = request_bytes(providers[call->provider], request);
        call->timer = scheduler.after(timeout, [&io = ioc, call] {
            asio::dispatch(io, [call] {
                if (call->finished) return;
                call->timed_out = true;
                beast::error_code ignored;
                call->connection->socket.close(ignored);
            });
        });
        auto& pool = idle[call->provider];
        if (!pool.empty()) {
            call->connection = pool.back();
            pool.pop_back();
            call->reused = true;
            write(call);
            return;
        }
        connect(call);
    }

    void connect(const std::shared_ptr<Call>& call) {
        const auto& p = providers[call->provider];
        call->connection = std::make_shared<Connection>(ioc);
        call->reused = false;
        tcp::endpoint endpoint(asio::ip::make_address(p.host), p.port);
        call->connection->socket.async_connect(endpoint, [this, call](beast::error_code ec) {
            if (call->finished) return;
            if (ec)
                return call->fail(call->timed_out ? AttemptResult::Kind::timeout
                                                  : AttemptResult::Kind::connect_error);
            beast::error_code ignored;
            call->connection->socket.set_option(tcp::no_delay(true), ignored);
            write(call);
        });
    }

    void write(const std::shared_ptr<Call>& call) {
        auto& c = *call->connection;
        c.held = 0;
        c.reader.reset();
        if (c.buffer.size() > 8 * kReadRoom) {  // a long answer's room is not kept while idle
            c.buffer.resize(kReadRoom);
            c.buffer.shrink_to_fit();
        }
        asio::async_write(
            c.socket, asio::buffer(call->request), [this, call](beast::error_code ec, std::size_t) {
                if (call->finished) return;
                if (ec) {
                    // A pooled connection the server closed meanwhile: try a fresh
                    // one once.
                    if (call->reused && !call->timed_out) return connect(call);
                    return call->fail(call->timed_out ? AttemptResult::Kind::timeout
                                                      : AttemptResult::Kind::connect_error);
                }
                read(call);
            });
    }

    // Reads until the reader has the whole answer, the connection ends or the attempt times
    // out (its timer closes the socket).
    void read(const std::shared_ptr<Call>& call) {
        auto& c = *call->connection;
        if (c.buffer.size() - c.held < kReadRoom / 2) c.buffer.resize(c.buffer.size() * 2);
        c.socket.async_read_some(asio::buffer(c.buffer.data() + c.held, c.buffer.size() - c.held),
                                 [this, call](beast::error_code ec, std::size_t n) {
                                     if (call->finished) return;
                                     auto& c = *call->connection;
                                     c.held += n;
                                     auto status = ResponseReader::Status::incomplete;
                                     if (!ec)
                                         status = c.reader.parse(c.bytes());
                                     else if (ec == asio::error::eof)
                                         status = c.reader.end(c.bytes());
                                     if (status == ResponseReader::Status::complete)
                                         return complete(call, true);
                                     if (status == ResponseReader::Status::incomplete && !ec)
                                         return read(call);
                                     if (c.reader.head_done())
                                         return complete(call, false);  // cut, or bad
                                     // No answer's head: a pooled connection the server had closed
                                     // before this request gets one fresh try.
                                     if (call->reused && !call->timed_out &&
                                         ((ec == asio::error::eof && c.held == 0) ||
                                          ec == asio::error::connection_reset))
                                         return connect(call);
                                     call->fail(call->timed_out
                                                    ? AttemptResult::Kind::timeout
                                                    : AttemptResult::Kind::connect_error);
                                 });
    }

    void complete(const std::shared_ptr<Call>& call, bool body_complete) {
        const auto& c = *call->connection;
        auto bytes = c.bytes();
        auto header = [&c, bytes](std::string_view name) { return c.reader.header(bytes, name); };
        call->finish(
            read_result(client_dialect(providers[call->provider].dialect), c.reader.status(),
                        header, c.reader.body(bytes), body_complete, scheduler.time_scale()),
            body_complete && c.reader.keep_alive());
    }
};

HttpTransport::HttpTransport(asio::io_context& ioc, std::vector<ProviderAddress> providers,
                             Scheduler& scheduler)
    : impl_(std::make_unique<Impl>(ioc, scheduler, providers)), providers_(std::move(providers)) {}

HttpTransport::~HttpTransport() {
    close_all();
}

std::uint64_t HttpTransport::send(std::size_t provider, wire::ClientRequest request,
                                  Duration timeout, Done done) {
    auto call = std::make_shared<Impl::Call>(impl_.get(), provider);
    call->done = std::move(done);
    call->handle = ++impl_->next_handle;
    impl_->calls[call->handle] = call;
    impl_->start(call, request, timeout);
    return call->handle;
}

void HttpTransport::abandon(std::uint64_t handle) {
    auto it = impl_->calls.find(handle);
    if (it == impl_->calls.end()) return;
    auto call = it->second;
    call->done = nullptr;
    call->fail(AttemptResult::Kind::timeout);
}

void HttpTransport::close_all() {
    auto calls = impl_->calls;
    for (auto& [h, call] : calls) {
        call->done = nullptr;
        call->fail(AttemptResult::Kind::timeout);
    }
    for (auto& pool : impl_->idle) {
        for (auto& s : pool) {
            beast::error_code ignored;
            s->socket.close(ignored);
        }
        pool.clear();
    }
}

}  // namespace brownout::harness
