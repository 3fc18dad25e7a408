// The Ollama native API, as a self-hosted open-weight model serves it: POST /api/chat and
// /api/generate (NDJSON streams by default, one JSON object with "stream": false), GET /api/tags.
// Shapes: ../shared/reference/wire-formats.md §8.3 and the sources recorded in README's HTTP
// surface section (ollama/ollama docs/api.md and server/routes.go; the `ollama` npm client).
// Ollama has no API keys, request ids, rate limits or SSE comments: a stall is silent.

#include <fmt/format.h>

#include "core/random.h"
#include "core/text.h"
#include "wire/common.h"
#include "wire/dialect.h"

namespace brownout::wire {
namespace {

using namespace detail;
namespace json = boost::json;

constexpr int kChat = 0;      // POST /api/chat: messages in, message out
constexpr int kGenerate = 1;  // POST /api/generate: prompt in, response out

std::string_view done_reason(FinishReason f) {
    return f == FinishReason::length ? "length" : "stop";
}

// Ollama's own errors are one string under "error"; the status says the rest. Wording from
// server/routes.go and server/sched.go; statuses it never sends itself (a proxy in front of it
// would) get the HTTP reason phrase.
struct StatusMessage {
    int status;
    std::string_view message;
};
constexpr StatusMessage kErrors[] = {
    {400, "invalid request"},
    {401, "unauthorized"},
    {403, "forbidden"},
    {429, "too many requests"},
    {500, "llama runner process has terminated: exit status 2"},
    {502, "bad gateway"},
    {503, "server busy, please try again.  maximum pending requests exceeded"},
    {504, "gateway timeout"},
};

// Images are base64 strings of the bytes. A workload's image is a URL whose bytes, in this mock
// world, are the URL itself; a data URL's are its payload. Both digest as the other dialects
// digest them, so an answer verifies whichever provider gave it.
std::string image_source(std::string_view base64) {
    if (auto bytes = base64_decode(base64);
        bytes && (bytes->starts_with("https://") || bytes->starts_with("http://")))
        return *bytes;
    return fmt::format("data:image/png;base64,{}", base64);
}
std::string image_payload(std::string_view url) {
    constexpr std::string_view kMarker = ";base64,";
    if (url.starts_with("data:")) {
        if (auto at = url.find(kMarker); at != std::string_view::npos)
            return std::string(url.substr(at + kMarker.size()));
    }
    return base64_encode(url);
}

class OllamaDialect final : public Dialect {
public:
    DialectKind kind() const override { return DialectKind::ollama; }
    Vendor vendor() const override { return Vendor::ollama; }
    std::string_view chat_path() const override { return "/api/chat"; }
    std::string_view models_path() const override { return "/api/tags"; }
    std::string_view request_id_header() const override { return ""; }
    std::string keepalive_frame() const override { return ""; }
    std::string_view stream_content_type() const override { return "application/x-ndjson"; }
    std::string_view json_content_type() const override {
        return "application/json; charset=utf-8";
    }
    bool refuses_images_without_vision() const override { return false; }

    Route route(std::string_view method, std::string_view target) const override {
        std::string_view path = strip_query(target);
        auto post = [&](int endpoint) {
            Route r{method == "POST" ? Route::Target::chat : Route::Target::method_not_allowed, ""};
            r.endpoint = endpoint;
            return r;
        };
        if (path == "/api/chat") return post(kChat);
        if (path == "/api/generate") return post(kGenerate);
        if (path == "/api/tags")
            return {method == "GET" ? Route::Target::models : Route::Target::method_not_allowed,
                    ""};
        return {Route::Target::not_found, ""};
    }

    std::string new_request_id(std::uint64_t r) const override { return to_hex(r); }
    std::string new_completion_id(std::uint64_t) const override { return ""; }

    ParseResult parse_chat(std::string_view body) const override {
        return parse_routed(Route{Route::Target::chat, ""}, body);
    }

    ParseResult parse_routed(const Route& route, std::string_view body) const override {
        if (body.empty()) return error(400, "missing request body");
        ScratchJson scratch;
        json::object o(scratch.storage());
        std::string parse_error;
        if (!parse_json_object(body, o, parse_error)) return invalid_json(parse_error);
        ChatRequest r;
        r.endpoint = route.endpoint;
        auto model = string_or_empty(find(o, "model"));
        if (model.empty()) {
            // /api/generate looks the empty name up (routes_generate_test.go).
            return route.endpoint == kGenerate ? unknown_model("")
                                               : error(400, "model is required");
        }
        r.model = std::string(model);
        DigestBuilder digest;
        auto add_images = [&](const json::value* images) -> std::optional<ApiError> {
            if (images == nullptr || images->is_null()) return std::nullopt;
            if (!images->is_array()) return error(400, "images must be an array of strings");
            for (const auto& image : images->get_array()) {
                if (!image.is_string()) return error(400, "images must be an array of strings");
                digest.add_image(image_source(image.get_string()));
            }
            return std::nullopt;
        };
        if (route.endpoint == kGenerate) {
            // A system prompt and one user turn: digested as the chat form of the same question.
            if (auto system = string_or_empty(find(o, "system")); !system.empty()) {
                digest.begin_message("system");
                digest.add_text(system);
            }
            digest.begin_message("user");
            digest.add_text(string_or_empty(find(o, "prompt")));
            if (auto e = add_images(find(o, "images"))) return *e;
        } else {
            const auto* messages = find(o, "messages");
            if (messages != nullptr && !messages->is_null() && !messages->is_array())
                return error(400, "messages must be an array");
            if (messages != nullptr && messages->is_array()) {
                for (const auto& m : messages->get_array()) {
                    if (!m.is_object()) return error(400, "messages must be objects");
                    const auto& mo = m.get_object();
                    digest.begin_message(string_or_empty(find(mo, "role")));
                    digest.add_text(string_or_empty(find(mo, "content")));
                    if (auto e = add_images(find(mo, "images"))) return *e;
                }
            }
        }
        digest.finish(r);
        // Ollama streams unless told not to.
        const auto* stream = find(o, "stream");
        r.stream = stream == nullptr || !stream->is_bool() || stream->get_bool();
        if (const auto* options = find(o, "options"); options != nullptr && options->is_object()) {
            const auto* n = find(options->get_object(), "num_predict");
            if (n != nullptr && n->is_int64() && n->get_int64() > 0) r.max_tokens = n->get_int64();
        }
        read_function_tools(find(o, "tools"), r.tools);
        // Ollama has no tool_choice: the model decides. The mock's model calls the tool it is
        // given, which is what a request with tools is for.
        if (!r.tools.empty()) r.tool_choice = ToolChoice::required;
        return r;
    }

    std::string completion_body(const Completion& c) const override {
        std::string out = head(c);
        if (c.endpoint == kGenerate) {
            out += "\"response\":";
            append_json_string(out, c.tool_call ? std::string_view() : c.text());
            out += ",";
        } else {
            out += "\"message\":";
            append_message(out, c.tool_call ? std::string_view() : c.text(), c);
            out += ",";
        }
        return out + tail(c) + "}";
    }

    std::vector<StreamFrame> stream_frames(const Completion& c, const ChatRequest&) const override {
        std::vector<StreamFrame> frames;
        frames.reserve(c.tokens.size() + 1);
        auto line = [&](std::string_view text, bool with_tool) {
            std::string out = head(c);
            if (c.endpoint == kGenerate) {
                out += "\"response\":";
                append_json_string(out, text);
            } else {
                out += "\"message\":";
                if (with_tool)
                    append_message(out, "", c);
                else
                    append_plain_message(out, text);
            }
            return out + ",\"done\":false}\n";
        };
        if (c.tool_call) {
            // One line carries the whole call, as Ollama parses tool calls from the model's output.
            frames.push_back({StreamFrame::Kind::token, line("", true), c.completion_tokens});
        } else {
            for (const auto& token : c.tokens)
                frames.push_back({StreamFrame::Kind::token, line(token, false), 1});
        }
        std::string last = head(c);
        if (c.endpoint == kGenerate) {
            last += "\"response\":\"\",";
        } else {
            last += "\"message\":";
            append_plain_message(last, "");
            last += ",";
        }
        frames.push_back({StreamFrame::Kind::epilogue, last + tail(c) + "}\n", 0});
        return frames;
    }

    std::string error_body(const ApiError& e, std::string_view) const override {
        return fmt::format("{{\"error\":{}}}", json_string(e.message));
    }
    std::string stream_error_frame(const ApiError& e) const override {
        return error_body(e, "") + "\n";
    }

    std::string models_body(const std::vector<ModelInfo>& models) const override {
        std::string out = "{\"models\":[";
        for (std::size_t i = 0; i < models.size(); ++i) {
            if (i > 0) out += ',';
            out += model_body(models[i]);
        }
        return out + "]}";
    }
    std::string model_body(const ModelInfo& m) const override {
        std::string family(m.id.substr(0, m.id.find_first_of(".:0123456789")));
        if (family.empty()) family = "llama";
        return fmt::format(
            "{{\"name\":{0},\"model\":{0},\"modified_at\":\"{1}\",\"size\":2019393189,"
            "\"digest\":\"{2}\",\"details\":{{\"parent_model\":\"\",\"format\":\"gguf\","
            "\"family\":{3},\"families\":[{3}],\"parameter_size\":\"3.2B\","
            "\"quantization_level\":\"Q4_K_M\"}}}}",
            json_string(m.id), rfc3339(m.created), to_hex(hash64(m.id), 16) + to_hex(m.created),
            json_string(family));
    }

    ApiError status_error(int status, std::string_view) const override {
        for (const auto& w : kErrors) {
            if (w.status == status) return error(status, std::string(w.message));
        }
        return error(status, status >= 500 ? "internal server error" : "invalid request");
    }
    ApiError invalid_json(std::string_view detail) const override {
        return error(400, detail.empty() ? std::string("unexpected EOF") : std::string(detail));
    }
    ApiError not_found(std::string_view, std::string_view) const override {
        return error(404, "404 page not found");
    }
    ApiError method_not_allowed(std::string_view, std::string_view) const override {
        return error(405, "405 method not allowed");
    }
    ApiError unknown_model(std::string_view model) const override {
        return error(404, fmt::format("model '{}' not found", model));
    }
    ApiError body_too_large(std::size_t limit) const override {
        return error(413, fmt::format("request body too large (limit {} bytes)", limit));
    }
    ApiError feature_unsupported(std::string_view feature, std::string_view model) const override {
        std::string name(model);
        if (name.find(':') == std::string::npos) name += ":latest";
        if (feature == "tools")
            return error(400,
                         fmt::format("registry.ollama.ai/library/{} does not support tools", name));
        // Ollama does not check images against the model (a text model answers without them,
        // refuses_images_without_vision); this is for a forced fault.
        if (feature == "vision")
            return error(
                400, fmt::format("registry.ollama.ai/library/{} does not support images", name));
        return error(400, fmt::format("{} is not supported by {}", feature, model));
    }
    ApiError rate_limited(std::string_view, bool, long, long, double retry_seconds) const override {
        // Ollama has no rate limits of its own; this is the proxy in front of it.
        return error(429,
                     fmt::format("too many requests, please try again in {:.3g}s", retry_seconds));
    }
    Headers rate_limit_headers(const std::vector<RateLimitWindow>&) const override { return {}; }
    std::string_view models_owner() const override { return "library"; }

    // ── client half: as the `ollama` npm client sends and reads /api/chat ──
    ClientRequest render_chat(const OutgoingChat& chat, std::string_view api_key) const override {
        ClientRequest r;
        r.path = std::string(chat_path());
        r.headers.emplace_back("content-type", "application/json");
        r.headers.emplace_back("accept", "application/json");
        if (!api_key.empty())
            r.headers.emplace_back("authorization", "Bearer " + std::string(api_key));
        std::string user = fmt::format(R"({{"role":"user","content":{})", json_string(chat.prompt));
        if (!chat.image_url.empty())
            user += fmt::format(R"(,"images":[{}])", json_string(image_payload(chat.image_url)));
        user += "}";
        r.body = fmt::format(
            R"({{"model":{},"messages":[{{"role":"system","content":{}}},{}],"stream":{},"options":{{"num_predict":{}}})",
            json_string(chat.model), json_string(chat.system), user, chat.stream ? "true" : "false",
            chat.max_tokens);
        if (chat.tool) {
            r.body += fmt::format(
                R"(,"tools":[{{"type":"function","function":{{"name":{},"parameters":{}}}}}])",
                json_string(chat.tool->name), schema_json(*chat.tool));
        }
        r.body += "}";
        return r;
    }

    ReadAnswer read_answer(bool stream, std::string_view body, bool body_complete) const override {
        if (!stream) {
            return read_json_answer(body, body_complete, [](const auto& o, ReadAnswer& out) {
                read_part(o, out);
                if (!as_bool(at(o, "done"))) throw std::runtime_error("not done");
            });
        }
        // One JSON object a line; the last says done. The client throws on an {"error"} line,
        // and on a stream that ends without done (ollama-js: "Did not receive done or success
        // response in stream."); blank lines it skips.
        ReadAnswer out;
        bool finished = false;
        std::size_t from = 0;
        while (from < body.size() && !finished && !out.broken) {
            std::size_t nl = body.find('\n', from);
            if (nl == std::string_view::npos && !body_complete) break;  // cut mid-line
            std::string_view line =
                body.substr(from, nl == std::string_view::npos ? nl : nl - from);
            from = nl == std::string_view::npos ? body.size() : nl + 1;
            if (line.empty()) continue;
            enum class Line { more, done, error };
            try {
                auto read = read_json_object(line, out, [&](const auto& o) {
                    if (contains(o, "error")) return Line::error;
                    read_part(o, out);
                    return as_bool(at(o, "done")) ? Line::done : Line::more;
                });
                if (!read) continue;  // not a JSON object: ollama-js warns and goes on
                if (*read == Line::error) {
                    out.broken = true;
                    break;
                }
                finished = *read == Line::done;
            } catch (const std::exception&) {
                out.broken = true;
            }
        }
        if (!finished) out.broken = true;
        return out;
    }

    ReadError read_error(int status, std::string_view) const override {
        // Ollama's errors have no type or code: 404 is a model it does not have, 400 a request it
        // cannot serve (a feature this model lacks). Both mean another provider may take it.
        ReadError e{status, "", "", class_by_status(status)};
        if (status == 400 || status == 404) e.klass = ErrorClass::unsupported;
        return e;
    }

private:
    static ApiError error(int status, std::string message) {
        return {status, "", "", "", std::move(message)};
    }

    static std::string head(const Completion& c) {
        std::string out = "{\"model\":";
        append_json_string(out, c.model);
        out += ",\"created_at\":\"";
        out += rfc3339(c.created);
        out += "\",";
        return out;
    }

    // The last line's (or the whole answer's) closing fields, in Go's struct order (done before
    // done_reason; generate's token context); durations in nanoseconds.
    static std::string tail(const Completion& c) {
        return fmt::format(
            "\"done\":true,\"done_reason\":\"{}\",{}\"total_duration\":{},\"load_duration\":{},"
            "\"prompt_eval_count\":{},\"prompt_eval_duration\":{},\"eval_count\":{},"
            "\"eval_duration\":{}",
            done_reason(c.finish),
            c.endpoint == kGenerate ? "\"context\":[128006,882,128007]," : "",
            c.prompt_eval_ns + c.eval_ns + 1'200'000, 1'200'000, c.prompt_tokens, c.prompt_eval_ns,
            c.completion_tokens, c.eval_ns);
    }

    static void append_plain_message(std::string& out, std::string_view text) {
        out += "{\"role\":\"assistant\",\"content\":";
        append_json_string(out, text);
        out += "}";
    }

    static void append_message(std::string& out, std::string_view text, const Completion& c) {
        if (!c.tool_call) return append_plain_message(out, text);
        // Since Ollama 0.12.10 a call has an id ("call_" and 8 of [a-z0-9]) and an index.
        out += "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"id\":\"call_";
        std::uint64_t id = hash64(c.tool_call->id);
        for (int i = 0; i < 8; ++i, id /= 36)
            out += "abcdefghijklmnopqrstuvwxyz0123456789"[id % 36];
        out += "\",\"function\":{\"index\":0,\"name\":";
        append_json_string(out, c.tool_call->name);
        out += ",\"arguments\":";
        out += c.tool_call->arguments_json;  // an object, not a string as in OpenAI's form
        out += "}}]}";
    }

    // A chat line's message (its content, or its tool call's arguments) or a generate line's
    // response, appended to the answer.
    template <class Object>
    static void read_part(const Object& o, ReadAnswer& out) {
        if (const auto* r = find(o, "response")) {
            out.text += json_text(*r);
        } else {
            const auto& msg = as_object(at(o, "message"));
            const auto* calls = find(msg, "tool_calls");
            if (calls != nullptr && calls->is_array() && !as_array(*calls).empty()) {
                out.text += json_text(at(at(at(as_array(*calls), 0), "function"), "arguments"));
            } else {
                out.text += json_text(at(msg, "content"));
            }
        }
        if (const auto* d = find(o, "done_reason"); d != nullptr && d->is_string())
            out.finish_reason = std::string(as_string(*d));
    }
};

}  // namespace

std::unique_ptr<Dialect> make_ollama(Vendor) {
    return std::make_unique<OllamaDialect>();
}

}  // namespace brownout::wire
