#pragma once
// The dialect-neutral view of a chat request and of the answer the mock gives it. The OpenAI
// and Anthropic dialects parse into ChatRequest and render a Completion back to bytes.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace brownout::wire {

enum class DialectKind { openai, anthropic, ollama, gemini, openai_responses };

struct ToolSpec {
    std::string name;
    // Property names of the tool's JSON-schema parameters, with their JSON types.
    std::vector<std::pair<std::string, std::string>> properties;
};

enum class ToolChoice {
    none,
    auto_,  // NOLINT(readability-identifier-naming): "auto" is a keyword
    required,
    named
};

struct ChatRequest {
    // Which of its dialect's chat endpoints the request came on (Ollama: 0 /api/chat,
    // 1 /api/generate); the answer is rendered for the same one.
    int endpoint = 0;
    std::string model;
    bool stream = false;
    bool include_usage = false;  // OpenAI stream_options.include_usage
    std::optional<std::int64_t> max_tokens;
    std::uint64_t text_digest = 0;   // roles and text of every message, system included
    std::uint64_t image_digest = 0;  // every image's URL or data, in order; 0 when none
    int image_count = 0;
    int prompt_tokens = 0;
    std::vector<ToolSpec> tools;
    ToolChoice tool_choice = ToolChoice::auto_;
    std::string tool_choice_name;
};

struct ToolCall {
    std::string id;
    std::string name;
    std::string arguments_json;
};

// insufficient_system_resource: DeepSeek's "generation interrupted" (fault "hold").
enum class FinishReason { stop, length, tool_calls, insufficient_system_resource };

struct Completion {
    int endpoint = 0;  // the request's (ChatRequest::endpoint)
    std::string id;
    std::string model;
    std::int64_t created = 0;         // unix seconds
    std::vector<std::string> tokens;  // the answer text split into the pieces that are streamed
    std::optional<ToolCall> tool_call;
    FinishReason finish = FinishReason::stop;
    int prompt_tokens = 0;
    int completion_tokens = 0;
    // How long the provider says it took (Ollama's prompt_eval_duration and eval_duration):
    // scenario time, the first token's latency and the generation after it.
    std::int64_t prompt_eval_ns = 0;
    std::int64_t eval_ns = 0;

    std::string text() const;
};

// An API error answer; the dialect renders it in the provider's own shape.
struct ApiError {
    int status = 400;
    std::string type;   // "invalid_request_error", "overloaded_error", ...
    std::string code;   // OpenAI only; empty → null
    std::string param;  // OpenAI only; empty → null
    std::string message;
    // Gemini: google.rpc details the dialect wrote (a JSON array; empty: none), and the wait the
    // provider announced, which Gemini says in the body (RetryInfo) rather than in a header.
    std::string details_json;
    std::optional<double> retry_seconds;
};

}  // namespace brownout::wire
