// Google's Gemini API (the Generative Language API, v1beta), as the official @google/genai SDK
// calls it: POST /v1beta/models/{model}:generateContent and :streamGenerateContent (SSE with
// ?alt=sse, which the SDK always asks for; a JSON array without), GET /v1beta/models[/{model}].
// The model and the stream flag are in the URL, the key in x-goog-api-key or ?key=. Errors are
// google.rpc statuses, pretty-printed as Google's front end prints them, with their details; a
// wait goes in the body (RetryInfo), not in a Retry-After header. Shapes:
// ../shared/reference/wire-formats.md §8.2 and the sources in README's HTTP surface section.

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "core/random.h"
#include "core/text.h"
#include "wire/common.h"
#include "wire/dialect.h"

namespace brownout::wire {
namespace {

using namespace detail;
namespace json = boost::json;

constexpr int kGenerateContent = 0;  // :generateContent
constexpr int kStreamSse = 1;        // :streamGenerateContent?alt=sse
constexpr int kStreamArray = 2;      // :streamGenerateContent, a JSON array sent as it grows

// google.rpc.Code names and the messages Google's front end gives each status when the service
// has nothing more specific (quoted from real answers; see README's sources).
struct Status {
    int http;
    std::string_view name;
    std::string_view message;
};
constexpr Status kStatuses[] = {
    {400, "INVALID_ARGUMENT", "Request contains an invalid argument."},
    {401, "UNAUTHENTICATED",
     "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
     "or other valid authentication credential."},
    {403, "PERMISSION_DENIED", "The caller does not have permission"},
    {404, "NOT_FOUND", "Requested entity was not found."},
    {408, "DEADLINE_EXCEEDED", "The request timed out. Please try again."},
    {409, "ABORTED", "The operation was aborted."},
    {429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."},
    {500, "INTERNAL",
     "An internal error has occurred. Please retry or report in "
     "https://developers.generativeai.google/guide/troubleshooting"},
    {501, "UNIMPLEMENTED", "Operation is not implemented, or supported, or enabled."},
    {503, "UNAVAILABLE", "The model is overloaded. Please try again later."},
    {504, "DEADLINE_EXCEEDED", "The request timed out. Please try again."},
};

const Status& status_of(int http) {
    for (const auto& s : kStatuses) {
        if (s.http == http) return s;
    }
    static constexpr Status kOtherClient = {0, "FAILED_PRECONDITION", "Precondition check failed."};
    static constexpr Status kOtherServer = kStatuses[7];  // INTERNAL
    return http >= 500 ? kOtherServer : kOtherClient;
}

std::string_view gemini_finish_reason(FinishReason f) {
    switch (f) {
        case FinishReason::length:
            return "MAX_TOKENS";
        case FinishReason::insufficient_system_resource:
            return "OTHER";
        default:
            return "STOP";
    }
}

// Google's front end pretty-prints JSON with two spaces and ": ".
void pretty(std::string& out, const json::value& v, int depth) {
    auto indent = [&](int d) { out.append(static_cast<std::size_t>(d) * 2, ' '); };
    if (v.is_object() && !v.get_object().empty()) {
        out += "{\n";
        bool first = true;
        for (const auto& [k, item] : v.get_object()) {
            if (!first) out += ",\n";
            first = false;
            indent(depth + 1);
            append_json_string(out, k);
            out += ": ";
            pretty(out, item, depth + 1);
        }
        out += "\n";
        indent(depth);
        out += "}";
    } else if (v.is_array() && !v.get_array().empty()) {
        out += "[\n";
        bool first = true;
        for (const auto& item : v.get_array()) {
            if (!first) out += ",\n";
            first = false;
            indent(depth + 1);
            pretty(out, item, depth + 1);
        }
        out += "\n";
        indent(depth);
        out += "]";
    } else {
        out += json::serialize(v);
    }
}
std::string pretty(std::string_view compact) {
    std::string out;
    pretty(out, json::parse(compact), 0);
    return out + "\n";
}

// "40s", "38.863719904s" (a google.protobuf.Duration in JSON).
std::string duration_text(double seconds) {
    double whole = std::round(seconds);
    if (std::abs(seconds - whole) < 1e-9) return fmt::format("{}s", static_cast<long>(whole));
    return fmt::format("{:.3f}s", seconds);
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& ch : out) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return out;
}

class GeminiDialect final : public Dialect {
public:
    DialectKind kind() const override { return DialectKind::gemini; }
    Vendor vendor() const override { return Vendor::google; }
    std::string_view chat_path() const override {
        return "/v1beta/models/gemini-2.5-flash:generateContent";
    }
    std::string_view models_path() const override { return "/v1beta/models"; }
    std::string_view request_id_header() const override { return ""; }
    std::string keepalive_frame() const override { return ""; }  // Gemini sends none
    std::string_view json_content_type() const override {
        return "application/json; charset=UTF-8";
    }
    std::string_view stream_content_type_for(const ChatRequest& request) const override {
        return request.endpoint == kStreamArray ? json_content_type()
                                                : Dialect::stream_content_type();
    }
    bool retry_hint_in_headers() const override { return false; }

    Route route(std::string_view method, std::string_view target) const override {
        std::string_view path = strip_query(target);
        for (std::string_view prefix : {"/v1beta/models", "/v1/models"}) {
            if (!path.starts_with(prefix)) continue;
            std::string_view rest = path.substr(prefix.size());
            if (rest.empty())
                return {method == "GET" ? Route::Target::models : Route::Target::method_not_allowed,
                        ""};
            if (!rest.starts_with("/")) break;
            rest.remove_prefix(1);
            auto colon = rest.rfind(':');
            if (colon == std::string_view::npos)
                return {method == "GET" ? Route::Target::model : Route::Target::method_not_allowed,
                        std::string(rest)};
            std::string_view verb = rest.substr(colon + 1);
            Route r{method == "POST" ? Route::Target::chat : Route::Target::method_not_allowed,
                    std::string(rest.substr(0, colon))};
            if (verb == "generateContent") {
                r.endpoint = kGenerateContent;
            } else if (verb == "streamGenerateContent") {
                r.endpoint = query_parameter(target, "alt") == "sse" ? kStreamSse : kStreamArray;
            } else {
                break;
            }
            return r;
        }
        return {Route::Target::not_found, ""};
    }

    std::string new_request_id(std::uint64_t r) const override { return to_hex(r); }
    std::string new_completion_id(std::uint64_t r) const override {
        // responseId: 22 characters of URL-safe base64.
        static constexpr char kAlphabet[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        std::string out;
        std::uint64_t a = r, b = r * 0x9e3779b97f4a7c15ULL;
        for (int i = 0; i < 22; ++i) {
            std::uint64_t& x = i < 11 ? a : b;
            out += kAlphabet[x & 63];
            x >>= 6;
        }
        return out;
    }

    ParseResult parse_chat(std::string_view body) const override {
        return parse_routed(route("POST", chat_path()), body);
    }

    ParseResult parse_routed(const Route& route, std::string_view body) const override {
        ScratchJson scratch;
        json::object o(scratch.storage());
        std::string parse_error;
        if (!parse_json_object(body, o, parse_error)) return invalid_json(parse_error);
        ChatRequest r;
        r.endpoint = route.endpoint;
        r.model = route.model.starts_with("models/") ? route.model.substr(7) : route.model;
        r.stream = route.endpoint != kGenerateContent;
        DigestBuilder digest;
        auto read_parts = [&](const json::value* parts) -> std::optional<ApiError> {
            if (parts == nullptr || !parts->is_array()) return std::nullopt;
            for (const auto& part : parts->get_array()) {
                if (!part.is_object()) continue;
                const auto& po = part.get_object();
                if (const auto* text = find(po, "text"); text != nullptr && text->is_string()) {
                    digest.add_text(text->get_string());
                } else if (const auto* inline_data = find(po, "inlineData");
                           inline_data != nullptr && inline_data->is_object()) {
                    const auto& io = inline_data->get_object();
                    digest.add_image(fmt::format("data:{};base64,{}",
                                                 string_or_empty(find(io, "mimeType")),
                                                 string_or_empty(find(io, "data"))));
                } else if (const auto* file = find(po, "fileData");
                           file != nullptr && file->is_object()) {
                    auto uri = string_or_empty(find(file->get_object(), "fileUri"));
                    if (uri.empty())
                        return invalid(
                            "* GenerateContentRequest.contents[0].parts[0].file_data.file_uri: "
                            "file_uri is required");
                    digest.add_image(uri);
                }
            }
            return std::nullopt;
        };
        if (const auto* system = find(o, "systemInstruction");
            system != nullptr && system->is_object()) {
            digest.begin_message("system");
            if (auto e = read_parts(find(system->get_object(), "parts"))) return *e;
        }
        const auto* contents = find(o, "contents");
        if (contents == nullptr || !contents->is_array() || contents->get_array().empty())
            return invalid("* GenerateContentRequest.contents: contents is not specified");
        for (const auto& content : contents->get_array()) {
            if (!content.is_object()) return invalid("Invalid JSON payload received.");
            const auto& co = content.get_object();
            auto role = string_or_empty(find(co, "role"));
            digest.begin_message(role == "model" ? "assistant" : "user");
            if (auto e = read_parts(find(co, "parts"))) return *e;
        }
        digest.finish(r);
        if (const auto* config = find(o, "generationConfig");
            config != nullptr && config->is_object()) {
            const auto* n = find(config->get_object(), "maxOutputTokens");
            if (n != nullptr && n->is_int64() && n->get_int64() > 0) r.max_tokens = n->get_int64();
        }
        if (const auto* tools = find(o, "tools"); tools != nullptr && tools->is_array()) {
            for (const auto& tool : tools->get_array()) {
                if (!tool.is_object()) continue;
                const auto* declarations = find(tool.get_object(), "functionDeclarations");
                if (declarations == nullptr || !declarations->is_array()) continue;
                for (const auto& d : declarations->get_array()) {
                    if (!d.is_object()) continue;
                    ToolSpec spec;
                    spec.name = std::string(string_or_empty(find(d.get_object(), "name")));
                    const auto* schema = find(d.get_object(), "parameters");
                    if (schema == nullptr) schema = find(d.get_object(), "parametersJsonSchema");
                    read_schema_properties(schema, spec);
                    for (auto& [name, type] : spec.properties) type = lower(type);  // "STRING"
                    r.tools.push_back(std::move(spec));
                }
            }
        }
        if (const auto* config = find(o, "toolConfig"); config != nullptr && config->is_object()) {
            const auto* fc = find(config->get_object(), "functionCallingConfig");
            if (fc != nullptr && fc->is_object()) {
                auto mode = string_or_empty(find(fc->get_object(), "mode"));
                if (mode == "NONE") r.tool_choice = ToolChoice::none;
                if (mode == "ANY" || mode == "VALIDATED") r.tool_choice = ToolChoice::required;
                const auto* allowed = find(fc->get_object(), "allowedFunctionNames");
                if (r.tool_choice == ToolChoice::required && allowed != nullptr &&
                    allowed->is_array() && allowed->get_array().size() == 1) {
                    r.tool_choice = ToolChoice::named;
                    r.tool_choice_name = std::string(string_or_empty(&allowed->get_array()[0]));
                }
            }
        }
        return r;
    }

    std::string completion_body(const Completion& c) const override {
        return pretty(response(c, c.tool_call ? std::string_view() : c.text(), true, true));
    }

    std::vector<StreamFrame> stream_frames(const Completion& c,
                                           const ChatRequest& request) const override {
        std::vector<StreamFrame> frames;
        bool array = request.endpoint == kStreamArray;
        auto frame = [&](const std::string& object, bool first) {
            if (array) return (first ? "[" : ",\r\n") + object;
            return "data: " + object + "\r\n\r\n";
        };
        if (c.tool_call) {
            // A function call comes whole, in one chunk with the finish reason.
            frames.push_back({StreamFrame::Kind::token, frame(response(c, "", true, true), true),
                              c.completion_tokens});
        } else {
            for (std::size_t i = 0; i < c.tokens.size(); ++i)
                frames.push_back({StreamFrame::Kind::token,
                                  frame(response(c, c.tokens[i], false, false), i == 0), 1});
            // The last chunk: no parts, the finish reason and the whole usage.
            frames.push_back({StreamFrame::Kind::epilogue,
                              frame(response(c, std::nullopt, true, true), c.tokens.empty()), 0});
        }
        if (array) frames.push_back({StreamFrame::Kind::epilogue, "]", 0});
        return frames;
    }

    std::string error_body(const ApiError& e, std::string_view) const override {
        return pretty(error_json(e));
    }
    std::string stream_error_frame(const ApiError& e) const override {
        return "data: " + error_json(e) + "\r\n\r\n";
    }

    std::string models_body(const std::vector<ModelInfo>& models) const override {
        std::string out = "{\"models\":[";
        for (std::size_t i = 0; i < models.size(); ++i) {
            if (i > 0) out += ',';
            out += model_json(models[i]);
        }
        return pretty(out + "]}");
    }
    std::string model_body(const ModelInfo& m) const override { return pretty(model_json(m)); }

    ApiError status_error(int status, std::string_view) const override {
        // A key Gemini does not accept is a 400, not a 401 (ErrorInfo API_KEY_INVALID).
        if (status == 401)
            return {400, "INVALID_ARGUMENT", "API_KEY_INVALID", "",
                    "API key not valid. Please pass a valid API key."};
        const auto& s = status_of(status);
        return {status, std::string(s.name), "", "", std::string(s.message)};
    }
    ApiError invalid_json(std::string_view detail) const override {
        return invalid(fmt::format("Invalid JSON payload received. {}", detail));
    }
    ApiError not_found(std::string_view, std::string_view) const override {
        return {404, "NOT_FOUND", "", "", "Requested entity was not found."};
    }
    ApiError method_not_allowed(std::string_view method, std::string_view target) const override {
        return {405, "FAILED_PRECONDITION", "", "",
                fmt::format("Method {} is not allowed on {}", method, target)};
    }
    ApiError unknown_model(std::string_view model) const override {
        return {404, "NOT_FOUND", "", "",
                fmt::format("models/{} is not found for API version v1beta, or is not supported "
                            "for generateContent. Call ListModels to see the list of available "
                            "models and their supported methods.",
                            model)};
    }
    ApiError body_too_large(std::size_t limit) const override {
        return {413, "INVALID_ARGUMENT", "", "",
                fmt::format("Request payload size exceeds the limit: {} bytes.", limit)};
    }
    ApiError feature_unsupported(std::string_view feature, std::string_view model) const override {
        // Gemini's wording for a model without the modality or the tool use asked for.
        if (feature == "vision")
            return invalid(fmt::format("Image input modality is not enabled for models/{}", model));
        if (feature == "tools")
            return invalid(fmt::format("Function calling is not enabled for models/{}", model));
        return invalid(fmt::format("{} is not supported for models/{}", feature, model));
    }
    ApiError rate_limited(std::string_view model, bool tokens, long limit, long,
                          double retry_seconds) const override {
        std::string metric = tokens ? "generate_content_free_tier_input_token_count"
                                    : "generate_content_free_tier_requests";
        std::string quota_id = tokens ? "GenerateContentInputTokensPerModelPerMinute-FreeTier"
                                      : "GenerateRequestsPerMinutePerProjectPerModel-FreeTier";
        ApiError e{429, "RESOURCE_EXHAUSTED", "", "",
                   fmt::format("You exceeded your current quota, please check your plan and "
                               "billing details. For more information on this error, head to: "
                               "https://ai.google.dev/gemini-api/docs/rate-limits. To monitor "
                               "your current usage, head to: https://ai.dev/rate-limit. \n* Quota "
                               "exceeded for metric: generativelanguage.googleapis.com/{}, limit: "
                               "{}, model: {}\nPlease retry in {}.",
                               metric, limit, model, duration_text(retry_seconds))};
        e.details_json = fmt::format(
            R"([{{"@type":"type.googleapis.com/google.rpc.Help","links":[{{"description":"Learn more about Gemini API quotas","url":"https://ai.google.dev/gemini-api/docs/rate-limits"}}]}},)"
            R"({{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{{"quotaMetric":"generativelanguage.googleapis.com/{}","quotaId":"{}","quotaDimensions":{{"location":"global","model":{}}},"quotaValue":"{}"}}]}}])",
            metric, quota_id, json_string(model), limit);
        e.retry_seconds = retry_seconds;
        return e;
    }
    Headers rate_limit_headers(const std::vector<RateLimitWindow>&) const override { return {}; }
    std::string_view models_owner() const override { return "google"; }

    // ── client half: as @google/genai sends generateContent and reads it back ──
    ClientRequest render_chat(const OutgoingChat& chat, std::string_view api_key) const override {
        ClientRequest r;
        r.path = fmt::format("/v1beta/models/{}:{}", chat.model,
                             chat.stream ? "streamGenerateContent?alt=sse" : "generateContent");
        r.headers.emplace_back("content-type", "application/json");
        if (!api_key.empty()) r.headers.emplace_back("x-goog-api-key", std::string(api_key));
        std::string parts = fmt::format(R"([{{"text":{}}})", json_string(chat.prompt));
        if (!chat.image_url.empty()) {
            constexpr std::string_view kMarker = ";base64,";
            std::string_view url = chat.image_url;
            auto at = url.find(kMarker);
            if (url.starts_with("data:") && at != std::string_view::npos) {
                parts += fmt::format(R"(,{{"inlineData":{{"mimeType":{},"data":{}}}}})",
                                     json_string(url.substr(5, at - 5)),
                                     json_string(url.substr(at + kMarker.size())));
            } else {
                parts += fmt::format(R"(,{{"fileData":{{"mimeType":"image/png","fileUri":{}}}}})",
                                     json_string(url));
            }
        }
        parts += "]";
        r.body = fmt::format(
            R"({{"contents":[{{"role":"user","parts":{}}}],"systemInstruction":{{"parts":[{{"text":{}}}]}},"generationConfig":{{"maxOutputTokens":{}}})",
            parts, json_string(chat.system), chat.max_tokens);
        if (chat.tool) {
            std::string properties;
            for (const auto& [name, type] : chat.tool->properties) {
                properties += fmt::format("{}{}:{{\"type\":{}}}", properties.empty() ? "" : ",",
                                          json_string(name), json_string(upper(type)));
            }
            r.body += fmt::format(
                R"(,"tools":[{{"functionDeclarations":[{{"name":{},"parameters":{{"type":"OBJECT","properties":{{{}}}}}}}]}}],"toolConfig":{{"functionCallingConfig":{{"mode":"ANY"}}}})",
                json_string(chat.tool->name), properties);
        }
        r.body += "}";
        return r;
    }

    ReadAnswer read_answer(bool stream, std::string_view body, bool body_complete) const override {
        if (!stream) {
            return read_json_answer(body, body_complete, [](const auto& o, ReadAnswer& out) {
                if (!read_chunk(o, out)) throw std::runtime_error("no finish reason");
            });
        }
        // SSE with CRLF line ends; the stream ends with the chunk that has a finish reason (no
        // [DONE]). One that ends cleanly after content without it is accepted, as the SDK does;
        // one cut mid-event is broken ("Incomplete JSON segment at the end").
        std::string lf(body);
        for (std::size_t at = 0; (at = lf.find("\r\n", at)) != std::string::npos;) lf.erase(at, 1);
        return read_sse_answer(lf, body_complete, "",
                               [](std::string_view, const auto& o, ReadAnswer& out) {
                                   if (contains(o, "error")) return SseStep::broken;
                                   return read_chunk(o, out) ? SseStep::finished : SseStep::more;
                               });
    }

    ReadError read_error(int status, std::string_view body) const override {
        ReadError e{status, "", "", class_by_status(status)};
        boost::system::error_code ec;
        ScratchJson scratch;
        auto v = scratch.parse(body, ec);
        if (!ec && v.is_object()) {
            const auto* error = find(v.as_object(), "error");
            if (error != nullptr && error->is_object()) {
                e.type = std::string(string_or_empty(find(error->get_object(), "status")));
                const auto* details = find(error->get_object(), "details");
                if (details != nullptr && details->is_array()) {
                    for (const auto& d : details->get_array()) {
                        if (!d.is_object()) continue;
                        auto type = string_or_empty(find(d.get_object(), "@type"));
                        if (type.ends_with("google.rpc.ErrorInfo"))
                            e.code = std::string(string_or_empty(find(d.get_object(), "reason")));
                        if (type.ends_with("google.rpc.RetryInfo")) {
                            auto delay = string_or_empty(find(d.get_object(), "retryDelay"));
                            double seconds = 0;
                            auto [end, err] =
                                std::from_chars(delay.data(), delay.data() + delay.size(), seconds);
                            if (err == std::errc() && end != delay.data() + delay.size() &&
                                *end == 's')
                                e.retry_seconds = seconds;
                        }
                    }
                }
            }
        }
        // A key Gemini refuses is a 400 with reason API_KEY_INVALID; other 400s
        // (INVALID_ARGUMENT: a modality or tool use this model lacks) and 404 NOT_FOUND (an
        // unknown model) are requests this provider cannot serve.
        if (status == 400 && e.code == "API_KEY_INVALID")
            e.klass = ErrorClass::auth;
        else if (status == 400 || status == 404)
            e.klass = ErrorClass::unsupported;
        return e;
    }

private:
    static ApiError invalid(std::string message) {
        return {400, "INVALID_ARGUMENT", "", "", std::move(message)};
    }

    // One GenerateContentResponse, compact: `text` (nullopt: a candidate without parts), the
    // finish reason and the whole usage when `last`.
    static std::string response(const Completion& c, std::optional<std::string_view> text,
                                bool last, bool with_tool) {
        std::string out = "{\"candidates\":[{\"content\":{";
        if (with_tool && c.tool_call) {
            out += "\"parts\":[{\"functionCall\":{\"name\":";
            append_json_string(out, c.tool_call->name);
            out += ",\"args\":";
            out += c.tool_call->arguments_json;
            out += "}}],";
        } else if (text) {
            out += "\"parts\":[{\"text\":";
            append_json_string(out, *text);
            out += "}],";
        }
        out += "\"role\":\"model\"}";
        if (last) {
            out += ",\"finishReason\":\"";
            out += gemini_finish_reason(c.finish);
            out += "\"";
        }
        out += ",\"index\":0}],\"usageMetadata\":";
        if (last) {
            out += fmt::format(
                "{{\"promptTokenCount\":{0},\"candidatesTokenCount\":{1},\"totalTokenCount\":{2},"
                "\"promptTokensDetails\":[{{\"modality\":\"TEXT\",\"tokenCount\":{0}}}]}}",
                c.prompt_tokens, c.completion_tokens, c.prompt_tokens + c.completion_tokens);
        } else {
            out += fmt::format("{{\"promptTokenCount\":{0},\"totalTokenCount\":{0}}}",
                               c.prompt_tokens);
        }
        out += ",\"modelVersion\":";
        append_json_string(out, c.model);
        out += ",\"responseId\":";
        append_json_string(out, c.id);
        return out + "}";
    }

    // A chunk's (or the whole answer's) text or function call, appended; true when it carried
    // the finish reason.
    template <class Object>
    static bool read_chunk(const Object& o, ReadAnswer& out) {
        const auto* candidates = find(o, "candidates");
        if (candidates == nullptr || !candidates->is_array() || as_array(*candidates).empty())
            return false;  // usage or prompt feedback only
        const auto& candidate = as_object(at(as_array(*candidates), 0));
        if (const auto* content = find(candidate, "content");
            content != nullptr && content->is_object()) {
            const auto* parts = find(as_object(*content), "parts");
            if (parts != nullptr && parts->is_array()) {
                for (const auto& part : as_array(*parts)) {
                    const auto& po = as_object(part);
                    if (const auto* text = find(po, "text")) out.text += json_text(*text);
                    if (const auto* call = find(po, "functionCall"))
                        out.text += json_text(at(as_object(*call), "args"));
                }
            }
        }
        auto reason = string_or_empty(find(candidate, "finishReason"));
        if (reason.empty()) return false;
        out.finish_reason = std::string(reason);
        return true;
    }

    static std::string error_json(const ApiError& e) {
        std::string details = e.details_json;
        if (details.empty() && !e.code.empty()) {
            details = fmt::format(
                R"([{{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":{},"domain":"googleapis.com","metadata":{{"service":"generativelanguage.googleapis.com"}}}}])",
                json_string(e.code));
        }
        if (e.retry_seconds) {
            std::string retry = fmt::format(
                R"({{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"{}"}})",
                duration_text(*e.retry_seconds));
            details = details.empty() ? "[" + retry + "]"
                                      : details.substr(0, details.size() - 1) + "," + retry + "]";
        }
        std::string out = fmt::format(
            "{{\"error\":{{\"code\":{},\"message\":{},\"status\":{}", e.status,
            json_string(e.message),
            json_string(e.type.empty() ? status_of(e.status).name : std::string_view(e.type)));
        if (!details.empty()) out += ",\"details\":" + details;
        return out + "}}";
    }

    static std::string model_json(const ModelInfo& m) {
        return fmt::format(
            R"({{"name":{},"version":"001","displayName":{},"description":{},"inputTokenLimit":1048576,"outputTokenLimit":65536,"supportedGenerationMethods":["generateContent","countTokens","createCachedContent","batchGenerateContent"],"temperature":1,"topP":0.95,"topK":64,"maxTemperature":2,"thinking":true}})",
            json_string("models/" + m.id), json_string(m.id),
            json_string(fmt::format("{}, served by brownout", m.id)));
    }
};

}  // namespace

std::unique_ptr<Dialect> make_gemini(Vendor) {
    return std::make_unique<GeminiDialect>();
}

}  // namespace brownout::wire
