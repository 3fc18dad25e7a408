// The Anthropic Messages dialect. Shapes follow ../shared/reference/wire-formats.md §3.

#include <fmt/format.h>

#include "core/text.h"
#include "wire/common.h"
#include "wire/dialect.h"

namespace brownout::wire {
namespace {

using namespace detail;
namespace json = boost::json;

std::string_view stop_reason(FinishReason f) {
    switch (f) {
        case FinishReason::stop:
            return "end_turn";
        case FinishReason::length:
            return "max_tokens";
        case FinishReason::tool_calls:
            return "tool_use";
        case FinishReason::insufficient_system_resource:
            return "max_tokens";  // no such reason in Anthropic's API
    }
    return "end_turn";
}

std::string event(std::string_view name, std::string_view data) {
    std::string out = "event: ";
    out += name;
    out += "\ndata: ";
    out += data;
    out += "\n\n";
    return out;
}

std::string_view error_type_for(int status) {
    switch (status) {
        case 400:
            return "invalid_request_error";
        case 401:
            return "authentication_error";
        case 402:
            return "billing_error";
        case 403:
            return "permission_error";
        case 404:
            return "not_found_error";
        case 409:
            return "conflict_error";
        case 413:
            return "request_too_large";
        case 429:
            return "rate_limit_error";
        case 504:
            return "timeout_error";
        case 529:
            return "overloaded_error";
        default:
            return status >= 500 ? "api_error" : "invalid_request_error";
    }
}

class AnthropicDialect final : public Dialect {
public:
    DialectKind kind() const override { return DialectKind::anthropic; }
    Vendor vendor() const override { return Vendor::anthropic; }
    std::string_view chat_path() const override { return "/v1/messages"; }
    std::string_view request_id_header() const override { return "request-id"; }

    std::string new_request_id(std::uint64_t r) const override {
        return fmt::format("req_011C{}", base62(r, 20));
    }
    std::string new_completion_id(std::uint64_t r) const override {
        return fmt::format("msg_01{}", base62(r * 0x9e3779b97f4a7c15ULL, 22));
    }

    ParseResult parse_chat(std::string_view body) const override {
        return read_json_request(
            body, [this](const auto& o) { return read_chat(o); },
            [this](const std::string& error) { return invalid_json(error); });
    }

    // One reader of the request's object, whichever JSON reader read the body.
    template <class Object>
    ParseResult read_chat(const Object& o) const {
        ChatRequest r;
        auto model = string_or_empty(find(o, "model"));
        if (model.empty()) return required("model");
        r.model = std::string(model);

        const auto* max_tokens = find(o, "max_tokens");
        if (max_tokens == nullptr) return required("max_tokens");
        if (!max_tokens->is_int64() && !max_tokens->is_uint64()) {
            return ApiError{400, "invalid_request_error", "", "",
                            "max_tokens: Input should be a valid integer"};
        }
        std::int64_t mt = max_tokens->is_int64() ? max_tokens->get_int64() : INT64_MAX;
        if (mt < 1) {
            return ApiError{400, "invalid_request_error", "", "",
                            "max_tokens: Input should be greater than or equal to 1"};
        }
        r.max_tokens = mt;

        const auto* messages = find(o, "messages");
        if (messages == nullptr) return required("messages");
        if (!messages->is_array()) {
            return ApiError{400, "invalid_request_error", "", "",
                            "messages: Input should be a valid list"};
        }
        if (messages->get_array().empty()) {
            return ApiError{400, "invalid_request_error", "", "",
                            "messages: at least one message is required"};
        }

        DigestBuilder digest;
        if (const auto* system = find(o, "system"); system != nullptr) {
            digest.begin_message("system");
            if (system->is_string()) {
                digest.add_text(system->get_string());
            } else if (system->is_array()) {
                for (const auto& block : system->get_array()) {
                    if (block.is_object())
                        digest.add_text(string_or_empty(find(block.get_object(), "text")));
                }
            }
        }
        std::size_t index = 0;
        for (const auto& m : messages->get_array()) {
            if (!m.is_object()) {
                return ApiError{
                    400, "invalid_request_error", "", "",
                    fmt::format("messages.{}: Input should be a valid dictionary", index)};
            }
            const auto& mo = m.get_object();
            auto role = string_or_empty(find(mo, "role"));
            if (role != "user" && role != "assistant") {
                return ApiError{
                    400, "invalid_request_error", "", "",
                    fmt::format("messages.{}.role: Input should be 'user' or 'assistant'", index)};
            }
            digest.begin_message(role);
            const auto* content = find(mo, "content");
            if (content != nullptr && content->is_string()) {
                digest.add_text(content->get_string());
            } else if (content != nullptr && content->is_array()) {
                for (const auto& block : content->get_array()) {
                    if (!block.is_object()) continue;
                    const auto& bo = block.get_object();
                    auto type = string_or_empty(find(bo, "type"));
                    if (type == "text") {
                        digest.add_text(string_or_empty(find(bo, "text")));
                    } else if (type == "image") {
                        const auto* source = find(bo, "source");
                        if (source == nullptr || !source->is_object()) {
                            return ApiError{
                                400, "invalid_request_error", "", "",
                                fmt::format("messages.{}.content.image.source: Field required",
                                            index)};
                        }
                        const auto& so = source->get_object();
                        auto data = string_or_empty(find(so, "data"));
                        if (data.empty()) data = string_or_empty(find(so, "url"));
                        if (data.empty()) {
                            return ApiError{
                                400, "invalid_request_error", "", "",
                                fmt::format("messages.{}.content.image.source: Field required",
                                            index)};
                        }
                        // Digest the data URL form so that an OpenAI image_url with a data URL
                        // and an Anthropic base64 source of the same bytes digest alike.
                        auto media = string_or_empty(find(so, "media_type"));
                        if (string_or_empty(find(so, "type")) == "base64") {
                            digest.add_image(fmt::format("data:{};base64,{}", media, data));
                        } else {
                            digest.add_image(data);
                        }
                    }
                }
            }
            ++index;
        }
        digest.finish(r);

        if (const auto* stream = find(o, "stream"); stream != nullptr && stream->is_bool()) {
            r.stream = stream->get_bool();
        }
        if (const auto* tools = find(o, "tools"); tools != nullptr && tools->is_array()) {
            for (const auto& t : tools->get_array()) {
                if (!t.is_object()) continue;
                ToolSpec spec;
                spec.name = std::string(string_or_empty(find(t.get_object(), "name")));
                read_schema_properties(find(t.get_object(), "input_schema"), spec);
                r.tools.push_back(std::move(spec));
            }
        }
        if (const auto* tc = find(o, "tool_choice"); tc != nullptr && tc->is_object()) {
            auto type = string_or_empty(find(tc->get_object(), "type"));
            if (type == "any")
                r.tool_choice = ToolChoice::required;
            else if (type == "none")
                r.tool_choice = ToolChoice::none;
            else if (type == "tool") {
                r.tool_choice = ToolChoice::named;
                r.tool_choice_name = std::string(string_or_empty(find(tc->get_object(), "name")));
            }
        }
        return r;
    }

    std::string completion_body(const Completion& c) const override {
        std::string out = "{\"id\":";
        append_json_string(out, c.id);
        out += ",\"type\":\"message\",\"role\":\"assistant\",\"model\":";
        append_json_string(out, c.model);
        out += ",\"content\":[";
        if (c.tool_call) {
            out += "{\"type\":\"tool_use\",\"id\":";
            append_json_string(out, tool_use_id(*c.tool_call));
            out += ",\"name\":";
            append_json_string(out, c.tool_call->name);
            out += ",\"input\":";
            out += c.tool_call->arguments_json;
            out += "}";
        } else {
            out += "{\"type\":\"text\",\"text\":";
            append_json_string(out, c.text());
            out += "}";
        }
        out += "],\"stop_reason\":\"";
        out += stop_reason(c.finish);
        out += fmt::format(
            "\",\"stop_sequence\":null,\"usage\":{{\"input_tokens\":{},\"output_tokens\":{},"
            "\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"service_tier\":"
            "\"standard\"}}}}",
            c.prompt_tokens, c.completion_tokens);
        return out;
    }

    // A text token's event: the same for every stream.
    static TokenFrameForm text_delta_form() {
        return {
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
            "\"delta\":{\"type\":\"text_delta\",\"text\":",
            "}}\n\n"};
    }

    std::optional<TokenFrameForm> token_frame_form(const Completion& c,
                                                   const ChatRequest&) const override {
        if (c.tool_call) return std::nullopt;
        return text_delta_form();
    }

    std::vector<StreamFrame> stream_frames(const Completion& c, const ChatRequest&) const override {
        std::vector<StreamFrame> frames;
        frames.reserve(c.tokens.size() + 6);
        std::string start = "{\"type\":\"message_start\",\"message\":{\"id\":";
        append_json_string(start, c.id);
        start += ",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":";
        append_json_string(start, c.model);
        start += fmt::format(
            ",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{{\"input_tokens\":{},"
            "\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":1}}}"
            "}}}",
            c.prompt_tokens);
        frames.push_back({StreamFrame::Kind::prelude, event("message_start", start), 0});
        if (c.tool_call) {
            std::string block =
                "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_"
                "use\",\"id\":";
            append_json_string(block, tool_use_id(*c.tool_call));
            block += ",\"name\":";
            append_json_string(block, c.tool_call->name);
            block += ",\"input\":{}}}";
            frames.push_back({StreamFrame::Kind::prelude, event("content_block_start", block), 0});
            frames.push_back(
                {StreamFrame::Kind::prelude, event("ping", "{\"type\": \"ping\"}"), 0});
            const std::string& args = c.tool_call->arguments_json;
            std::size_t piece = std::max<std::size_t>(1, (args.size() + 2) / 3);
            for (std::size_t at = 0; at < args.size(); at += piece) {
                std::string delta =
                    "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_"
                    "json_delta\",\"partial_json\":";
                append_json_string(delta, args.substr(at, piece));
                delta += "}}";
                frames.push_back(
                    {StreamFrame::Kind::token, event("content_block_delta", delta), 1});
            }
        } else {
            frames.push_back({StreamFrame::Kind::prelude,
                              event("content_block_start",
                                    "{\"type\":\"content_block_start\",\"index\":0,\"content_"
                                    "block\":{\"type\":\"text\",\"text\":\"\"}}"),
                              0});
            frames.push_back(
                {StreamFrame::Kind::prelude, event("ping", "{\"type\": \"ping\"}"), 0});
            const TokenFrameForm form = text_delta_form();
            for (const auto& token : c.tokens) {
                std::string bytes;
                form.append(bytes, token);
                frames.push_back({StreamFrame::Kind::token, std::move(bytes), 1});
            }
        }
        frames.push_back(
            {StreamFrame::Kind::epilogue,
             event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}"), 0});
        frames.push_back(
            {StreamFrame::Kind::epilogue,
             event("message_delta",
                   fmt::format("{{\"type\":\"message_delta\",\"delta\":{{\"stop_reason\":\"{}\","
                               "\"stop_sequence\":null}},\"usage\":{{\"output_tokens\":{}}}}}",
                               stop_reason(c.finish), c.completion_tokens)),
             0});
        frames.push_back(
            {StreamFrame::Kind::epilogue, event("message_stop", "{\"type\":\"message_stop\"}"), 0});
        return frames;
    }

    std::string error_body(const ApiError& e, std::string_view request_id) const override {
        std::string out = "{\"type\":\"error\",\"error\":";
        append_error_object(out, e);
        out += ",\"request_id\":";
        out += nullable_string(request_id);
        out += "}";
        return out;
    }

    std::string stream_error_frame(const ApiError& e) const override {
        std::string data = "{\"type\":\"error\",\"error\":";
        append_error_object(data, e);
        data += "}";
        return event("error", data);
    }

    std::string models_body(const std::vector<ModelInfo>& models) const override {
        std::string out = "{\"data\":[";
        for (std::size_t i = 0; i < models.size(); ++i) {
            if (i > 0) out += ',';
            out += model_body(models[i]);
        }
        out += "],\"has_more\":false,\"first_id\":";
        out += models.empty() ? "null" : json_string(models.front().id);
        out += ",\"last_id\":";
        out += models.empty() ? "null" : json_string(models.back().id);
        out += "}";
        return out;
    }

    std::string model_body(const ModelInfo& m) const override {
        std::string out = "{\"type\":\"model\",\"id\":";
        append_json_string(out, m.id);
        out += ",\"display_name\":";
        append_json_string(out, m.id);
        out += ",\"created_at\":\"2025-05-14T00:00:00Z\"}";
        return out;
    }

    ApiError status_error(int status, std::string_view) const override {
        std::string_view type = error_type_for(status);
        std::string message;
        switch (status) {
            case 401:
                message = "invalid x-api-key";
                break;
            case 402:
                message = "Your credit balance is too low to access the Anthropic API.";
                break;
            case 403:
                message = "Your API key does not have permission to use the specified resource.";
                break;
            case 429:
                message =
                    "Number of requests has exceeded your rate limit. Please try again later.";
                break;
            case 500:
                message = "Internal server error";
                break;
            case 504:
                message = "Request timed out";
                break;
            case 503:
            case 529:
                message = "Overloaded";
                break;
            default:
                message = status >= 500 ? "Internal server error" : "Invalid request";
        }
        if (status == 503) type = "overloaded_error";
        return {status, std::string(type), "", "", message};
    }

    ApiError invalid_json(std::string_view detail) const override {
        return {400, "invalid_request_error", "", "",
                fmt::format(
                    "There was an issue with your request body: the body is not valid JSON ({})",
                    detail)};
    }
    ApiError not_found(std::string_view, std::string_view) const override {
        return {404, "not_found_error", "", "", "Not found"};
    }
    ApiError method_not_allowed(std::string_view method, std::string_view) const override {
        return {405, "invalid_request_error", "", "", fmt::format("Method {} not allowed", method)};
    }
    ApiError unknown_model(std::string_view model) const override {
        return {404, "not_found_error", "", "", fmt::format("model: {}", model)};
    }
    ApiError body_too_large(std::size_t limit) const override {
        return {413, "request_too_large", "", "",
                fmt::format("Request exceeds the maximum allowed number of bytes ({}).", limit)};
    }
    ApiError feature_unsupported(std::string_view feature, std::string_view model) const override {
        if (feature == "vision") {
            return {400, "invalid_request_error", "", "",
                    fmt::format("messages.0.content: Image input is not supported by the model {}.",
                                model)};
        }
        return {400, "invalid_request_error", "", "",
                fmt::format("{}: not supported by the model {}.", feature, model)};
    }
    ApiError rate_limited(std::string_view, bool tokens, long, long, double) const override {
        return {429, "rate_limit_error", "", "",
                tokens ? "This request would exceed your organization's rate limit of input tokens "
                         "per minute. Please try again later."
                       : "Number of requests has exceeded your per-minute rate limit. Please try "
                         "again later."};
    }

    Headers rate_limit_headers(const std::vector<RateLimitWindow>& windows) const override {
        Headers h;
        for (const auto& w : windows) {
            h.emplace_back(fmt::format("anthropic-ratelimit-{}-limit", w.what),
                           std::to_string(w.limit));
            h.emplace_back(fmt::format("anthropic-ratelimit-{}-remaining", w.what),
                           std::to_string(w.remaining));
            h.emplace_back(fmt::format("anthropic-ratelimit-{}-reset", w.what),
                           rfc3339(w.reset_unix));
        }
        return h;
    }
    int overloaded_status() const override { return 529; }
    std::string_view models_owner() const override { return "anthropic"; }

    // ── client half: as the official Anthropic SDKs send and read messages ──
    ClientRequest chat_head(std::string_view api_key) const {
        ClientRequest r;
        r.path = std::string(chat_path());
        r.headers.emplace_back("content-type", "application/json");
        r.headers.emplace_back("anthropic-version", "2023-06-01");
        if (!api_key.empty()) r.headers.emplace_back("x-api-key", std::string(api_key));
        return r;
    }

    std::optional<ClientRequest> typed_head(std::string_view api_key) const override {
        return chat_head(api_key);
    }
    std::optional<ChatRequest> typed_request(const OutgoingChat& chat) const override {
        return typed_chat_request(chat);
    }

    ClientRequest render_chat(const OutgoingChat& chat, std::string_view api_key) const override {
        ClientRequest r = chat_head(api_key);
        std::string user = json_string(chat.prompt);
        if (!chat.image_url.empty()) {
            user = fmt::format(
                R"([{{"type":"text","text":{}}},{{"type":"image","source":{{"type":"url","url":{}}}}}])",
                json_string(chat.prompt), json_string(chat.image_url));
        }
        r.body = fmt::format(
            R"({{"model":{},"max_tokens":{},"system":{},"messages":[{{"role":"user","content":{}}}])",
            json_string(chat.model), chat.max_tokens, json_string(chat.system), user);
        if (chat.stream) r.body += R"(,"stream":true)";
        if (chat.tool) {
            r.body += fmt::format(
                R"(,"tool_choice":{{"type":"any"}},"tools":[{{"name":{},"input_schema":{}}}])",
                json_string(chat.tool->name), schema_json(*chat.tool));
        }
        r.body += "}";
        return r;
    }

    ReadAnswer read_answer(bool stream, std::string_view body, bool body_complete) const override {
        if (!stream) {
            return read_json_answer(body, body_complete, [](const auto& o, ReadAnswer& out) {
                const auto& block = as_object(at(as_array(at(o, "content")), 0));
                out.text = as_string(at(block, "type")) == "tool_use"
                               ? serialized(at(block, "input"))
                               : json_text(at(block, "text"));
                out.finish_reason = std::string(string_or_empty(find(o, "stop_reason")));
            });
        }
        // Named events, ending with message_stop; an `error` event breaks the stream.
        return read_sse_answer(
            body, body_complete, "", [](std::string_view name, const auto& o, ReadAnswer& out) {
                if (name == "error") return SseStep::broken;
                if (name == "message_stop") return SseStep::finished;
                if (name == "content_block_delta") {
                    const auto& delta = as_object(at(o, "delta"));
                    if (const auto* t = find(delta, "text")) out.text += json_text(*t);
                    if (const auto* t = find(delta, "partial_json")) out.text += json_text(*t);
                }
                if (name == "message_delta") {
                    const auto& delta = as_object(at(o, "delta"));
                    out.finish_reason = std::string(string_or_empty(find(delta, "stop_reason")));
                }
                return SseStep::more;
            });
    }

    ReadError read_error(int status, std::string_view body) const override {
        ReadError e{status, "", "", class_by_status(status)};
        read_error_fields(body, e.type, e.code);
        return classified(std::move(e));
    }

    std::optional<ReadError> error_read(const ApiError& e) const override {
        // The body says the type as it is (ASCII reads back as itself), and no code.
        if (!ascii(e.type)) return std::nullopt;
        return classified({e.status, std::string(shown_type(e)), "", class_by_status(e.status)});
    }

private:
    static std::string_view shown_type(const ApiError& e) {
        return e.type.empty() ? std::string_view("api_error") : std::string_view(e.type);
    }

    // An unknown model is 404 not_found_error, an unsupported input 400 invalid_request_error.
    static ReadError classified(ReadError e) {
        if ((e.status == 400 && e.type == "invalid_request_error") ||
            (e.status == 404 && e.type == "not_found_error"))
            e.klass = ErrorClass::unsupported;
        return e;
    }

    ApiError required(std::string_view field) const {
        return {400, "invalid_request_error", "", "", fmt::format("{}: Field required", field)};
    }

    static void append_error_object(std::string& out, const ApiError& e) {
        out += "{\"type\":";
        append_json_string(out, shown_type(e));
        out += ",\"message\":";
        append_json_string(out, e.message);
        out += "}";
    }

    static std::string tool_use_id(const ToolCall& call) {
        return "toolu_01" + call.id.substr(call.id.find('_') + 1);
    }

    static std::string base62(std::uint64_t x, int length) {
        static constexpr std::string_view kAlphabet =
            "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        std::string out;
        std::uint64_t state = x | 1;
        for (int i = 0; i < length; ++i) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            out += kAlphabet[(state >> 33) % kAlphabet.size()];
        }
        return out;
    }
};

}  // namespace

std::unique_ptr<Dialect> make_anthropic_messages(Vendor /*vendor*/) {
    return std::make_unique<AnthropicDialect>();
}

}  // namespace brownout::wire
