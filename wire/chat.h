#pragma once
// The dialect-neutral view of a chat request and of the answer the mock gives it. The OpenAI
// and Anthropic dialects parse into ChatRequest and render a Completion back to bytes.

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
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

// An answer's text and the pieces it is streamed in: one string and where each piece ends, so
// that an answer of N tokens costs two allocations, not N + 1. A piece reads as a view into the
// text; the text reads whole without joining anything.
class Tokens {
public:
    class const_iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = std::string_view;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = std::string_view;

        const_iterator() = default;
        const_iterator(const Tokens* tokens, std::size_t i) : tokens_(tokens), i_(i) {}
        std::string_view operator*() const { return (*tokens_)[i_]; }
        const_iterator& operator++() {
            ++i_;
            return *this;
        }
        const_iterator operator++(int) {
            auto before = *this;
            ++i_;
            return before;
        }
        bool operator==(const const_iterator&) const = default;

    private:
        const Tokens* tokens_ = nullptr;
        std::size_t i_ = 0;
    };

    Tokens() = default;
    // `text` cut at `ends` (ascending, none past the text's end; text past the last end is
    // dropped).
    Tokens(std::string text, std::vector<std::uint32_t> ends)
        : text_(std::move(text)), ends_(std::move(ends)), known_ascii_(false) {
        text_.resize(ends_.empty() ? 0 : ends_.back());
    }
    // The same, from a maker that knows every byte of `text` is ASCII (generate_answer's words):
    // known_ascii() says so, and a reader need not look at each byte (ascii()).
    struct Ascii {};
    Tokens(std::string text, std::vector<std::uint32_t> ends, Ascii /*tag*/)
        : Tokens(std::move(text), std::move(ends)) {
        known_ascii_ = true;
    }

    std::size_t size() const { return ends_.size(); }
    bool empty() const { return ends_.empty(); }
    std::string_view operator[](std::size_t i) const {
        std::size_t begin = i == 0 ? 0 : ends_[i - 1];
        return std::string_view(text_).substr(begin, ends_[i] - begin);
    }
    const_iterator begin() const { return {this, 0}; }
    const_iterator end() const { return {this, size()}; }
    // The pieces joined: the answer's text.
    const std::string& text() const { return text_; }

    // Every byte of the text is known to be ASCII: made empty (by default) or with Ascii, and
    // only ASCII added since. False: one may not be.
    bool known_ascii() const { return known_ascii_; }
    // Every byte of the text is ASCII: known so, or else looked at (wire::detail::ascii).
    bool all_ascii() const;

    void push_back(std::string_view token);
    // Puts `token` before the piece at `at` (at == size(): at the end).
    void insert(std::size_t at, std::string_view token);
    // Keeps the first n pieces (all of them when there are fewer).
    void truncate(std::size_t n) {
        if (n >= size()) return;
        ends_.resize(n);
        text_.resize(n == 0 ? 0 : ends_.back());
    }

private:
    std::string text_;
    std::vector<std::uint32_t> ends_;  // where each piece ends in text_
    bool known_ascii_ = true;
};

// insufficient_system_resource: DeepSeek's "generation interrupted" (fault "hold").
enum class FinishReason { stop, length, tool_calls, insufficient_system_resource };

struct Completion {
    int endpoint = 0;  // the request's (ChatRequest::endpoint)
    std::string id;
    std::string model;
    std::int64_t created = 0;  // unix seconds
    Tokens tokens;             // the answer text split into the pieces that are streamed
    std::optional<ToolCall> tool_call;
    FinishReason finish = FinishReason::stop;
    int prompt_tokens = 0;
    int completion_tokens = 0;
    // How long the provider says it took (Ollama's prompt_eval_duration and eval_duration):
    // scenario time, the first token's latency and the generation after it.
    std::int64_t prompt_eval_ns = 0;
    std::int64_t eval_ns = 0;

    const std::string& text() const { return tokens.text(); }
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
