// The Ollama dialect's server half: routes, NDJSON lines in Go's field order, the final line's
// counts and durations, /api/generate, /api/tags and Ollama's one-string errors.

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "wire/answer.h"
#include "wire/dialect.h"

using namespace brownout::wire;
namespace json = boost::json;

namespace {

std::unique_ptr<Dialect> ollama() {
    return make_dialect(DialectKind::ollama, Vendor::ollama);
}

ChatRequest ollama_request(const Dialect& d, const Route& route, std::string_view body) {
    auto parsed = d.parse_routed(route, body);
    REQUIRE(std::holds_alternative<ChatRequest>(parsed));
    return std::get<ChatRequest>(parsed);
}

ApiError parse_error(const Dialect& d, const Route& route, std::string_view body) {
    auto parsed = d.parse_routed(route, body);
    REQUIRE(std::holds_alternative<ApiError>(parsed));
    return std::get<ApiError>(parsed);
}

}  // namespace

TEST_CASE("ollama routes: /api/chat and /api/generate, /api/tags", "[wire][ollama]") {
    auto d = ollama();
    auto chat = d->route("POST", "/api/chat");
    CHECK(chat.target == Route::Target::chat);
    auto generate = d->route("POST", "/api/generate");
    CHECK(generate.target == Route::Target::chat);
    CHECK(generate.endpoint != chat.endpoint);
    CHECK(d->route("GET", "/api/tags").target == Route::Target::models);
    CHECK(d->route("GET", "/api/chat").target == Route::Target::method_not_allowed);
    CHECK(d->route("POST", "/v1/chat/completions").target == Route::Target::not_found);
    CHECK(d->request_id_header().empty());
    CHECK(d->stream_content_type() == "application/x-ndjson");
}

TEST_CASE("ollama streams unless told not to, and reads options and images", "[wire][ollama]") {
    auto d = ollama();
    auto chat = d->route("POST", "/api/chat");
    auto r = ollama_request(*d, chat,
                            R"({"model":"llama3.2","messages":[{"role":"user","content":"hi"}]})");
    CHECK(r.stream);
    CHECK(r.model == "llama3.2");
    r = ollama_request(*d, chat,
                       R"({"model":"llama3.2","stream":false,"options":{"num_predict":7},)"
                       R"("messages":[{"role":"user","content":"hi","images":["aGk="]}]})");
    CHECK_FALSE(r.stream);
    CHECK(r.max_tokens == 7);
    CHECK(r.image_count == 1);
    // /api/generate digests its prompt as the chat form of the same question.
    auto g = ollama_request(*d, d->route("POST", "/api/generate"),
                            R"({"model":"llama3.2","system":"s","prompt":"hi","stream":false})");
    auto c = ollama_request(*d, chat,
                            R"({"model":"llama3.2","messages":[{"role":"system","content":"s"},)"
                            R"({"role":"user","content":"hi"}]})");
    CHECK(g.text_digest == c.text_digest);
}

TEST_CASE("ollama's errors: one string under \"error\", the status says the rest",
          "[wire][ollama]") {
    auto d = ollama();
    auto chat = d->route("POST", "/api/chat");
    auto e = parse_error(*d, chat, R"({"messages":[]})");
    CHECK(e.status == 400);
    CHECK(e.message == "model is required");
    CHECK(parse_error(*d, chat, "").message == "missing request body");
    CHECK(parse_error(*d, chat, "{\"model\":").status == 400);
    CHECK(d->error_body(d->unknown_model("qwen3"), "") == R"({"error":"model 'qwen3' not found"})");
    CHECK(d->unknown_model("qwen3").status == 404);
    auto busy = d->status_error(503, "llama3.2");
    CHECK(d->error_body(busy, "") ==
          R"({"error":"server busy, please try again.  maximum pending requests exceeded"})");
    CHECK(d->feature_unsupported("tools", "gemma").message ==
          "registry.ollama.ai/library/gemma:latest does not support tools");
    CHECK(d->stream_error_frame(busy).back() == '\n');
    // A text model passes over an image instead of refusing it.
    CHECK_FALSE(d->refuses_images_without_vision());
    CHECK(make_dialect(DialectKind::openai, Vendor::openai)->refuses_images_without_vision());
}

TEST_CASE("ollama NDJSON: one line a token in Go's field order, then the done line",
          "[wire][ollama]") {
    auto d = ollama();
    auto req =
        ollama_request(*d, d->route("POST", "/api/chat"),
                       R"({"model":"llama3.2","messages":[{"role":"user","content":"hi"}]})");
    auto c = generate_answer(3, req, {5, 5}, true, "", 1746700000);
    c.prompt_eval_ns = 400'000'000;
    c.eval_ns = 80'000'000;
    auto frames = d->stream_frames(c, req);
    REQUIRE(frames.size() == c.tokens.size() + 1);
    CHECK(frames[0].bytes.starts_with(
        R"({"model":"llama3.2","created_at":"2025-05-08T10:26:40Z","message":{"role":"assistant","content":")"));
    CHECK(frames[0].bytes.ends_with(R"("},"done":false})"
                                    "\n"));
    const auto& last = frames.back().bytes;
    CHECK(last.find(R"("content":""},"done":true,"done_reason":"stop","total_duration":)") !=
          std::string::npos);
    auto o = json::parse(last).as_object();
    CHECK(o.at("eval_count").as_int64() == c.completion_tokens);
    CHECK(o.at("prompt_eval_count").as_int64() == c.prompt_tokens);
    CHECK(o.at("eval_duration").as_int64() == 80'000'000);
    CHECK(o.at("prompt_eval_duration").as_int64() == 400'000'000);
    CHECK(o.at("total_duration").as_int64() >= 480'000'000);
    // Non-streamed: the same fields in one object.
    auto whole = json::parse(d->completion_body(c)).as_object();
    CHECK(whole.at("message").at("content").as_string() == c.text());
    CHECK(whole.at("done").as_bool());
}

TEST_CASE("ollama /api/generate answers in \"response\" with a token context", "[wire][ollama]") {
    auto d = ollama();
    auto req = ollama_request(*d, d->route("POST", "/api/generate"),
                              R"({"model":"llama3.2","prompt":"hi","stream":false})");
    auto c = generate_answer(3, req, {5, 5}, true, "", 0);
    auto o = json::parse(d->completion_body(c)).as_object();
    CHECK(o.at("response").as_string() == c.text());
    CHECK_FALSE(o.contains("message"));
    CHECK(o.at("context").is_array());
    auto read = d->read_answer(false, d->completion_body(c), true);
    CHECK(read.text == c.text());
    CHECK(verify_answer(read.text, req) == Verdict::ok);
}

TEST_CASE("ollama tool calls: arguments as an object, with an id and an index", "[wire][ollama]") {
    auto d = ollama();
    OutgoingChat chat;
    chat.model = "llama3.2";
    chat.prompt = "Where is order 7?";
    chat.tool = ToolSpec{"lookup_order", {{"order_id", "string"}}};
    auto req = ollama_request(*d, d->route("POST", "/api/chat"), d->render_chat(chat, "").body);
    auto c = generate_answer(3, req, {5, 5}, true, "", 0);
    REQUIRE(c.tool_call);
    auto o = json::parse(d->completion_body(c)).as_object();
    const auto& call = o.at("message").at("tool_calls").as_array()[0].as_object();
    CHECK(call.at("id").as_string().starts_with("call_"));
    CHECK(call.at("id").as_string().size() == 13);
    CHECK(call.at("function").at("index").as_int64() == 0);
    CHECK(call.at("function").at("arguments").is_object());
    CHECK(d->read_answer(false, d->completion_body(c), true).text == c.tool_call->arguments_json);
}

TEST_CASE("an ollama stream without its done line is broken, as ollama-js throws",
          "[wire][ollama]") {
    auto d = ollama();
    auto req =
        ollama_request(*d, d->route("POST", "/api/chat"),
                       R"({"model":"llama3.2","messages":[{"role":"user","content":"hi"}]})");
    auto c = generate_answer(3, req, {5, 5}, true, "", 0);
    std::string body;
    for (const auto& f : d->stream_frames(c, req)) body += f.bytes;
    CHECK_FALSE(d->read_answer(true, body, true).broken);
    std::string without_done = body.substr(0, body.rfind('{'));
    CHECK(d->read_answer(true, without_done, true).broken);
    // Blank lines are passed over.
    CHECK_FALSE(d->read_answer(true, "\n" + body, true).broken);
}

TEST_CASE("ollama lists its models at /api/tags", "[wire][ollama]") {
    auto d = ollama();
    auto o = json::parse(d->models_body({{"llama3.2", 1715367049, "library"}})).as_object();
    const auto& m = o.at("models").as_array()[0].as_object();
    CHECK(m.at("name").as_string() == "llama3.2");
    CHECK(m.at("model").as_string() == "llama3.2");
    CHECK(m.at("details").at("format").as_string() == "gguf");
    CHECK(m.at("details").at("family").as_string() == "llama");
}
