#pragma once
// One mock provider: its configuration, and the plain function from a request (plus the Plan
// the fault model chose for it) to a Reply — the bytes to send and when. No sockets here; the
// server carries Replies out.

#include <array>
#include <boost/container/small_vector.hpp>
#include <cassert>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/inline_task.h"
#include "core/lock_when.h"
#include "core/random.h"
#include "core/scheduler.h"
#include "faults/capacity.h"
#include "faults/engine.h"
#include "faults/plan.h"
#include "faults/rate_buckets.h"
#include "faults/status_page.h"
#include "faults/throttle.h"
#include "mockprovider/journal.h"
#include "mockprovider/metrics.h"
#include "mockprovider/shape.h"
#include "wire/answer.h"
#include "wire/dialect.h"

namespace brownout::mock {

struct LatencyModel {
    Duration ttft = std::chrono::milliseconds(400);
    double tokens_per_second = 60;  // 0: the whole answer at once
    double jitter = 0.2;            // each delay × (1 ± jitter), uniformly
    // The network between client and provider: every reply (answer, error, refusal) reaches the
    // client this much later, × (1 ± jitter). In the simulator the provider's slot is free
    // again when it has written the reply; on the wire the reply is written `rtt` later, so the
    // slot is held that much longer. 0: the network costs nothing (the default).
    Duration rtt{};
};

struct RateLimits {
    long requests_per_minute = 0;  // 0: unlimited, and no x-ratelimit headers
    long tokens_per_minute = 0;
};

// Finite capacity (DESIGN §5): at most `concurrency` answers at once, `queue` more waiting,
// "busy" beyond. Outage and recovery phases lower the concurrency.
struct Capacity {
    int concurrency = 0;  // 0: unlimited
    int queue = 0;
    bool abandoned_work_continues = false;  // a client that leaves does not free its slot
    int busy_status = 0;                    // 0: 529 for Anthropic, 503 otherwise
};

struct ProviderConfig {
    std::string id = "openai";
    wire::DialectKind dialect = wire::DialectKind::openai;
    wire::Vendor vendor = wire::Vendor::openai;
    std::vector<std::string> models = {"gpt-4o-mini"};
    std::vector<std::string> features = {"stream", "vision", "tools"};
    LatencyModel latency;
    RateLimits rate_limits;
    wire::AnswerShape answer;
    std::uint64_t seed = 1;
    std::string api_key;  // when set, requests must carry it (401 otherwise)
    std::size_t max_body_bytes = std::size_t{4} * 1024 * 1024;
    std::int64_t max_tokens_cap = 32768;  // a larger max_tokens is answered with 400
    Capacity capacity;
    std::vector<faults::PhaseSpec> phases;  // the incident timeline
    faults::StatusPageConfig status_page;
    Duration horizon = std::chrono::hours(1);  // the scenario's duration (ramps of open phases)

    bool has_feature(std::string_view f) const;
    bool serves_model(std::string_view m) const;
};

// What the server read: the few parts of an HTTP request that matter to a provider.
struct IncomingRequest {
    std::string method;
    std::string target;
    std::string body;
    std::string authorization;       // "Authorization" header
    std::string api_key;             // "x-api-key" header
    std::optional<int> retry_count;  // X-Stainless-Retry-Count
    std::string forced_fault;        // x-brownout-fault
    std::uint64_t connection = 0;
    bool peer_loopback = true;  // the client connects from 127.0.0.0/8 or ::1
    std::string peer;           // the client's address, without the port
    // The simulator's in-process transport: the chat request already read (what the dialect's
    // parse_routed gives for the body it stands for, wire::Dialect::typed_request); `body` is
    // empty.
    const wire::ChatRequest* typed = nullptr;
    // The in-process transport again: it takes what the client half reads from an answer
    // (Reply::read) in place of the answer's bytes, where the dialect can say
    // it and nothing cuts or spoils them; a socket server leaves this false and gets bytes only.
    bool reads = false;
    // The in-process transport once more: where `target` goes, as the provider's dialect routes
    // it (wire::Dialect::route of `method` and `target`), found once for each path it sends to;
    // null: the provider routes it.
    const wire::Route* route = nullptr;

    // Who a throttle holds to its wait: the API key when one is sent, else the address.
    std::string client_identity() const;
};

// A chunk of a streamed body, sent `gap` (scenario time) after the previous one.
struct PacedFrame {
    Duration gap{};
    // Empty when the reply says what the stream reads (Reply::read), or when the frame is a
    // token's made when it is sent (`token`).
    std::string bytes;
    int tokens = 0;
    int token = -1;  // ≥ 0: the piece of Reply::tokens this frame carries (Reply::append_frame)
};

// A reply's head as values: what Provider::render_head() writes as text, and what
// Provider::HeadReader reads by name without the text (the simulator's in-process transport).
struct HeadFields {
    int status = 0;                     // 0: no head (a reset, a hang)
    std::string_view content_type;      // a dialect's own text or a literal: it outlives the reply
    std::optional<std::size_t> length;  // content-length; none: chunked
    std::optional<std::chrono::milliseconds> processing;  // the dialect's processing_header
    wire::Headers extra;   // after the dialect's own headers (retry hints)
    wire::Headers limits;  // last, after x-brownout-provider (the rate-limit headers)

    // Every field anew, as assigning HeadFields{status, content_type, length, processing, extra}
    // does, without a HeadFields made and moved for it (GCC zeroes such a one's whole room first).
    void set(int s, std::string_view type, std::optional<std::size_t> body_length = std::nullopt,
             std::optional<std::chrono::milliseconds> took = std::nullopt,
             wire::Headers more = {}) {
        status = s;
        content_type = type;
        length = body_length;
        processing = took;
        extra = std::move(more);
        limits.clear();
    }
    bool operator==(const HeadFields&) const = default;
};

struct Reply {
    faults::ConnectionAction connection = faults::ConnectionAction::none;
    Duration delay{};   // scenario time before the head (and a non-streamed body) is sent
    HeadFields fields;  // the head; the request id in it is the attempt's (or made from its seq)
    // `fields` as text: status line and headers, ending in a blank line. Written for a socket;
    // empty for the in-process transport (IncomingRequest::reads), which reads `fields`.
    std::string head;
    std::string body;  // non-streamed body; the head carries its Content-Length
    // What the client half reads from a whole body (wire::Dialect::completion_read), in place of
    // it, for the simulator's in-process transport (IncomingRequest::reads): `body` is then
    // empty, and the head says content-length: 0. The same for a whole stream (its outline,
    // wire::Dialect::stream_outline): the frames then carry their gaps and tokens, and no bytes.
    std::optional<wire::ReadAnswer> read;
    // The same for an error body (wire::Dialect::error_read): `body` is then empty.
    // Shared: a storm of one error is thousands of replies with one read.
    std::shared_ptr<const wire::ReadError> error_read;
    bool close = false;  // close the connection once the answer is sent

    bool streaming = false;  // head carries Transfer-Encoding: chunked; body is in `frames`
    std::vector<PacedFrame> frames;
    enum class StreamEnd {
        clean,
        cut,
        stall_silent,
        stall_keepalive
    } stream_end = StreamEnd::clean;
    std::string keepalive_bytes;
    Duration keepalive_interval{};
    std::optional<std::size_t> cut_after_bytes;  // body bytes sent before the connection is cut

    // A stream sent on a socket whose dialect gives its token frames' form
    // (wire::Dialect::token_frame_form): the answer's tokens and the form. Its token frames have
    // no bytes; append_frame makes each as it is sent. `serve` with 5,000 streams of 200 tokens
    // so holds 127 MiB, where it held 450 (bench/README.md, "Ten thousand streams").
    std::optional<wire::TokenFrameForm> token_form;
    wire::Tokens tokens;
    // Appends `frame`'s bytes to `out`.
    void append_frame(const PacedFrame& frame, std::string& out) const {
        if (frame.token < 0) {
            out += frame.bytes;
        } else {
            assert(token_form && static_cast<std::size_t>(frame.token) < tokens.size());
            token_form->append(out, tokens[static_cast<std::size_t>(frame.token)]);
        }
    }

    bool needs_slot = false;  // an answer that occupies a capacity slot while it runs

    // Scenario time the work takes (for abandoned work): the delay, then every frame's gap.
    Duration expected_duration() const {
        Duration total = delay;
        for (const auto& f : frames) total += f.gap;
        return total;
    }

    Attempt attempt;  // filled in as far as the provider knows; the server completes it
};

// Chooses the Plan for a request; the fault engine provides it (an empty Plan by default).
struct PlanQuery {
    Duration now{};
    const wire::ChatRequest* request = nullptr;  // null for non-chat endpoints
    std::string_view forced_fault;
};
using Planner = std::function<faults::Plan(const PlanQuery&)>;

// This provider's hot counters, looked up once.
struct ProviderCounters {
    Metrics::Series* in_flight = nullptr;
    Metrics::Series* active_streams = nullptr;
    Metrics::Series* connections = nullptr;
    Metrics::Series* prompt_tokens = nullptr;
    Metrics::Series* completion_tokens = nullptr;
    Histogram* send_lateness = nullptr;  // wall seconds
};

class Provider {
public:
    // Every "now" and every timer of the provider (capacity reviews, abandoned work) goes
    // through `scheduler`.
    Provider(ProviderConfig config, Scheduler& scheduler, AttemptJournal& journal,
             Metrics& metrics);

    const ProviderConfig& config() const { return config_; }
    const wire::Dialect& dialect() const { return *dialect_; }
    const Clock& clock() const { return scheduler_; }
    Scheduler& scheduler() { return scheduler_; }
    AttemptJournal& journal() { return journal_; }
    Metrics& metrics() { return metrics_; }
    const ProviderCounters& counters() const { return counters_; }

    // Replaces the fault engine with a fixed planner (tests of the wire behaviour).
    void set_planner(Planner planner);

    faults::Engine& engine() { return engine_; }
    std::mutex& engine_mutex() { return mutex_; }
    // Whether the provider refuses connections at `now` (an outage of mode "refuse").
    bool refusing(Duration now);
    faults::StatusSnapshot status(Duration now);
    std::int64_t epoch_unix() const { return epoch_unix_; }
    // The clock the provider's client reads: wall time (the default), or the scenario's — an
    // external stack whose own clock is warped to the time scale (harness/scenario_clock.h).
    // Retry hints, rate-limit resets and processing times are then said in scenario seconds, and
    // reset dates in the scenario's calendar (epoch_unix() + scenario time).
    void set_client_in_scenario_time(bool on) { client_in_scenario_time_ = on; }
    Duration for_client(Duration scenario_span) const;
    std::int64_t client_unix_now() const;
    // The fleet's clock, when it can be moved (control API); null otherwise.
    ScaledClock* controllable_clock() const { return controllable_clock_; }
    void set_controllable_clock(ScaledClock* clock) { controllable_clock_ = clock; }

    // Capacity (faults/capacity.h): ask for a slot for an answer. `resume` is called (from the
    // releasing thread or the scheduler's) when a queued request gets its slot.
    using Admission = faults::CapacityModel::Admission;
    Admission admit(InlineTask resume);
    // The slot is free again: now, or once abandoned work would have finished (`after`).
    void release(Duration after = Duration::zero());
    // The "busy" answer (503, or 529 for Anthropic) for a request that found no slot and no
    // room in the queue; `cause` is the journal's fault label ("capacity", "max_streams").
    // `reads`: IncomingRequest::reads of the request.
    Reply overloaded(Reply original, std::string_view cause, bool reads);
    struct Load {
        int in_service = 0;
        int queued = 0;
        int limit = 0;  // current concurrency limit (0: unlimited)
    };
    Load load();
    // One reply's time on the network (LatencyModel::rtt): zero without an rtt, and then no
    // random number is drawn.
    Duration network_delay();
    // No network_delay() is longer than this (a microsecond more than the rtt at its most jitter).
    Duration network_delay_bound() const;

    // Answers a request on one of the provider API paths (chat, models).
    Reply handle(const IncomingRequest& request);

    // A reply's head as a client reads it: its status line and headers, written out.
    std::string render_head(const Reply& reply) const;
    // Names a head is read by together (HeadReader::read), with those of them that are not a
    // line every head of this provider may write (own_header), worked out once: at most 64. The
    // names must outlive the query.
    struct HeadQuery {
        std::span<const std::string_view> names;
        std::uint64_t own_fields = 0;  // bit i: names[i] only a reply's own fields carry
    };
    HeadQuery head_query(std::span<const std::string_view> names) const;
    // A reply's headers by name, as a client finds them in the written head (the first of that
    // name), without writing it. A name none of the head's own lines has (own_header(): a retry
    // hint, a rate limit) is looked for where the reply keeps it, HeadFields::extra and then
    // HeadFields::limits, as the head writes them; for one of its own, the header lines are
    // gathered as views, once. The values live as long as the reply, the reader and this provider
    // (the date, until this thread next asks for http_date_now()); the request id, as long as
    // the reply keeps its attempt (Provider::finish takes it), or the reader where it made it.
    class HeadReader {
    public:
        HeadReader(const Provider& provider, const Reply& reply);
        HeadReader(const Provider& provider, Reply&& reply) = delete;  // it would dangle
        HeadReader(const HeadReader&) = delete;  // its views point into its own digits
        HeadReader& operator=(const HeadReader&) = delete;
        std::string_view operator()(std::string_view name) const;
        // The lines of the query's names (head_query), each as operator() reads it, and those
        // only the reply's own fields may carry (a client's: retry hints) found in one pass over
        // them.
        void read(const HeadQuery& query, std::span<std::string_view> values) const;

    private:
        const Provider& provider_;
        const Reply& reply_;
        std::array<char, 24> length_{}, processing_{};  // the numbers' digits
        std::string_view length_digits_, processing_digits_;
        // In place up to 32 lines (a head has far fewer), on the heap beyond; gathered when first
        // asked for.
        mutable boost::container::small_vector<std::pair<std::string_view, std::string_view>, 32>
            lines_;
        mutable std::string request_id_;  // made when the attempt has none (Provider::request_id)
        mutable bool gathered_ = false;
    };
    // Whether `name` is one of the lines every head of this provider may write (its date, content
    // and connection, the dialect's own, x-brownout-provider), as head_lines() writes them; the
    // rest are a reply's own fields (HeadFields::extra and limits).
    bool own_header(std::string_view name) const;

    // An error reply in this provider's shape, for failures found before routing (413, 400).
    Reply error_reply(const wire::ApiError& error, const IncomingRequest& request, bool close);

    // Records a finished attempt in the journal and the metrics.
    void finish(Attempt&& attempt);

    // The end of an attempt, written once for both transports (the socket session and the
    // in-process one). How long its capacity slot stays taken after it ended with `outcome`
    // (the journal's word) `took` after it started: the rest of its work when the client left or
    // the stream stalled or was cut and the capacity model says abandoned work continues, else
    // nothing.
    Duration slot_held_after(const Reply& reply, std::string_view outcome, Duration took) const;
    // Journals the attempt `reply` carried with its outcome and duration; a stream counts the
    // tokens it got out. The journal takes `reply.attempt`: it is spent after this.
    void finish(Reply& reply, std::string_view outcome, Duration took, int tokens_sent);

private:
    // Each fills `reply`, which handle() made with its attempt (start_attempt), where it is: a
    // Reply is some thirty members, and neither it nor its attempt is moved on the way out.
    // `limits`: the rate-limit headers the reply carries.
    void error_reply(const wire::ApiError& error, Reply& reply, bool close);
    void handle_chat(const IncomingRequest& in, const wire::Route& route, Reply& reply);
    // The chat request read (handle_chat), carried out.
    void handle_chat_request(const IncomingRequest& in, const wire::ChatRequest& request,
                             Reply& reply);
    void handle_models(const IncomingRequest& in, const wire::Route& route, Reply& reply);
    void answer(const wire::ChatRequest& request, const Shape& shape, Reply& reply,
                std::uint64_t random, bool reads, wire::Headers limits);
    void rejection(const faults::Rejection& r, const wire::ChatRequest* request, Reply& reply,
                   bool reads, wire::Headers limits = {});
    // What the in-process client reads from the plain error (a status's own, with the
    // rejection's wording; no retry hint in the body) a rejection() gives for `status`, `model`
    // and `r`, when it is the one kept: it is a pure function of them and of the dialect, and
    // a storm of one status is thousands of them in a row.
    struct StatusErrorRead {
        int status = 0;
        std::string model, type, code, message, param;  // the rejection's wording
        std::shared_ptr<const wire::ReadError> read;
        bool matches(int s, std::string_view m, const faults::Rejection& r) const;
    };
    std::shared_ptr<const wire::ReadError> known_status_error_read(int status,
                                                                   std::string_view model,
                                                                   const faults::Rejection& r);
    void keep_status_error_read(int status, std::string_view model, const faults::Rejection& r,
                                std::shared_ptr<const wire::ReadError> read);
    // Fault "hold": turns an answer into 200 + keep-alives for the wait, then its end.
    void hold(Reply& reply, const faults::Hold& h, bool stream, int body_tokens) const;
    // Every header of a head in the order it is written: `line(name, value)` for each. The
    // numbers come as digits (`length_digits`, `processing_digits`), the date as `date`.
    template <typename Line>
    void head_lines(const Reply& reply, std::string_view request_id, std::string_view length_digits,
                    std::string_view processing_digits, std::string_view date, Line&& line) const;
    // Writes the head of a reply the provider made unless the in-process transport reads its
    // fields (`reads`).
    void write_head(Reply& reply, bool reads) const;
    wire::Headers rate_limit_headers(const faults::LimitSnapshot& limits) const;
    bool authorized(const IncomingRequest& in) const;
    void start_attempt(const IncomingRequest& in, Attempt& a);
    // The attempt's request id: its own, or, for one in process that was given none (its text
    // read by no one, AttemptJournal::keeps_text), the one made from its seq, written in `room`.
    std::string_view request_id(const Attempt& a, std::string& room) const;
    std::string made_request_id(std::uint64_t seq) const;  // the one formula for both
    std::string error_body(const wire::ApiError& e, const Attempt& a) const;  // naming its id

    ProviderConfig config_;
    std::unique_ptr<wire::Dialect> dialect_;
    Scheduler& scheduler_;
    // scheduler_.threaded(): a fleet's provider takes its locks (LockWhen); one on a virtual
    // scheduler, driven by the thread that runs it (the in-process transport), takes none.
    const bool threaded_;
    AttemptJournal& journal_;
    Metrics& metrics_;
    std::int64_t epoch_unix_;  // unix time at scenario time zero
    bool client_in_scenario_time_ = false;

    ProviderCounters counters_;
    // own_header()'s names (head_lines()'s), by their length.
    std::vector<std::vector<std::string>> own_headers_;
    ScaledClock* controllable_clock_ = nullptr;
    faults::Engine engine_;
    faults::CapacityModel capacity_;
    std::map<faults::CapacityModel::Ticket, InlineTask> resumes_;
    faults::CapacityModel::Ticket next_ticket_ = 0;
    bool review_pending_ = false;
    int current_limit(Duration now);
    // Hands the slots to the tickets the model admitted (outside the lock) and, while a lowered
    // limit holds requests back, looks again at the next phase boundary or kCapacityReview.
    void admitted(const std::vector<faults::CapacityModel::Ticket>& tickets, LockWhen& lock);
    void review();
    std::mutex attempts_mutex_;
    std::map<std::pair<int, std::string>, Metrics::Series*> attempt_series_;
    // The entry of attempt_series_ the last attempt counted in (a map's entries stay put).
    const std::pair<const std::pair<int, std::string>, Metrics::Series*>* last_series_ = nullptr;
    std::mutex network_mutex_;
    RandomStream network_rng_;
    std::mutex status_read_mutex_;
    std::optional<StatusErrorRead> status_read_;  // the last one rejection() read

    std::mutex mutex_;  // guards everything below
    Planner planner_;
    faults::RateBuckets limits_;
    faults::Throttles throttles_;
};

// A capacity slot (Provider::admit) for as long as it is held (mockprovider/lease.h); given back
// at once, or with release(after) once abandoned work would have finished.
class SlotLease {
public:
    SlotLease() = default;
    explicit SlotLease(Provider& provider) : provider_(&provider) {}

    void release(Duration after = Duration::zero()) {
        if (Provider* provider = provider_.release()) provider->release(after);
    }
    bool held() const { return provider_ != nullptr; }

private:
    struct GiveBack {
        void operator()(Provider* provider) const { provider->release(); }
    };
    std::unique_ptr<Provider, GiveBack> provider_;
};

std::string_view reason_phrase(int status);
// The key a request carries: x-api-key (Anthropic), x-goog-api-key or ?key= (Gemini).
std::string request_api_key(std::string_view x_api_key, std::string_view x_goog_api_key,
                            std::string_view target);
// Current time as an HTTP date ("Sun, 06 Nov 1994 08:49:37 GMT"), cached per second and thread
// (the reference holds until this thread next asks).
const std::string& http_date_now();

}  // namespace brownout::mock
