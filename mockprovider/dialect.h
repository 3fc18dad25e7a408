#pragma once
// A dialect turns wire bytes into a ChatRequest and a Completion or an ApiError back into the
// exact bytes a real provider sends. Dialects are pure: no sockets, no clock.

#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "mockprovider/chat.h"

namespace brownout::mock {

// Whose wording to use where OpenAI-compatible providers differ (DeepSeek's error texts).
enum class Vendor { openai, deepseek, anthropic };

struct StreamFrame {
    enum class Kind { prelude, token, epilogue };
    Kind kind;
    std::string bytes;  // one complete SSE event, blank line included
    int tokens = 0;     // answer tokens this frame carries
};

using ParseResult = std::variant<ChatRequest, ApiError>;

struct ModelInfo {
    std::string id;
    std::int64_t created = 0;
    std::string owned_by;
};

class Dialect {
public:
    virtual ~Dialect() = default;
    virtual DialectKind kind() const = 0;
    virtual Vendor vendor() const = 0;

    // The request path this dialect answers chat requests on.
    virtual std::string_view chat_path() const = 0;
    virtual ParseResult parse_chat(std::string_view body) const = 0;

    virtual std::string completion_body(const Completion& c) const = 0;
    virtual std::vector<StreamFrame> stream_frames(const Completion& c,
                                                   const ChatRequest& request) const = 0;
    virtual std::string error_body(const ApiError& e, std::string_view request_id) const = 0;
    // An error sent in-band after a 200 stream has begun.
    virtual std::string stream_error_frame(const ApiError& e) const = 0;
    // A comment line that keeps a stalled stream's connection alive.
    std::string keepalive_frame() const { return ": keep-alive\n\n"; }

    virtual std::string models_body(const std::vector<ModelInfo>& models) const = 0;
    virtual std::string model_body(const ModelInfo& model) const = 0;

    // The header that carries the request id ("x-request-id" or "request-id").
    virtual std::string_view request_id_header() const = 0;
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
};

std::unique_ptr<Dialect> make_dialect(DialectKind kind, Vendor vendor);

}  // namespace brownout::mock
