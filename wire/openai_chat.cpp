// The OpenAI Chat Completions dialect, also spoken by DeepSeek (with its own error wording).
// Shapes follow ../shared/reference/wire-formats.md §1 and §4.

#include <fmt/format.h>

#include <cstring>
#include <span>

#include "core/duration.h"
#include "core/text.h"
#include "wire/common.h"
#include "wire/dialect.h"

namespace brownout::wire {
namespace {

using namespace detail;
using namespace std::literals;
namespace json = boost::json;

std::string_view finish_reason(FinishReason f) {
    switch (f) {
        case FinishReason::stop:
            return "stop";
        case FinishReason::length:
            return "length";
        case FinishReason::tool_calls:
            return "tool_calls";
        case FinishReason::insufficient_system_resource:
            return "insufficient_system_resource";
    }
    return "stop";
}

// A choice's finish_reason, when it has one (stream chunks carry it only at the end).
template <class Object>
void read_finish_reason(const Object& choice, ReadAnswer& out) {
    if (const auto* f = find(choice, "finish_reason"); f != nullptr && f->is_string())
        out.finish_reason = std::string(as_string(*f));
}

// Each vendor's errors as it words them (wire-formats.md §1, §4): data, not code. A message may
// name the request's {model}, the {feature} it lacks, and for a rate limit {what} ("requests" or
// "tokens"), {unit} ("RPM" or "TPM"), {limit}, {used} and {retry} (seconds).
struct Wording {
    int status;
    std::string_view type;
    std::string_view code;
    std::string_view message;
    std::string_view param = "";
};
constexpr Wording kOtherClientError = {0, "invalid_request_error", "", "Bad request."};
constexpr Wording kOtherServerError = {
    0, "server_error", "",
    "The server had an error while processing your request. Sorry about that!"};
constexpr Wording kOpenAiErrors[] = {
    {400, "invalid_request_error", "", "Bad request."},
    {500, "server_error", "",
     "The server had an error while processing your request. Sorry about that!"},
    {401, "invalid_request_error", "invalid_api_key",
     "Incorrect API key provided: sk-brown***4f2a. You can find your API key at "
     "https://platform.openai.com/account/api-keys."},
    {402, "invalid_request_error", "invalid_request_error", "Insufficient Balance"},
    {403, "invalid_request_error", "unsupported_country_region_territory",
     "Country, region, or territory not supported"},
    {408, "server_error", "", "Request timed out."},
    {422, "invalid_request_error", "", "Invalid Parameters"},
    {429, "requests", "rate_limit_exceeded",
     "Rate limit reached for requests. Please try again in 1s. Visit "
     "https://platform.openai.com/account/rate-limits to learn more."},
    {503, "server_error", "",
     "That model is currently overloaded with other requests. You can retry your request, or "
     "contact us through our help center at help.openai.com if the error persists."},
    {504, "server_error", "", "Gateway timeout."},
};
constexpr Wording kDeepSeekErrors[] = {
    {400, "invalid_request_error", "invalid_request_error", "Invalid Format"},
    {500, "server_error", "", "Server Error"},
    {401, "authentication_error", "invalid_request_error",
     "Authentication Fails, Your api key: ****4f2a is invalid"},
    {402, "unknown_error", "invalid_request_error", "Insufficient Balance"},
    {403, "invalid_request_error", "unsupported_country_region_territory",
     "Country, region, or territory not supported"},
    {408, "server_error", "", "Request timed out."},
    {422, "invalid_request_error", "invalid_request_error", "Invalid Parameters"},
    {429, "rate_limit_error", "rate_limit_exceeded", "Rate Limit Reached"},
    {503, "server_error", "",
     "The server is overloaded due to high traffic. Please retry your request after a brief "
     "wait."},
    {504, "server_error", "", "Gateway timeout."},
};

// What a vendor says beside its status table. A rate limit without a status of its own (0) is
// the status table's 429.
struct Voice {
    std::span<const Wording> by_status;
    Wording invalid_json;
    Wording unknown_model;
    Wording no_vision, no_tools, no_stream, no_feature;
    Wording rate_limited;
};
constexpr Voice kOpenAiVoice = {
    kOpenAiErrors,
    {400, "invalid_request_error", "",
     "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
     "your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was "
     "not valid JSON. If you have trouble figuring out how to fix this, please contact us through "
     "our help center at help.openai.com.)"},
    {404, "invalid_request_error", "model_not_found",
     "The model `{model}` does not exist or you do not have access to it."},
    {400, "invalid_request_error", "",
     "Invalid content type. image_url is only supported by certain models. The model `{model}` "
     "does not support image inputs.",
     "messages"},
    {400, "invalid_request_error", "", "tools is not supported with the model `{model}`.", "tools"},
    {400, "invalid_request_error", "unsupported_value",
     "Unsupported value: 'stream' does not support true with the model `{model}`.", "stream"},
    {400, "invalid_request_error", "", "{feature} is not supported."},
    {429, "{what}", "rate_limit_exceeded",
     "Rate limit reached for {model} in organization org-brownout on {what} per min ({unit}): "
     "Limit {limit}, Used {used}, Requested 1. Please try again in {retry:.3g}s. Visit "
     "https://platform.openai.com/account/rate-limits to learn more."},
};
// DeepSeek's API is OpenAI's shape with its own words; an image reaches a serde parser that does
// not know the content part.
constexpr Voice kDeepSeekVoice = {
    kDeepSeekErrors,
    {400, "invalid_request_error", "invalid_request_error",
     "Failed to parse the request body as JSON"},
    {400, "invalid_request_error", "invalid_request_error", "Model Not Exist"},
    {400, "invalid_request_error", "invalid_request_error",
     "Failed to deserialize the JSON body into the target type: messages[0]: unknown variant "
     "`image_url`, expected `text`"},
    {400, "invalid_request_error", "", "tools is not supported with the model `{model}`.", "tools"},
    {400, "invalid_request_error", "unsupported_value",
     "Unsupported value: 'stream' does not support true with the model `{model}`.", "stream"},
    {400, "invalid_request_error", "", "{feature} is not supported."},
    {0, "", "", ""},
};

// What fills a wording's placeholders.
struct Filling {
    std::string_view model, feature, what, unit;
    long limit = 0, used = 0;
    double retry = 0;
};
ApiError say(const Wording& w, const Filling& f = {}) {
    auto fill = [&](std::string_view text) {
        // Most wordings name nothing: as they are, without a pass through the formatter (which
        // gives such text back unchanged; a lone brace would be its error, and none has one).
        if (text.find('{') == std::string_view::npos && text.find('}') == std::string_view::npos)
            return std::string(text);
        return fmt::format(fmt::runtime(text), fmt::arg("model", f.model),
                           fmt::arg("feature", f.feature), fmt::arg("what", f.what),
                           fmt::arg("unit", f.unit), fmt::arg("limit", f.limit),
                           fmt::arg("used", f.used), fmt::arg("retry", f.retry));
    };
    return {w.status, fill(w.type), std::string(w.code), std::string(w.param), fill(w.message)};
}

// ChatRequest::endpoint: 0 chat completions, 1 POST /v1/responses (openai_responses.cpp).
constexpr int kResponses = 1;

class OpenAiDialect final : public Dialect {
public:
    // OpenAI serves the Responses API beside chat completions; DeepSeek does not (404).
    OpenAiDialect(Vendor vendor, bool with_responses)
        : vendor_(vendor),
          voice_(vendor == Vendor::deepseek ? kDeepSeekVoice : kOpenAiVoice),
          responses_(with_responses && vendor == Vendor::openai ? make_openai_responses(vendor)
                                                                : nullptr) {}

    Route route(std::string_view method, std::string_view target) const override {
        std::string_view path = strip_query(target);
        if (responses_ && (path == "/v1/responses" || path == "/responses")) {
            Route r{method == "POST" ? Route::Target::chat : Route::Target::method_not_allowed, ""};
            r.endpoint = kResponses;
            return r;
        }
        return Dialect::route(method, target);
    }

    ParseResult parse_routed(const Route& route, std::string_view body) const override {
        if (route.endpoint != kResponses) return parse_chat(body);
        auto parsed = responses_->parse_chat(body);
        if (auto* r = std::get_if<ChatRequest>(&parsed)) r->endpoint = kResponses;
        return parsed;
    }

    std::string stream_error_frame_for(const ApiError& e,
                                       const ChatRequest& request) const override {
        return request.endpoint == kResponses ? responses_->stream_error_frame(e)
                                              : stream_error_frame(e);
    }

    DialectKind kind() const override { return DialectKind::openai; }
    Vendor vendor() const override { return vendor_; }
    std::string_view chat_path() const override { return "/v1/chat/completions"; }
    std::string_view request_id_header() const override { return "x-request-id"; }

    std::string new_request_id(std::uint64_t r) const override {
        std::string id(36, '\0');  // req_ and 32 hex digits, written in place
        std::memcpy(id.data(), "req_", 4);
        write_hex(write_hex(id.data() + 4, r), r * 0x9e3779b97f4a7c15ULL);
        return id;
    }
    std::string new_completion_id(std::uint64_t r) const override {
        if (vendor_ == Vendor::deepseek) {  // a UUID's form: 8-4-4-4-12, written in place
            std::string id(36, '-');
            write_hex(id.data(), r >> 32, 8);
            write_hex(id.data() + 9, r >> 16, 4);
            write_hex(id.data() + 14, r, 4);
            write_hex(id.data() + 19, r >> 48, 4);
            write_hex(id.data() + 24, r * 31, 12);
            return id;
        }
        std::string id(38, '\0');  // chatcmpl- and 29 hex digits
        std::memcpy(id.data(), "chatcmpl-", 9);
        write_hex(write_hex(id.data() + 9, r, 16), r * 0x2545f4914f6cdd1dULL, 13);
        return id;
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
        const auto* model = find(o, "model");
        if (model == nullptr || !model->is_string() || model->get_string().empty()) {
            return ApiError{400, "invalid_request_error", "", "",
                            "you must provide a model parameter"};
        }
        r.model = std::string(model->get_string());

        const auto* messages = find(o, "messages");
        if (messages == nullptr) {
            return ApiError{400, "invalid_request_error", "missing_required_parameter", "messages",
                            "Missing required parameter: 'messages'."};
        }
        if (!messages->is_array()) {
            return ApiError{
                400, "invalid_request_error", "invalid_type", "messages",
                "Invalid type for 'messages': expected an array, but got another type instead."};
        }
        if (messages->get_array().empty()) {
            return ApiError{400, "invalid_request_error", "empty_array", "messages",
                            "Invalid 'messages': empty array. Expected an array with minimum "
                            "length 1, but got an empty array instead."};
        }
        DigestBuilder digest;
        std::size_t index = 0;
        for (const auto& m : messages->get_array()) {
            if (!m.is_object()) {
                return ApiError{400, "invalid_request_error", "invalid_type",
                                fmt::format("messages[{}]", index),
                                fmt::format("Invalid type for 'messages[{}]': expected an object, "
                                            "but got another type instead.",
                                            index)};
            }
            const auto& mo = m.get_object();
            auto role = string_or_empty(find(mo, "role"));
            if (role.empty()) {
                return ApiError{
                    400, "invalid_request_error", "missing_required_parameter",
                    fmt::format("messages[{}].role", index),
                    fmt::format("Missing required parameter: 'messages[{}].role'.", index)};
            }
            digest.begin_message(role);
            const auto* content = find(mo, "content");
            if (content != nullptr && content->is_string()) {
                digest.add_text(content->get_string());
            } else if (content != nullptr && content->is_array()) {
                std::size_t part_index = 0;
                for (const auto& part : content->get_array()) {
                    if (!part.is_object()) continue;
                    const auto& po = part.get_object();
                    auto type = string_or_empty(find(po, "type"));
                    if (type == "text") {
                        digest.add_text(string_or_empty(find(po, "text")));
                    } else if (type == "image_url") {
                        const auto* image = find(po, "image_url");
                        std::string_view url;
                        if (image != nullptr && image->is_object())
                            url = string_or_empty(find(image->get_object(), "url"));
                        if (url.empty()) {
                            return ApiError{400, "invalid_request_error",
                                            "missing_required_parameter",
                                            fmt::format("messages[{}].content[{}].image_url.url",
                                                        index, part_index),
                                            fmt::format("Missing required parameter: "
                                                        "'messages[{}].content[{}].image_url.url'.",
                                                        index, part_index)};
                        }
                        digest.add_image(url);
                    }
                    ++part_index;
                }
            }
            ++index;
        }
        digest.finish(r);

        if (const auto* stream = find(o, "stream"); stream != nullptr && stream->is_bool()) {
            r.stream = stream->get_bool();
        }
        if (const auto* so = find(o, "stream_options"); so != nullptr && so->is_object()) {
            if (!r.stream) {
                return ApiError{
                    400, "invalid_request_error", "", "stream_options",
                    "The 'stream_options' parameter is only allowed when 'stream' is enabled."};
            }
            if (const auto* iu = find(so->get_object(), "include_usage");
                iu != nullptr && iu->is_bool()) {
                r.include_usage = iu->get_bool();
            }
        }
        for (std::string_view key : {"max_completion_tokens", "max_tokens"}) {
            const auto* v = find(o, key);
            if (v == nullptr || v->is_null()) continue;
            if (!v->is_int64() && !v->is_uint64()) {
                return ApiError{
                    400, "invalid_request_error", "invalid_type", std::string(key),
                    fmt::format(
                        "Invalid type for '{}': expected an integer, but got another type instead.",
                        key)};
            }
            std::int64_t value = v->is_int64() ? v->get_int64()
                                               : static_cast<std::int64_t>(std::min<std::uint64_t>(
                                                     v->get_uint64(), INT64_MAX));
            if (value < 1) {
                return ApiError{400, "invalid_request_error", "integer_below_min_value",
                                std::string(key),
                                fmt::format("Invalid '{}': integer below minimum value. Expected a "
                                            "value >= 1, but got {} instead.",
                                            key, value)};
            }
            r.max_tokens = value;
            break;
        }
        read_function_tools(find(o, "tools"), r.tools);
        if (const auto* tc = find(o, "tool_choice"); tc != nullptr) {
            auto s = string_or_empty(tc);
            if (s == "none")
                r.tool_choice = ToolChoice::none;
            else if (s == "required")
                r.tool_choice = ToolChoice::required;
            else if (tc->is_object()) {
                const auto* fn = find(tc->get_object(), "function");
                if (fn != nullptr && fn->is_object()) {
                    r.tool_choice = ToolChoice::named;
                    r.tool_choice_name =
                        std::string(string_or_empty(find(fn->get_object(), "name")));
                }
            }
        }
        return r;
    }

    std::string completion_body(const Completion& c) const override {
        if (c.endpoint == kResponses) return responses_->completion_body(c);
        std::string out;
        out.reserve(512 + c.tokens.size() * 10);
        out += "{\"id\":"sv;
        append_json_string(out, c.id);
        out += ",\"object\":\"chat.completion\",\"created\":"sv;
        append_decimal(out, c.created);
        out += ",\"model\":"sv;
        append_json_string(out, c.model);
        out += ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"sv;
        if (c.tool_call) {
            out += "null,\"tool_calls\":["sv;
            append_tool_call(out, *c.tool_call, true);
            out += "]"sv;
        } else {
            append_json_string(out, c.text());
        }
        out += ",\"refusal\":null,\"annotations\":[]},\"logprobs\":null,\"finish_reason\":\""sv;
        out += finish_reason(c.finish);
        out += "\"}],\"usage\":"sv;
        append_usage(out, c);
        out += ",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_b0a7c3d1e2\"}"sv;
        return out;
    }

    std::optional<ReadAnswer> completion_read(const Completion& c) const override {
        // Every string the body would carry is ASCII, so it reads back as itself (ascii()).
        if (c.endpoint == kResponses || !plain_head(c)) return std::nullopt;
        if (c.tool_call ? !plain_call_head(*c.tool_call) || !ascii(c.tool_call->arguments_json)
                        : !c.tokens.all_ascii())
            return std::nullopt;
        ReadAnswer out;
        out.text = c.tool_call ? c.tool_call->arguments_json : c.text();
        out.finish_reason = std::string(finish_reason(c.finish));
        return out;
    }

    std::vector<StreamFrame> stream_frames(const Completion& c,
                                           const ChatRequest& request) const override {
        if (request.endpoint == kResponses) return responses_->stream_frames(c, request);
        return frames_of(c, request, false);
    }

    std::optional<TokenFrameForm> token_frame_form(const Completion& c,
                                                   const ChatRequest& request) const override {
        if (request.endpoint == kResponses || c.tool_call) return std::nullopt;
        return text_form(chunk_head(c), usage_null_of(request));
    }

    std::optional<std::vector<StreamFrame>> stream_reads(
        const Completion& c, const ChatRequest& request) const override {
        if (request.endpoint == kResponses) return std::nullopt;
        auto frames = frames_of(c, request, true);
        for (const auto& f : frames)
            if (!f.read) return std::nullopt;
        return frames;
    }

    // frames_of's reads, said without the frames: a prelude, a frame a token (or a piece of a
    // tool call's arguments), the finish, the usage when asked, [DONE]; all of it ASCII, as
    // frames_of asks of each frame's read.
    std::optional<StreamOutline> stream_outline(const Completion& c,
                                                const ChatRequest& request) const override {
        if (request.endpoint == kResponses || !plain_head(c)) return std::nullopt;
        StreamOutline out;
        out.prelude = 1;
        if (c.tool_call) {
            const std::string& args = c.tool_call->arguments_json;
            if (!plain_call_head(*c.tool_call) || !ascii(args)) return std::nullopt;
            const std::size_t piece = std::max<std::size_t>(1, (args.size() + 2) / 3);
            out.token_frames = static_cast<int>((args.size() + piece - 1) / piece);
            out.read.text = args;
        } else {
            if (!c.tokens.all_ascii()) return std::nullopt;  // each token's, as they are its pieces
            out.token_frames = static_cast<int>(c.tokens.size());
            out.read.text = c.text();
        }
        out.epilogue = request.include_usage ? 3 : 2;
        out.read.finish_reason = finish_reason(c.finish);
        return out;
    }

    std::string error_body(const ApiError& e, std::string_view) const override {
        std::string out = "{\"error\":";
        append_error_object(out, e);
        out += "}"sv;
        return out;
    }

    std::string stream_error_frame(const ApiError& e) const override {
        return "data: " + error_body(e, "") + "\n\n";
    }

    std::string models_body(const std::vector<ModelInfo>& models) const override {
        std::string out = "{\"object\":\"list\",\"data\":[";
        for (std::size_t i = 0; i < models.size(); ++i) {
            if (i > 0) out += ',';
            out += model_body(models[i]);
        }
        out += "]}"sv;
        return out;
    }

    std::string model_body(const ModelInfo& m) const override {
        std::string out = "{\"id\":";
        append_json_string(out, m.id);
        out += ",\"object\":\"model\""sv;
        if (vendor_ != Vendor::deepseek) out += fmt::format(",\"created\":{}", m.created);
        out += ",\"owned_by\":"sv;
        append_json_string(out, m.owned_by);
        out += "}"sv;
        return out;
    }

    ApiError status_error(int status, std::string_view) const override {
        for (const auto& w : voice_.by_status) {
            if (w.status == status) return say(w);
        }
        ApiError other = say(status >= 500 ? kOtherServerError : kOtherClientError);
        other.status = status;
        return other;
    }

    ApiError invalid_json(std::string_view) const override { return say(voice_.invalid_json); }

    ApiError not_found(std::string_view method, std::string_view target) const override {
        return {404, "invalid_request_error", "", "",
                fmt::format("Invalid URL ({} {})", method, target)};
    }

    ApiError method_not_allowed(std::string_view method, std::string_view target) const override {
        return {405, "invalid_request_error", "", "",
                fmt::format("Invalid method for URL ({} {})", method, target)};
    }

    ApiError unknown_model(std::string_view model) const override {
        return say(voice_.unknown_model, {.model = model});
    }

    ApiError body_too_large(std::size_t limit) const override {
        return {413, "invalid_request_error", "request_too_large", "",
                fmt::format("Request too large: the body exceeds the limit of {} bytes.", limit)};
    }

    ApiError feature_unsupported(std::string_view feature, std::string_view model) const override {
        const Wording& w = feature == "vision"   ? voice_.no_vision
                           : feature == "tools"  ? voice_.no_tools
                           : feature == "stream" ? voice_.no_stream
                                                 : voice_.no_feature;
        return say(w, {.model = model, .feature = feature});
    }

    ApiError rate_limited(std::string_view model, bool tokens, long limit, long used,
                          double retry_seconds) const override {
        if (voice_.rate_limited.status == 0) return status_error(429, model);
        return say(voice_.rate_limited, {.model = model,
                                         .what = tokens ? "tokens" : "requests",
                                         .unit = tokens ? "TPM" : "RPM",
                                         .limit = limit,
                                         .used = used,
                                         .retry = retry_seconds});
    }

    const Headers& common_headers() const override {
        static const Headers headers{{"openai-version", "2020-10-01"}};
        return headers;
    }
    std::string_view processing_header() const override { return "openai-processing-ms"; }
    Headers rate_limit_headers(const std::vector<RateLimitWindow>& windows) const override {
        Headers h;
        for (const auto& w : windows) {
            h.emplace_back(fmt::format("x-ratelimit-limit-{}", w.what), std::to_string(w.limit));
            h.emplace_back(fmt::format("x-ratelimit-remaining-{}", w.what),
                           std::to_string(w.remaining));
            // Wall time, rounded to the millisecond, in Go's notation ("6m0s", "1.5s").
            h.emplace_back(fmt::format("x-ratelimit-reset-{}", w.what),
                           format_go_duration(std::chrono::round<std::chrono::milliseconds>(
                               std::chrono::duration_cast<Duration>(w.reset))));
        }
        return h;
    }
    std::string_view models_owner() const override {
        return vendor_ == Vendor::deepseek ? "deepseek" : "system";
    }

    // ── client half: as the official openai SDKs send and read chat completions ──
    ClientRequest chat_head(std::string_view api_key) const {
        ClientRequest r;
        r.path = std::string(chat_path());
        r.headers.emplace_back("content-type", "application/json");
        if (!api_key.empty())
            r.headers.emplace_back("authorization", "Bearer " + std::string(api_key));
        return r;
    }

    std::optional<ClientRequest> typed_head(std::string_view api_key) const override {
        return chat_head(api_key);
    }
    std::optional<ChatRequest> typed_request(const OutgoingChat& chat) const override {
        auto r = typed_chat_request(chat);
        if (r) r->include_usage = chat.stream;  // stream_options goes with stream
        return r;
    }

    ClientRequest render_chat(const OutgoingChat& chat, std::string_view api_key) const override {
        ClientRequest r = chat_head(api_key);
        std::string user = json_string(chat.prompt);
        if (!chat.image_url.empty()) {
            user = fmt::format(
                R"([{{"type":"text","text":{}}},{{"type":"image_url","image_url":{{"url":{}}}}}])",
                json_string(chat.prompt), json_string(chat.image_url));
        }
        r.body = fmt::format(
            R"({{"model":{},"max_tokens":{},"messages":[{{"role":"system","content":{}}},{{"role":"user","content":{}}}])",
            json_string(chat.model), chat.max_tokens, json_string(chat.system), user);
        if (chat.stream) r.body += R"(,"stream":true,"stream_options":{"include_usage":true})";
        if (chat.tool) {
            r.body += fmt::format(
                R"(,"tool_choice":"required","tools":[{{"type":"function","function":{{"name":{},"parameters":{}}}}}])",
                json_string(chat.tool->name), schema_json(*chat.tool));
        }
        r.body += "}";
        return r;
    }

    ReadAnswer read_answer(bool stream, std::string_view body, bool body_complete) const override {
        if (!stream) {
            return read_json_answer(body, body_complete, [](const auto& o, ReadAnswer& out) {
                const auto& choice = as_object(at(as_array(at(o, "choices")), 0));
                read_finish_reason(choice, out);
                const auto& msg = as_object(at(choice, "message"));
                const auto* calls = find(msg, "tool_calls");
                if (calls != nullptr && calls->is_array() && !as_array(*calls).empty()) {
                    out.text = json_text(at(at(at(as_array(*calls), 0), "function"), "arguments"));
                } else {
                    out.text = json_text(at(msg, "content"));
                }
            });
        }
        // Chunks, then data: [DONE]; an error object in-band breaks the stream.
        return read_sse_answer(
            body, body_complete, "[DONE]",
            [](std::string_view name, const auto& o, ReadAnswer& out) {
                if (name == "error" || contains(o, "error")) return SseStep::broken;
                const auto& choices = as_array(at(o, "choices"));
                if (choices.empty()) return SseStep::more;  // the usage chunk
                const auto& choice = as_object(at(choices, 0));
                read_finish_reason(choice, out);
                const auto& delta = as_object(at(choice, "delta"));
                if (const auto* c = find(delta, "content"); c != nullptr && c->is_string())
                    out.text += json_text(*c);
                if (const auto* calls = find(delta, "tool_calls");
                    calls != nullptr && calls->is_array()) {
                    const auto& fn = as_object(at(at(as_array(*calls), 0), "function"));
                    if (const auto* a = find(fn, "arguments")) out.text += json_text(*a);
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
        // The body says the type and code as they are, and ASCII reads back as itself.
        if (!ascii(e.type) || !ascii(e.code)) return std::nullopt;
        return classified(
            {e.status, std::string(shown_type(e)), e.code, class_by_status(e.status)});
    }

private:
    static std::string_view shown_type(const ApiError& e) {
        return e.type.empty() ? std::string_view("server_error") : std::string_view(e.type);
    }

    // What this provider cannot do for this request, in its own codes: OpenAI answers an unknown
    // model with 404 model_not_found and an unsupported feature with 400 invalid_request_error;
    // DeepSeek says both with 400 invalid_request_error.
    static ReadError classified(ReadError e) {
        if ((e.status == 400 && e.type == "invalid_request_error") ||
            (e.status == 404 && e.code == "model_not_found"))
            e.klass = ErrorClass::unsupported;
        return e;
    }

    static void append_error_object(std::string& out, const ApiError& e) {
        out += "{\"message\":"sv;
        append_json_string(out, e.message);
        out += ",\"type\":"sv;
        append_json_string(out, shown_type(e));
        out += ",\"param\":"sv;
        out += nullable_string(e.param);
        out += ",\"code\":"sv;
        out += nullable_string(e.code);
        out += "}"sv;
    }

    static void append_tool_call(std::string& out, const ToolCall& call, bool) {
        out += "{\"id\":"sv;
        append_json_string(out, call.id);
        out += ",\"type\":\"function\",\"function\":{\"name\":"sv;
        append_json_string(out, call.name);
        out += ",\"arguments\":"sv;
        append_json_string(out, call.arguments_json);
        out += "}}"sv;
    }

    void append_usage(std::string& out, const Completion& c) const {
        out += "{\"prompt_tokens\":"sv;
        append_decimal(out, c.prompt_tokens);
        out += ",\"completion_tokens\":"sv;
        append_decimal(out, c.completion_tokens);
        out += ",\"total_tokens\":"sv;
        append_decimal(out, c.prompt_tokens + c.completion_tokens);
        out +=
            ",\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},"
            "\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,"
            "\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}"sv;
        if (vendor_ == Vendor::deepseek) {
            out += ",\"prompt_cache_hit_tokens\":0,\"prompt_cache_miss_tokens\":"sv;
            append_decimal(out, c.prompt_tokens);
        }
        out += "}"sv;
    }

    // What a chunk before the last says of usage: null when the request asks for usage.
    static std::string_view usage_null_of(const ChatRequest& request) {
        return request.include_usage ? ",\"usage\":null"sv : ""sv;
    }

    // A text token's chunk, around the token: `head` (chunk_head) and usage_null_of's.
    static TokenFrameForm text_form(std::string_view head, std::string_view usage_null) {
        TokenFrameForm form;
        form.prefix = "data: ";
        form.prefix += head;
        form.prefix += "\"choices\":[{\"index\":0,\"delta\":{\"content\":"sv;
        form.suffix = "},\"logprobs\":null,\"finish_reason\":null}]"sv;
        form.suffix += usage_null;
        form.suffix += "}\n\n"sv;
        return form;
    }

    // Whether the id and model that head every chunk (and the whole body) are ASCII.
    static bool plain_head(const Completion& c) { return ascii(c.id) && ascii(c.model); }
    // Whether a tool call's id and name, which open its first chunk, are ASCII.
    static bool plain_call_head(const ToolCall& call) { return ascii(call.id) && ascii(call.name); }

    // A stream's frames: their bytes (stream_frames), or what the client half reads from each in
    // place of its bytes (stream_reads), where the bytes read back as what was put in: ASCII,
    // the chunk's head (model, id) included. One list of frames for both, so that the two cannot
    // differ in kind, order or tokens.
    std::vector<StreamFrame> frames_of(const Completion& c, const ChatRequest& request,
                                       bool reads) const {
        std::vector<StreamFrame> frames;
        frames.reserve(c.tokens.size() + 5);
        std::string head = reads ? std::string() : chunk_head(c);
        const std::string_view usage_null = usage_null_of(request);
        bool clean = plain_head(c);
        auto plain = [reads, clean](std::string_view text) -> std::optional<StreamFrame::Read> {
            if (!reads || !clean || !ascii(text)) return std::nullopt;
            return StreamFrame::Read{text, std::nullopt};
        };
        auto chunk = [&](std::string_view delta, std::string_view finish) {
            std::string out;
            if (reads) return out;
            out = "data: ";
            out += head;
            out += "\"choices\":[{\"index\":0,\"delta\":"sv;
            out += delta;
            out += ",\"logprobs\":null,\"finish_reason\":"sv;
            out += finish;
            out += "}]"sv;
            out += usage_null;
            out += "}\n\n"sv;
            return out;
        };
        if (c.tool_call) {
            std::string first;
            if (!reads) {
                first =
                    "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":";
                append_json_string(first, c.tool_call->id);
                first += ",\"type\":\"function\",\"function\":{\"name\":";
                append_json_string(first, c.tool_call->name);
                first += ",\"arguments\":\"\"}}]}";
            }
            frames.push_back({StreamFrame::Kind::prelude, chunk(first, "null"), 0,
                              plain_call_head(*c.tool_call) ? plain("") : std::nullopt});
            // A view: each piece's read is a view into the completion (a substr of the string
            // would be a temporary).
            const std::string_view args = c.tool_call->arguments_json;
            std::size_t piece = std::max<std::size_t>(1, (args.size() + 2) / 3);
            for (std::size_t at = 0; at < args.size(); at += piece) {
                std::string delta;
                if (!reads) {
                    delta = "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":";
                    append_json_string(delta, args.substr(at, piece));
                    delta += "}}]}";
                }
                frames.push_back({StreamFrame::Kind::token, chunk(delta, "null"), 1,
                                  plain(args.substr(at, piece))});
            }
        } else {
            frames.push_back({StreamFrame::Kind::prelude,
                              chunk("{\"role\":\"assistant\",\"content\":\"\"}", "null"), 0,
                              plain("")});
            std::optional<TokenFrameForm> form;
            if (!reads) form = text_form(head, usage_null);
            for (const auto& token : c.tokens) {
                std::string bytes;
                if (form) form->append(bytes, token);
                frames.push_back({StreamFrame::Kind::token, std::move(bytes), 1, plain(token)});
            }
        }
        const std::string_view finish = finish_reason(c.finish);  // a literal
        auto finished = plain("");
        if (finished) finished->finish_reason = finish;
        frames.push_back({StreamFrame::Kind::epilogue,
                          reads ? std::string() : chunk("{}", fmt::format("\"{}\"", finish)), 0,
                          finished});
        if (request.include_usage) {
            std::string out;
            if (!reads) {
                out = "data: " + head + "\"choices\":[],\"usage\":";
                append_usage(out, c);
                out += "}\n\n"sv;
            }
            frames.push_back({StreamFrame::Kind::epilogue, std::move(out), 0, plain("")});
        }
        frames.push_back(
            {StreamFrame::Kind::epilogue, reads ? "" : "data: [DONE]\n\n", 0, plain("")});
        return frames;
    }

    static std::string chunk_head(const Completion& c) {
        std::string out = "{\"id\":";
        append_json_string(out, c.id);
        out += ",\"object\":\"chat.completion.chunk\",\"created\":"sv;
        append_decimal(out, c.created);
        out += ",\"model\":"sv;
        append_json_string(out, c.model);
        out += ",\"system_fingerprint\":\"fp_b0a7c3d1e2\","sv;
        return out;
    }

    Vendor vendor_;
    const Voice& voice_;
    std::unique_ptr<Dialect> responses_;  // vendor openai: POST /v1/responses
};

}  // namespace

std::unique_ptr<Dialect> make_openai_chat(Vendor vendor) {
    return std::make_unique<OpenAiDialect>(vendor, true);
}

std::unique_ptr<Dialect> make_openai_chat_only(Vendor vendor) {
    return std::make_unique<OpenAiDialect>(vendor, false);
}

}  // namespace brownout::wire
