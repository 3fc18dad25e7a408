// The OpenAI Responses API (POST /v1/responses), which OpenAI serves beside chat completions:
// every `dialect = "openai"` provider of vendor openai answers it too (wire/openai_chat.cpp routes
// /v1/responses here), a vendor that does not (DeepSeek) answers 404; `dialect =
// "openai-responses"` makes a provider that built-in stacks talk to in this form. Errors, headers,
// rate limits and the model list are chat completions' (the same API, wire-formats.md §1.4).
// Shapes: ../shared/reference/wire-formats.md §8.1 and the sources in README's HTTP surface
// section (real captures, and openai-node 7.59.0's ResponseStream and accumulator).

#include <fmt/format.h>

#include "core/random.h"
#include "core/text.h"
#include "wire/common.h"
#include "wire/dialect.h"

namespace brownout::wire {
namespace {

using namespace detail;
namespace json = boost::json;

// One object a stream event: `event: TYPE` then its data, whose "type" repeats the name and
// whose "sequence_number" counts the events of the stream from 0.
class EventWriter {
public:
    std::string event(std::string_view type, std::string_view fields) {
        return fmt::format("event: {0}\ndata: {{\"type\":\"{0}\",\"sequence_number\":{1},{2}}}\n\n",
                           type, sequence_++, fields);
    }

private:
    int sequence_ = 0;
};

// A response's id: the completion's when it was made for this API, else one derived from it
// (a provider of the chat dialect names its completions "chatcmpl-…").
std::string response_id(const Completion& c) {
    if (c.id.starts_with("resp_")) return c.id;
    return fmt::format("resp_{}", to_hex(hash64(c.id, 0x7265), 16) + to_hex(hash64(c.id), 16));
}

std::string item_id(std::string_view prefix, const Completion& c) {
    return fmt::format("{}_{}", prefix,
                       to_hex(hash64(c.id, 0x6d73), 16) + to_hex(hash64(c.id), 16));
}

class OpenAiResponsesDialect final : public Dialect {
public:
    OpenAiResponsesDialect() : chat_(make_openai_chat_only(Vendor::openai)) {}

    DialectKind kind() const override { return DialectKind::openai_responses; }
    Vendor vendor() const override { return Vendor::openai; }
    std::string_view chat_path() const override { return "/v1/responses"; }
    std::string_view request_id_header() const override { return chat_->request_id_header(); }
    std::string new_request_id(std::uint64_t r) const override { return chat_->new_request_id(r); }
    std::string new_completion_id(std::uint64_t r) const override {
        return fmt::format("resp_{}", to_hex(r, 16) + to_hex(r * 0x2545f4914f6cdd1dULL, 16) +
                                          to_hex(r * 0x9e3779b97f4a7c15ULL, 16));
    }

    ParseResult parse_chat(std::string_view body) const override {
        ScratchJson scratch;
        json::object o(scratch.storage());
        std::string parse_error;
        if (!parse_json_object(body, o, parse_error)) return invalid_json(parse_error);
        ChatRequest r;
        auto model = string_or_empty(find(o, "model"));
        if (model.empty())
            return ApiError{400, "invalid_request_error", "missing_required_parameter", "model",
                            "Missing required parameter: 'model'."};
        r.model = std::string(model);
        DigestBuilder digest;
        if (auto instructions = string_or_empty(find(o, "instructions")); !instructions.empty()) {
            digest.begin_message("system");
            digest.add_text(instructions);
        }
        const auto* input = find(o, "input");
        if (input == nullptr || input->is_null())
            return ApiError{400, "invalid_request_error", "missing_required_parameter", "input",
                            "Missing required parameter: 'input'."};
        if (input->is_string()) {
            digest.begin_message("user");
            digest.add_text(input->get_string());
        } else if (input->is_array()) {
            std::size_t index = 0;
            for (const auto& item : input->get_array()) {
                if (!item.is_object()) continue;
                const auto& io = item.get_object();
                auto type = string_or_empty(find(io, "type"));
                if (!type.empty() && type != "message") {  // tool outputs, reasoning items
                    ++index;
                    continue;
                }
                auto role = string_or_empty(find(io, "role"));
                if (role.empty())
                    return ApiError{
                        400, "invalid_request_error", "missing_required_parameter",
                        fmt::format("input[{}].role", index),
                        fmt::format("Missing required parameter: 'input[{}].role'.", index)};
                digest.begin_message(role);
                const auto* content = find(io, "content");
                if (content != nullptr && content->is_string()) {
                    digest.add_text(content->get_string());
                } else if (content != nullptr && content->is_array()) {
                    for (const auto& part : content->get_array()) {
                        if (!part.is_object()) continue;
                        const auto& po = part.get_object();
                        auto part_type = string_or_empty(find(po, "type"));
                        if (part_type == "input_text" || part_type == "output_text") {
                            digest.add_text(string_or_empty(find(po, "text")));
                        } else if (part_type == "input_image") {
                            auto url = string_or_empty(find(po, "image_url"));
                            if (url.empty()) url = string_or_empty(find(po, "file_id"));
                            digest.add_image(url);
                        }
                    }
                }
                ++index;
            }
        } else {
            return ApiError{400, "invalid_request_error", "invalid_type", "input",
                            "Invalid type for 'input': expected one of a string or an array of "
                            "input items, but got another type instead."};
        }
        digest.finish(r);
        if (const auto* stream = find(o, "stream"); stream != nullptr && stream->is_bool())
            r.stream = stream->get_bool();
        if (const auto* n = find(o, "max_output_tokens"); n != nullptr && !n->is_null()) {
            if (!n->is_int64() || n->get_int64() < 16)
                return ApiError{400, "invalid_request_error", "integer_below_min_value",
                                "max_output_tokens",
                                "Invalid 'max_output_tokens': integer below minimum value. "
                                "Expected a value >= 16, but got another value instead."};
            r.max_tokens = n->get_int64();
        }
        // Tools are flat here: {"type":"function","name":…,"parameters":…}.
        if (const auto* tools = find(o, "tools"); tools != nullptr && tools->is_array()) {
            for (const auto& t : tools->get_array()) {
                if (!t.is_object() || string_or_empty(find(t.get_object(), "type")) != "function")
                    continue;
                ToolSpec spec;
                spec.name = std::string(string_or_empty(find(t.get_object(), "name")));
                read_schema_properties(find(t.get_object(), "parameters"), spec);
                r.tools.push_back(std::move(spec));
            }
        }
        if (const auto* tc = find(o, "tool_choice"); tc != nullptr) {
            auto s = string_or_empty(tc);
            if (s == "none") r.tool_choice = ToolChoice::none;
            if (s == "required") r.tool_choice = ToolChoice::required;
            if (tc->is_object()) {
                r.tool_choice = ToolChoice::named;
                r.tool_choice_name = std::string(string_or_empty(find(tc->get_object(), "name")));
            }
        }
        return r;
    }

    std::string completion_body(const Completion& c) const override {
        return response(c, "completed", output_json(c, "completed"), true);
    }

    std::vector<StreamFrame> stream_frames(const Completion& c, const ChatRequest&) const override {
        std::vector<StreamFrame> frames;
        EventWriter w;
        auto prelude = [&](std::string bytes) {
            frames.push_back({StreamFrame::Kind::prelude, std::move(bytes), 0});
        };
        auto epilogue = [&](std::string bytes) {
            frames.push_back({StreamFrame::Kind::epilogue, std::move(bytes), 0});
        };
        std::string in_progress = response(c, "in_progress", "[]", false);
        prelude(w.event("response.created", "\"response\":" + in_progress));
        prelude(w.event("response.in_progress", "\"response\":" + in_progress));
        if (c.tool_call) {
            std::string fc = item_id("fc", c);
            prelude(w.event("response.output_item.added",
                            fmt::format("\"output_index\":0,\"item\":{}",
                                        function_call_item(c, "in_progress", ""))));
            const std::string& args = c.tool_call->arguments_json;
            std::size_t piece = std::max<std::size_t>(1, (args.size() + 2) / 3);
            for (std::size_t at = 0; at < args.size(); at += piece)
                frames.push_back(
                    {StreamFrame::Kind::token,
                     w.event("response.function_call_arguments.delta",
                             fmt::format("\"item_id\":\"{}\",\"output_index\":0,\"delta\":{}", fc,
                                         json_string(args.substr(at, piece)))),
                     1});
            epilogue(w.event("response.function_call_arguments.done",
                             fmt::format("\"item_id\":\"{}\",\"output_index\":0,\"arguments\":{}",
                                         fc, json_string(args))));
            epilogue(w.event("response.output_item.done",
                             fmt::format("\"output_index\":0,\"item\":{}",
                                         function_call_item(c, "completed", args))));
        } else {
            std::string msg = item_id("msg", c);
            std::string where =
                fmt::format("\"item_id\":\"{}\",\"output_index\":0,\"content_index\":0", msg);
            prelude(w.event("response.output_item.added",
                            fmt::format("\"output_index\":0,\"item\":{{\"id\":\"{}\",\"type\":"
                                        "\"message\",\"status\":\"in_progress\",\"content\":[],"
                                        "\"role\":\"assistant\"}}",
                                        msg)));
            prelude(w.event("response.content_part.added",
                            where + ",\"part\":{\"type\":\"output_text\",\"annotations\":[],"
                                    "\"logprobs\":[],\"text\":\"\"}"));
            for (const auto& token : c.tokens)
                frames.push_back(
                    {StreamFrame::Kind::token,
                     w.event("response.output_text.delta",
                             where + ",\"delta\":" + json_string(token) + ",\"logprobs\":[]"),
                     1});
            std::string text = json_string(c.text());
            epilogue(w.event("response.output_text.done",
                             where + ",\"text\":" + text + ",\"logprobs\":[]"));
            epilogue(w.event("response.content_part.done",
                             where +
                                 ",\"part\":{\"type\":\"output_text\",\"annotations\":[],"
                                 "\"logprobs\":[],\"text\":" +
                                 text + "}"));
            epilogue(w.event("response.output_item.done",
                             "\"output_index\":0,\"item\":" + message_item(c, "completed")));
        }
        std::string status = terminal_status(c);
        epilogue(w.event(status == "completed" ? "response.completed" : "response.incomplete",
                         "\"response\":" + response(c, status, output_json(c, "completed"), true)));
        return frames;
    }

    std::string error_body(const ApiError& e, std::string_view id) const override {
        return chat_->error_body(e, id);
    }
    // A standalone error event, in the nested shape OpenAI sends (the SDK throws APIError).
    std::string stream_error_frame(const ApiError& e) const override {
        return fmt::format(
            "event: error\ndata: {{\"type\":\"error\",\"error\":{{\"type\":{},\"code\":{},"
            "\"message\":{},\"param\":{}}}}}\n\n",
            json_string(e.type.empty() ? "server_error" : e.type), nullable_string(e.code),
            json_string(e.message), nullable_string(e.param));
    }
    std::string models_body(const std::vector<ModelInfo>& models) const override {
        return chat_->models_body(models);
    }
    std::string model_body(const ModelInfo& m) const override { return chat_->model_body(m); }
    const Headers& common_headers() const override { return chat_->common_headers(); }
    std::string_view processing_header() const override { return chat_->processing_header(); }
    Headers rate_limit_headers(const std::vector<RateLimitWindow>& w) const override {
        return chat_->rate_limit_headers(w);
    }
    std::string_view models_owner() const override { return chat_->models_owner(); }
    ApiError status_error(int status, std::string_view model) const override {
        return chat_->status_error(status, model);
    }
    ApiError invalid_json(std::string_view detail) const override {
        return chat_->invalid_json(detail);
    }
    ApiError not_found(std::string_view m, std::string_view t) const override {
        return chat_->not_found(m, t);
    }
    ApiError method_not_allowed(std::string_view m, std::string_view t) const override {
        return chat_->method_not_allowed(m, t);
    }
    ApiError unknown_model(std::string_view model) const override {
        return chat_->unknown_model(model);
    }
    ApiError body_too_large(std::size_t limit) const override {
        return chat_->body_too_large(limit);
    }
    // No Responses-specific wording for a model without the feature has been found: chat's.
    ApiError feature_unsupported(std::string_view feature, std::string_view model) const override {
        return chat_->feature_unsupported(feature, model);
    }
    ApiError rate_limited(std::string_view model, bool tokens, long limit, long used,
                          double retry) const override {
        return chat_->rate_limited(model, tokens, limit, used, retry);
    }

    // ── client half: as openai-node's responses.create sends and reads it ──
    ClientRequest render_chat(const OutgoingChat& chat, std::string_view api_key) const override {
        ClientRequest r;
        r.path = std::string(chat_path());
        r.headers.emplace_back("content-type", "application/json");
        if (!api_key.empty())
            r.headers.emplace_back("authorization", "Bearer " + std::string(api_key));
        std::string content =
            fmt::format(R"([{{"type":"input_text","text":{}}})", json_string(chat.prompt));
        if (!chat.image_url.empty())
            content += fmt::format(R"(,{{"type":"input_image","image_url":{},"detail":"auto"}})",
                                   json_string(chat.image_url));
        content += "]";
        // max_output_tokens has a floor of 16 in this API.
        r.body = fmt::format(
            R"({{"model":{},"instructions":{},"input":[{{"role":"user","content":{}}}],"max_output_tokens":{},"store":false)",
            json_string(chat.model), json_string(chat.system), content,
            std::max<std::int64_t>(16, chat.max_tokens));
        if (chat.stream) r.body += R"(,"stream":true)";
        if (chat.tool) {
            r.body += fmt::format(
                R"(,"tool_choice":"required","tools":[{{"type":"function","name":{},"parameters":{},"strict":false}}])",
                json_string(chat.tool->name), schema_json(*chat.tool));
        }
        r.body += "}";
        return r;
    }

    ReadAnswer read_answer(bool stream, std::string_view body, bool body_complete) const override {
        if (!stream) {
            return read_json_answer(body, body_complete, [](const auto& o, ReadAnswer& out) {
                if (as_string(at(o, "object")) != "response") throw std::runtime_error("object");
                read_output(as_array(at(o, "output")), out);
                out.finish_reason = std::string(as_string(at(o, "status")));
                if (out.finish_reason == "failed") throw std::runtime_error("failed");
            });
        }
        // The deltas make the text; response.completed (or .incomplete) ends it; an error event
        // or response.failed breaks it. A stream that ends cleanly without its terminal event is
        // accepted with what came, as the SDK's responses.stream() resolves it.
        return read_sse_answer(
            body, body_complete, "", [](std::string_view name, const auto& o, ReadAnswer& out) {
                auto type = contains(o, "type") ? as_string(at(o, "type")) : std::string_view();
                if (name == "error" || type == "error" || contains(o, "error") ||
                    type == "response.failed")
                    return SseStep::broken;
                if (type == "response.output_text.delta" ||
                    type == "response.function_call_arguments.delta") {
                    out.text += json_text(at(o, "delta"));
                } else if (type == "response.completed" || type == "response.incomplete") {
                    out.finish_reason = std::string(as_string(at(at(o, "response"), "status")));
                    return SseStep::finished;
                }
                return SseStep::more;
            });
    }

    ReadError read_error(int status, std::string_view body) const override {
        return chat_->read_error(status, body);
    }

private:
    static std::string terminal_status(const Completion& c) {
        return c.finish == FinishReason::length ? "incomplete" : "completed";
    }

    static std::string message_item(const Completion& c, std::string_view status) {
        return fmt::format(
            "{{\"id\":\"{}\",\"type\":\"message\",\"status\":\"{}\",\"content\":[{{\"type\":"
            "\"output_text\",\"annotations\":[],\"logprobs\":[],\"text\":{}}}],\"role\":"
            "\"assistant\"}}",
            item_id("msg", c), status, json_string(c.text()));
    }

    static std::string function_call_item(const Completion& c, std::string_view status,
                                          std::string_view arguments) {
        return fmt::format(
            "{{\"id\":\"{}\",\"type\":\"function_call\",\"status\":\"{}\",\"arguments\":{},"
            "\"call_id\":{},\"name\":{}}}",
            item_id("fc", c), status, json_string(arguments), json_string(c.tool_call->id),
            json_string(c.tool_call->name));
    }

    static std::string output_json(const Completion& c, std::string_view status) {
        if (c.tool_call)
            return "[" + function_call_item(c, status, c.tool_call->arguments_json) + "]";
        return "[" + message_item(c, status) + "]";
    }

    // The response object, in the key order OpenAI sends it.
    static std::string response(const Completion& c, std::string_view status,
                                const std::string& output, bool with_usage) {
        std::string incomplete = status == "incomplete"
                                     ? std::string(R"({"reason":"max_output_tokens"})")
                                     : std::string("null");
        std::string usage =
            with_usage
                ? fmt::format(
                      R"({{"input_tokens":{},"input_tokens_details":{{"cached_tokens":0}},"output_tokens":{},"output_tokens_details":{{"reasoning_tokens":0}},"total_tokens":{}}})",
                      c.prompt_tokens, c.completion_tokens, c.prompt_tokens + c.completion_tokens)
                : std::string("null");
        return fmt::format(
            R"({{"id":{},"object":"response","created_at":{},"status":"{}","background":false,"error":null,"incomplete_details":{},"instructions":null,"max_output_tokens":null,"max_tool_calls":null,"model":{},"output":{},"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{{"effort":null,"summary":null}},"service_tier":"default","store":false,"temperature":1.0,"text":{{"format":{{"type":"text"}}}},"tool_choice":"auto","tools":[],"top_logprobs":0,"top_p":1.0,"truncation":"disabled","usage":{},"user":null,"metadata":{{}}}})",
            json_string(response_id(c)), c.created, status, incomplete, json_string(c.model),
            output, usage);
    }

    // A non-streamed response's output: the messages' output_text, or a function call's
    // arguments (what a tool request is answered with).
    template <class Array>
    static void read_output(const Array& output, ReadAnswer& out) {
        for (const auto& item : output) {
            const auto& io = as_object(item);
            auto type = as_string(at(io, "type"));
            if (type == "function_call") {
                out.text += json_text(at(io, "arguments"));
            } else if (type == "message") {
                for (const auto& part : as_array(at(io, "content"))) {
                    if (as_string(at(part, "type")) == "output_text")
                        out.text += json_text(at(part, "text"));
                }
            }
        }
    }

    std::unique_ptr<Dialect> chat_;
};

}  // namespace

std::unique_ptr<Dialect> make_openai_responses(Vendor) {
    return std::make_unique<OpenAiResponsesDialect>();
}

}  // namespace brownout::wire
