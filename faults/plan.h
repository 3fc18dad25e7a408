#pragma once
// A Plan is what the fault model tells a provider to do with one request: a list of effect values.
// The provider (mockprovider/) carries it out on the wire; it never decides faults itself.
//
//   client ──HTTP──▶ mock provider ──asks──▶ faults::Engine::decide(now, request) ─▶ Plan
//                         │                                                     │
//                         └──────── carries out the Plan's effects on the wire ◀─┘
//
// An empty Plan means "answer normally".

#include <boost/container/small_vector.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "core/duration.h"

namespace brownout::faults {

// What the server does with the connection instead of an HTTP answer (from a Reset or Hang).
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

// The effects a fault can have on one request: values, carried out in one place by the provider
// (mockprovider/shape.h reads a plan, and the dialect renders the result). A `Rejection` above is
// one of them. A fault adds the effects it decides; how effects of several faults on one request
// combine is the provider's rule, written once in mockprovider/shape.h.

// The connection is closed with a TCP RST as soon as the request is read.
struct Reset {};
// The request is read and never answered.
struct Hang {};
// The answer comes slower: time to first token × ttft_factor, tokens per second × rate_factor.
struct Slowdown {
    double ttft_factor = 1.0;
    double token_rate_factor = 1.0;
};
// The stream stops sending after `after_tokens` tokens, silently or with keep-alive comments.
struct Stall {
    int after_tokens = 0;
    bool keepalive = false;
    Duration keepalive_interval = std::chrono::seconds(15);
};
// The connection is cut after N tokens of a stream, or after N bytes of any body.
struct Cut {
    std::optional<int> after_tokens;
    std::optional<int> after_bytes;
};
// After `after_tokens` tokens the stream ends with an in-band error event carrying `error`.
struct StreamFailure {
    int after_tokens = 0;
    Rejection error;
};
// The answer is broken in the way `how` says.
struct Malform {
    Malformed how = Malformed::invalid_json;
};
// The provider answers as if part of the request had not been sent.
enum class Ignored {
    images,  // answer from the text alone
    tools,   // answer in text even when a tool call was demanded
    stream,  // one JSON body even when a stream was asked for
};
struct Ignore {
    Ignored what = Ignored::images;
};
// The answer comes from this model instead of the one asked for.
struct Substitute {
    std::string model;
};
// Rate-limit state to report instead of the provider's own (a rate_limit phase's buckets).
struct ReportLimits {
    LimitSnapshot limits;
};
// `Hold` (above): 200 at once, keep-alives, then the hold's end.

using Effect = std::variant<Rejection, Reset, Hang, Slowdown, Stall, Cut, StreamFailure, Malform,
                            Ignore, Substitute, ReportLimits, Hold>;

// A rejection, a reset or a hang: the request gets no answer, so no later fault is asked.
bool ends_request(const Effect& e);

// Most requests get no effect or one: the first is kept in the plan itself, not on the heap.
using Effects = boost::container::small_vector<Effect, 1>;
static_assert(std::is_nothrow_move_constructible_v<Effect> &&
              std::is_nothrow_move_assignable_v<Effect>);
// The names of the faults that shaped a plan ("busy", "stall"), for the journal and metrics.
// Each is a string with static storage: a fault's kind(), or a name the provider adds
// ("throttled").
using Applied = boost::container::small_vector<std::string_view, 3>;

struct Plan {
    Effects effects;
    Applied applied;

    Plan() = default;
    // Moving a plan moves effect values, whose moves do not throw (asserted above), and moving a
    // small_vector never allocates; clang-tidy's exception analysis cannot see that through Boost.
    Plan(Plan&&) noexcept = default;             // NOLINT(bugprone-exception-escape): see above
    Plan& operator=(Plan&&) noexcept = default;  // NOLINT(bugprone-exception-escape): see above
    Plan(const Plan&) = default;
    Plan& operator=(const Plan&) = default;
    ~Plan() = default;

    void add(Effect e) { effects.push_back(std::move(e)); }
    // A client back before the wait it was given: `again` once more, labelled "throttled".
    static Plan throttled(Rejection&& again) {
        Plan plan;
        plan.effects.emplace_back(std::move(again));
        plan.applied.emplace_back("throttled");
        return plan;
    }
    // The last effect of kind E, or null.
    template <class E>
    const E* find() const {
        for (auto it = effects.rbegin(); it != effects.rend(); ++it)
            if (const E* e = std::get_if<E>(&*it)) return e;
        return nullptr;
    }
    template <class E>
    E* find() {
        return const_cast<E*>(std::as_const(*this).find<E>());
    }
    // Whether any of its effects ends the request.
    bool ends_request() const;

    bool is_normal() const { return applied.empty(); }
    std::string label() const;                  // "busy+latency", or "" when normal
    void append_label(std::string& out) const;  // the same, appended
};

}  // namespace brownout::faults
