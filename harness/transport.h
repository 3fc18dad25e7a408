#pragma once
// The HTTP side of a built-in client stack: Asio client connections kept alive in a pool per
// provider, one attempt at a time per connection, with a timeout for the whole attempt in
// scenario time. It writes a request's bytes itself (request_bytes) and reads the response with
// its own reader (harness/http_response.h), then the answer in the provider's dialect (JSON or
// SSE) into an AttemptResult.

#include <array>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/inline_task.h"
#include "core/scheduler.h"
#include "harness/policies/policy.h"
#include "harness/workload.h"
#include "wire/dialect.h"

namespace brownout::harness {

struct ProviderAddress {
    std::string id;
    std::string host;
    unsigned short port = 0;
    wire::DialectKind dialect = wire::DialectKind::openai;
    std::string model;
    std::string path;                                          // empty: the dialect's chat path
    std::vector<std::pair<std::string, std::string>> headers;  // beside the dialect's own
    std::string api_key;  // the dialect puts it where its SDKs do
};

// A request a stack sends, kept between its attempts: a retry sends the same one, asking the
// model of the provider it goes to (the only field that changes, and only with the provider).
// A transport may keep with it what it made of it for the provider it went to last, and send
// that again when the next attempt goes there too: a provider's address (its model, key and
// dialect) is fixed for the stack's life.
struct ChatToSend {
    wire::OutgoingChat chat;
    // Set while `chat` leaves its text out (made with its digest, for a typed request): the
    // user whose text with_text() puts in, for a transport that renders bytes.
    const UserRequest* text_of = nullptr;
    std::size_t made_for = SIZE_MAX;         // the provider `typed` was made for
    std::optional<wire::ChatRequest> typed;  // wire::Dialect::typed_request, for that provider

    const wire::OutgoingChat& with_text() {
        if (text_of != nullptr) add_text(chat, *text_of);
        text_of = nullptr;
        return chat;
    }
};

// How a built-in stack's attempts reach providers: over HTTP (a run) or in-process on a virtual
// scheduler (the simulator, harness/inprocess_transport.h). Policies and the runner see only this.
class Transport {
public:
    virtual ~Transport() = default;
    // Handed the result to keep (a callable taking it by value or by rvalue reference), kept in
    // place (core/inline_task.h): a handler holding its flight and ids costs no allocation.
    using Done = InlineFunction<void(AttemptResult&&)>;
    // Sends one attempt (a request rendered by the provider's dialect; the address's path and
    // headers, when set, take precedence); `done` runs on the runner's thread. Returns a handle
    // to abandon it. Whether the answer is a stream is read from its content type; the answer
    // and errors are read by the dialect's client half.
    virtual std::uint64_t send(std::size_t provider, wire::ClientRequest request, Duration timeout,
                               Done done) = 0;
    // Sends `request.chat` as the provider's dialect renders it with the address's key, as send
    // does. The in-process transport hands the provider the request as a value where the
    // dialect can (wire::Dialect::typed_request, made once a provider; its head, typed_head, once
    // a transport), with no bytes in between.
    virtual std::uint64_t send_chat(std::size_t provider, ChatToSend& request, Duration timeout,
                                    Done done);
    virtual void abandon(std::uint64_t handle) = 0;
    virtual void close_all() = 0;
    virtual const std::vector<ProviderAddress>& providers() const = 0;
};

// Client connections kept alive in a pool per provider, one attempt at a time per connection.
class HttpTransport final : public Transport {
public:
    // The attempt timeouts run on `scheduler` (scenario time); the sockets on `ioc`.
    HttpTransport(boost::asio::io_context& ioc, std::vector<ProviderAddress> providers,
                  Scheduler& scheduler);
    ~HttpTransport() override;
    HttpTransport(const HttpTransport&) = delete;
    HttpTransport& operator=(const HttpTransport&) = delete;

    std::uint64_t send(std::size_t provider, wire::ClientRequest request, Duration timeout,
                       Done done) override;
    void abandon(std::uint64_t handle) override;
    void close_all() override;
    const std::vector<ProviderAddress>& providers() const override { return providers_; }

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::vector<ProviderAddress> providers_;
};

// The bytes HttpTransport sends for `request` to `address`: the head (the address's path and
// headers taking precedence, then the body's length) and the body, as Beast would write them.
std::string request_bytes(const ProviderAddress& address, const wire::ClientRequest& request);

// The lines of an answer's head that read_result reads, by name; a line the head does not carry
// reads empty.
struct ResultHead {
    enum Line { retry_after_ms, retry_after, should_retry, content_type, count };
    static constexpr std::array<std::string_view, count> kNames = {
        "retry-after-ms", "retry-after", "x-should-retry", "content-type"};
    std::array<std::string_view, count> values{};
    std::string_view operator[](Line line) const { return values[line]; }
    // Each line as `header` reads it by name.
    static ResultHead read(const std::function<std::string_view(std::string_view)>& header);
};

// Reads what an attempt got, from its status, headers and body, as the dialect's client half
// reads it: shared by both transports.
// `already_read`: a 200's answer as the in-process transport has it without the bytes (a
// stream's outline, wire::Dialect::stream_outline; a body as its dialect rendered it,
// Reply::read), used instead of reading `body`. The caller vouches that it is what the dialect
// reads from `body` as the content type says (a stream's frames arrive only under the dialect's
// stream type, a whole body only under its JSON type); its text is taken, not copied.
// `error_read`: the same for an error's body (Reply::error_read).
AttemptResult read_result(const wire::Dialect& dialect, int status,
                          const std::function<std::string_view(std::string_view)>& header,
                          std::string_view body, bool body_complete, double time_scale,
                          wire::ReadAnswer* already_read = nullptr,
                          const wire::ReadError* error_read = nullptr);
// The same, read into `r`, a result just made (default values: what is not read stays so),
// where it is kept (the in-process call's), from the head's lines read_result reads, read
// beforehand (the in-process transport reads them in one pass over the reply's fields).
void read_result(AttemptResult& r, const wire::Dialect& dialect, int status, const ResultHead& head,
                 std::string_view body, bool body_complete, double time_scale,
                 wire::ReadAnswer* already_read, const wire::ReadError* error_read);

}  // namespace brownout::harness
