#pragma once
// A dialect owns one API's wire form, both halves (DESIGN §2):
//   server half: routing, parsing a request into a ChatRequest, rendering a Completion or an
//                ApiError into the exact bytes, frames and headers a real provider sends;
//   client half: rendering a request as that API's clients send it, and reading an answer or an
//                error back into a structured result — classified by status, type and code,
//                never by the wording of a message (vendor wording is data).
// Dialects are pure: no sockets, no clock. One file per dialect (wire/openai_chat.cpp,
// wire/anthropic_messages.cpp), one row in the registry (wire/registry.cpp).

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/text.h"
#include "wire/chat.h"

namespace brownout::wire {

// Whose wording to use where OpenAI-compatible providers differ (DeepSeek's error texts).
enum class Vendor { openai, deepseek, anthropic, ollama, google };

struct StreamFrame {
    enum class Kind { prelude, token, epilogue };
    Kind kind;
    std::string bytes;  // one complete SSE event (blank line included) or NDJSON line
    int tokens = 0;     // answer tokens this frame carries
    // What the dialect's client half reads from the frame's bytes, in place of them
    // (Dialect::stream_reads): folded (read_frames), they are what the simulator takes instead
    // of rendering bytes and reading them back (Dialect::stream_outline).
    // tests/wire/client_half_test.cpp holds the two to each other.
    // Views into the Completion the frames were made from (or literals): folded while it lives.
    struct Read {
        std::string_view text;                          // appended to the answer's text
        std::optional<std::string_view> finish_reason;  // the frame names one
    };
    std::optional<Read> read;
};

using ParseResult = std::variant<ChatRequest, ApiError>;

struct ModelInfo {
    std::string id;
    std::int64_t created = 0;
    std::string owned_by;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// Where a request goes, once the dialect has read its method and path.
struct Route {
    enum class Target { chat, models, model, not_found, method_not_allowed } target;
    std::string model;  // Target::model: the id asked for
    int endpoint = 0;   // Target::chat: which of the dialect's chat endpoints (ChatRequest)
};

// One rate-limit window as the provider reports it; `reset` is wall time (headers speak wall).
struct RateLimitWindow {
    std::string_view what;  // "requests" | "tokens"
    long limit = 0;
    long remaining = 0;
    std::chrono::nanoseconds reset{};  // until the window is full again
    std::int64_t reset_unix = 0;       // the same instant as unix seconds, rounded up
};

// ── client half ──────────────────────────────────────────────────────────
// The request a client sends, before it has a dialect.
// What a conversation's text gives a ChatRequest (its system, prompt and image read into the
// neutral digest; detail::DigestBuilder), for a sender that knows it before it has the text.
struct ConversationDigest {
    std::uint64_t text_digest = 0;
    std::uint64_t image_digest = 0;
    int image_count = 0;
    int prompt_tokens = 0;

    static ConversationDigest of(const ChatRequest& r) {
        return {r.text_digest, r.image_digest, r.image_count, r.prompt_tokens};
    }
    void set_in(ChatRequest& r) const {
        r.text_digest = text_digest;
        r.image_digest = image_digest;
        r.image_count = image_count;
        r.prompt_tokens = prompt_tokens;
    }
};

struct OutgoingChat {
    std::string model;
    std::string system;
    std::string prompt;
    std::string image_url;  // empty: text only
    std::int64_t max_tokens = 256;
    bool stream = false;
    std::optional<ToolSpec> tool;  // a tool the model must call
    // Set by a sender that knows what system, prompt and image digest to, and that they are
    // ASCII (the simulator's workload, digested once a run): Dialect::typed_request takes it and
    // reads none of the text, which may then be left out. render_chat ignores it.
    std::optional<ConversationDigest> digest;
};

struct ClientRequest {
    std::string method = "POST";
    std::string path;
    Headers headers;
    std::string body;
};

// What a 200 carried: the answer's text (a tool call's arguments for tool requests), or broken.
struct ReadAnswer {
    bool broken = false;  // unreadable, cut mid-way, or an error sent in-band
    std::string text;
    std::string finish_reason;  // as the API names it ("stop", "insufficient_system_resource")
};

// A stream's token frame as a form (Dialect::token_frame_form): `prefix`, the token as a JSON
// string (append_json_string), then `suffix`.
struct TokenFrameForm {
    std::string prefix;
    std::string suffix;
    void append(std::string& out, std::string_view token) const {
        out += prefix;
        append_json_string(out, token);
        out += suffix;
    }
};

// What read_answer gives for a stream that ended cleanly after `frames` (each with a `read`
// member: StreamFrame's, or the server's paced copy of it); nullopt when a frame has none.
template <class Frames>
std::optional<ReadAnswer> read_frames(const Frames& frames) {
    ReadAnswer out;
    for (const auto& f : frames) {
        if (!f.read) return std::nullopt;
        out.text += f.read->text;
        if (f.read->finish_reason) out.finish_reason = *f.read->finish_reason;
    }
    return out;
}

// A whole stream as the simulator carries it (Dialect::stream_outline): what the client half
// reads from it (its frames' reads folded, read_frames), and its frames' kinds and tokens in
// order — `prelude` frames with no token, then a frame a token, then `epilogue` frames with no
// token — without a frame object each.
struct StreamOutline {
    ReadAnswer read;
    int prelude = 0;
    int token_frames = 0;
    int epilogue = 0;
};

// What an error status means to a client, from status, type and code alone.
enum class ErrorClass {
    unsupported,   // this provider refuses this request (model, feature): another may take it
    auth,          // 401/403: the key
    rate_limited,  // 429
    overloaded,    // 503/529 and the like: try later
    server_error,  // other 5xx
    other,
};
struct ReadError {
    int status = 0;
    std::string type;
    std::string code;
    ErrorClass klass = ErrorClass::other;
    std::optional<double> retry_seconds;  // a wait the body names (Gemini's RetryInfo)
};

class Dialect {
public:
    virtual ~Dialect() = default;
    virtual DialectKind kind() const = 0;
    virtual Vendor vendor() const = 0;

    // The request path this dialect answers chat requests on, and lists its models on.
    virtual std::string_view chat_path() const = 0;
    virtual std::string_view models_path() const { return "/v1/models"; }
    // Where `target` (the request target, query included) goes. The default: chat at
    // chat_path() (with or without /v1, as DeepSeek documents both), models at /models.
    virtual Route route(std::string_view method, std::string_view target) const;
    virtual ParseResult parse_chat(std::string_view body) const = 0;
    // A chat request at `route` (the provider's entry point): dialects with more than one chat
    // endpoint, or a model or stream flag in the URL, read them from the route.
    virtual ParseResult parse_routed(const Route& /*route*/, std::string_view body) const {
        return parse_chat(body);
    }

    virtual std::string completion_body(const Completion& c) const = 0;
    // What read_answer gives for completion_body(c) arriving whole, where the dialect knows it
    // without rendering the body; nullopt (the default): render and parse it. Held to
    // read_answer by tests/wire/client_half_test.cpp.
    virtual std::optional<ReadAnswer> completion_read(const Completion& /*c*/) const {
        return std::nullopt;
    }
    // A stream's frames, their bytes only (`read` unset).
    virtual std::vector<StreamFrame> stream_frames(const Completion& c,
                                                   const ChatRequest& request) const = 0;
    // stream_frames' token frames as a form, where each is one piece of c.tokens, in order, and
    // made so (TokenFrameForm), and where stream_frames of `c` without its tokens gives the
    // frames around them, the same; nullopt (the default) where they are not. A socket server
    // keeps a stream's tokens and the form, has the dialect render only the frames around them,
    // and makes each token's frame when it is due. Held to stream_frames by
    // tests/wire/client_half_test.cpp.
    virtual std::optional<TokenFrameForm> token_frame_form(const Completion& /*c*/,
                                                           const ChatRequest& /*request*/) const {
        return std::nullopt;
    }
    // The same frames (kinds, order, tokens) with what the client half reads from each in place
    // of its bytes (empty), where the dialect knows every frame's read; nullopt (the default):
    // render and parse the bytes. Held to read_answer by tests/wire/client_half_test.cpp. The
    // reads are views into `c`: fold them (read_frames) while it lives.
    virtual std::optional<std::vector<StreamFrame>> stream_reads(
        const Completion& /*c*/, const ChatRequest& /*request*/) const {
        return std::nullopt;
    }
    // stream_reads as an outline (StreamOutline), where its frames are a prelude, a frame a
    // token and an epilogue; nullopt where stream_reads gives none, or frames of another shape.
    // The default folds stream_reads; a dialect may say it without the frames. Held to
    // stream_reads by tests/wire/client_half_test.cpp.
    virtual std::optional<StreamOutline> stream_outline(const Completion& c,
                                                        const ChatRequest& request) const;
    virtual std::string error_body(const ApiError& e, std::string_view request_id) const = 0;
    // What read_error gives for error_body(e) sent with e.status, where the dialect knows it
    // without rendering the body; nullopt (the default): render and parse it. Held to
    // read_error by tests/wire/client_half_test.cpp.
    virtual std::optional<ReadError> error_read(const ApiError& /*e*/) const {
        return std::nullopt;
    }
    // An error sent in-band after a 200 stream has begun; `_for` a request, for a dialect with
    // more than one stream form (OpenAI chat and Responses).
    virtual std::string stream_error_frame(const ApiError& e) const = 0;
    virtual std::string stream_error_frame_for(const ApiError& e,
                                               const ChatRequest& /*request*/) const {
        return stream_error_frame(e);
    }
    // A comment line that keeps a stalled stream's connection alive; empty for a stream form
    // without comments (NDJSON), whose stalls are then silent.
    virtual std::string keepalive_frame() const { return ": keep-alive\n\n"; }
    // The Content-Type of a streamed answer as this API's clients ask for it, and of every JSON
    // body; a dialect with more than one stream form says which one a request gets.
    virtual std::string_view stream_content_type() const {
        return "text/event-stream; charset=utf-8";
    }
    virtual std::string_view stream_content_type_for(const ChatRequest& /*request*/) const {
        return stream_content_type();
    }
    virtual std::string_view json_content_type() const { return "application/json"; }
    // Whether an image sent to a model without vision is refused (OpenAI, Anthropic) or passed
    // over, the model answering from the text alone (Ollama).
    virtual bool refuses_images_without_vision() const { return true; }

    virtual std::string models_body(const std::vector<ModelInfo>& models) const = 0;
    virtual std::string model_body(const ModelInfo& model) const = 0;

    // The header that carries the request id ("x-request-id" or "request-id"; empty: none).
    virtual std::string_view request_id_header() const = 0;
    // Headers every answer of this API carries (OpenAI's openai-version).
    virtual const Headers& common_headers() const {
        static const Headers kNone;
        return kNone;
    }
    // The header that tells how many milliseconds a non-streamed answer took (OpenAI's
    // openai-processing-ms; empty: none).
    virtual std::string_view processing_header() const { return {}; }
    virtual Headers rate_limit_headers(const std::vector<RateLimitWindow>& windows) const = 0;
    // Whether a rejection's wait goes in retry-after / retry-after-ms headers (OpenAI,
    // Anthropic) or only in the body (Gemini's RetryInfo, ApiError::retry_seconds).
    virtual bool retry_hint_in_headers() const { return true; }
    // The status of "no capacity": 503, or Anthropic's 529.
    virtual int overloaded_status() const { return 503; }
    // Who owns the models in /models (owned_by).
    virtual std::string_view models_owner() const = 0;
    virtual std::string new_request_id(std::uint64_t random) const = 0;
    virtual std::string new_completion_id(std::uint64_t random) const = 0;

    // The provider's own error for each situation, with its wording and status.
    virtual ApiError status_error(int status, std::string_view model) const = 0;
    virtual ApiError invalid_json(std::string_view detail) const = 0;
    virtual ApiError not_found(std::string_view method, std::string_view target) const = 0;
    virtual ApiError method_not_allowed(std::string_view method, std::string_view target) const = 0;
    virtual ApiError unknown_model(std::string_view model) const = 0;
    virtual ApiError body_too_large(std::size_t limit) const = 0;
    virtual ApiError feature_unsupported(std::string_view feature,
                                         std::string_view model) const = 0;
    virtual ApiError rate_limited(std::string_view model, bool tokens, long limit, long used,
                                  double retry_seconds) const = 0;

    // ── client half ──
    // `api_key` goes where this API's SDKs put it (empty: no key).
    virtual ClientRequest render_chat(const OutgoingChat& chat, std::string_view api_key) const = 0;
    // The simulator's shortcut past render_chat and the server half's parse, in two halves: the
    // request without its body (path and headers), which depends on the key alone, so that a
    // transport makes it once for each provider it sends to; and the ChatRequest that
    // parse_routed gives for the rendered body on the route of that path. nullopt (the default,
    // and wherever the shortcut could differ): render and parse. A dialect whose head depends on
    // the chat (Gemini names the model in its path) gives no typed_head.
    // tests/wire/client_half_test.cpp holds every dialect's shortcut to render-then-parse.
    virtual std::optional<ClientRequest> typed_head(std::string_view /*api_key*/) const {
        return std::nullopt;
    }
    virtual std::optional<ChatRequest> typed_request(const OutgoingChat& /*chat*/) const {
        return std::nullopt;
    }
    // Both halves, or nullopt when either declines.
    struct TypedChat {
        ClientRequest request;  // path and headers; no body
        ChatRequest chat;
    };
    std::optional<TypedChat> typed_chat(const OutgoingChat& chat, std::string_view api_key) const {
        auto head = typed_head(api_key);
        if (!head) return std::nullopt;
        auto request = typed_request(chat);
        if (!request) return std::nullopt;
        return TypedChat{std::move(*head), std::move(*request)};
    }
    // A 200's body (JSON, or the text of an SSE stream); `body_complete` is false when the
    // connection ended before the body did.
    virtual ReadAnswer read_answer(bool stream, std::string_view body,
                                   bool body_complete) const = 0;
    virtual ReadError read_error(int status, std::string_view body) const = 0;
};

// ── the registry ──────────────────────────────────────────────────────────
struct DialectInfo {
    std::string_view name;  // a scenario's `dialect = "…"`
    DialectKind kind;
    std::vector<Vendor> vendors;  // whose wording it can speak; the first is the default
    std::string_view default_model;
    std::unique_ptr<Dialect> (*make)(Vendor vendor);
};
struct VendorInfo {
    std::string_view name;  // a scenario's `vendor = "…"`
    Vendor vendor;
};
const std::vector<DialectInfo>& dialects();
const std::vector<VendorInfo>& vendors();
const DialectInfo* find_dialect(std::string_view name);  // null: unknown
const DialectInfo& dialect_info(DialectKind kind);
const VendorInfo* find_vendor(std::string_view name);
std::string_view to_string(DialectKind kind);
std::string_view to_string(Vendor vendor);
std::vector<std::string> dialect_names();
std::vector<std::string> vendor_names();

std::unique_ptr<Dialect> make_dialect(DialectKind kind, Vendor vendor);
// The dialects' one factory each (in their own files).
std::unique_ptr<Dialect> make_openai_chat(Vendor vendor);
std::unique_ptr<Dialect> make_anthropic_messages(Vendor vendor);
std::unique_ptr<Dialect> make_ollama(Vendor vendor);
std::unique_ptr<Dialect> make_gemini(Vendor vendor);
std::unique_ptr<Dialect> make_openai_responses(Vendor vendor);
// Chat completions alone, without the Responses API beside it (what openai_responses.cpp builds
// its errors and headers with).
std::unique_ptr<Dialect> make_openai_chat_only(Vendor vendor);

}  // namespace brownout::wire
