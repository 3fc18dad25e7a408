#pragma once
// A Plan is what the fault model tells a provider to do with one request. The provider
// (mockprovider/) carries it out on the wire; it never decides faults itself.
//
//   client ──HTTP──▶ mock provider ──asks──▶ faults::Engine::decide(now, request) ─▶ Plan
//                         │                                                     │
//                         └──────────── carries out the Plan on the wire ◀──────┘
//
// An empty Plan means "answer normally".

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/duration.h"

namespace brownout::faults {

// What happens to the connection instead of an HTTP answer.
enum class ConnectionAction {
    none,   // answer over HTTP
    reset,  // close the socket with a TCP RST as soon as the request is read
    hang,   // read the request and never answer
};

// An HTTP error answer in the provider's own shape (the dialect renders the body).
struct Rejection {
    int status = 503;
    std::string error_type;  // dialect default for the status when empty
    std::string code;        // OpenAI "code"; empty → null
    std::string message;     // dialect default for the status when empty
    std::string param;       // OpenAI "param"; empty → null
    // Retry hints. Durations are scenario time; the provider sends them as wall time.
    std::optional<Duration> retry_after;     // Retry-After in seconds
    std::string retry_after_date;            // Retry-After as an HTTP-date, sent verbatim
    std::optional<Duration> retry_after_ms;  // retry-after-ms
    std::optional<bool> should_retry;        // x-should-retry
    // Whether the provider holds the client to the announced wait (faults/throttle.h): unset
    // means yes for a 429 that is not a rate-limit bucket's, no for every other status.
    std::optional<bool> enforce_retry_after;
    bool html = false;                // an HTML page such as a proxy's 502
    std::string unsupported_feature;  // "vision": the dialect's own "not supported" error
    bool unknown_model = false;       // the dialect's own "model not found" error
    // A rate-limit rejection: the dialect words it ("Rate limit reached for … (RPM): Limit …").
    std::optional<bool> rate_limit_on_tokens;
    long rate_limit_value = 0;
    long rate_limit_used = 0;

    // The wait this answer announces in a duration header (retry-after-ms first, as the SDKs
    // read it, then Retry-After in seconds); an HTTP-date is not a wait the mock can hold to.
    std::optional<Duration> announced_wait() const;
    // Whether a client that comes back before the announced wait is over is rejected again.
    bool throttles() const;
};

// Rate-limit state to report in x-ratelimit-* / anthropic-ratelimit-* headers (scenario time).
struct LimitSnapshot {
    long requests_limit = -1;  // -1: no request bucket
    long requests_remaining = 0;
    Duration requests_reset{};
    long tokens_limit = -1;  // -1: no token bucket
    long tokens_remaining = 0;
    Duration tokens_reset{};
};

enum class Malformed {
    none,
    invalid_json,   // a 200 whose JSON body is cut off
    truncated_sse,  // the stream ends mid-event, without its terminator
    missing_done,   // a clean end of stream without data: [DONE] / message_stop
};

// DeepSeek's answer under load (fault "hold"): 200 and keep-alives, then `then`.
enum class HoldEnd {
    answer,       // the real answer follows
    empty,        // nothing follows: the body or stream ends blank
    interrupted,  // the answer stops after `after_tokens`, finish_reason
                  // insufficient_system_resource
    close,        // the connection is closed mid-body
};
struct Hold {
    Duration wait{};                              // scenario time of keep-alives before `then`
    Duration interval = std::chrono::seconds(5);  // between keep-alives
    HoldEnd then = HoldEnd::answer;
    int after_tokens = 0;
};

struct Plan {
    ConnectionAction connection = ConnectionAction::none;
    std::optional<Rejection> reject;

    // Modifiers of a normal answer; they compose.
    double ttft_factor = 1.0;
    double token_rate_factor = 1.0;
    std::optional<int> stall_after_tokens;  // stream stops sending after N tokens
    bool stall_keepalive = false;           // ...but keeps sending ": keep-alive" comments
    Duration keepalive_interval = std::chrono::seconds(15);
    std::optional<int> disconnect_after_tokens;  // connection cut after N tokens
    std::optional<int> disconnect_after_bytes;   // ...or after N body bytes
    std::optional<int> stream_error_after_tokens;
    std::optional<Rejection> stream_error;  // the in-band error event's content
    Malformed malformed = Malformed::none;
    bool ignore_images = false;    // answer as if no image had been sent
    bool ignore_tools = false;     // answer in text even when a tool call was demanded
    bool ignore_stream = false;    // answer with one JSON body even when a stream was asked for
    std::string substitute_model;  // answer from this model instead of the one asked for
    std::optional<LimitSnapshot> limits;  // overrides the provider's own rate-limit headers
    std::optional<Hold> hold;             // 200 at once, keep-alives, then the hold's end

    // Names of the faults that shaped this plan ("busy", "stall"), for the journal and metrics.
    std::vector<std::string> applied;

    bool is_normal() const { return applied.empty(); }
    std::string label() const;  // "busy+latency", or "" when normal
};

}  // namespace brownout::faults
