// The Responses API: served by the OpenAI chat dialect at /v1/responses (not by DeepSeek's), its
// response object, the semantic event stream with sequence numbers, and its error event.

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "wire/answer.h"
#include "wire/dialect.h"

using namespace brownout::wire;
namespace json = boost::json;

namespace {

ChatRequest responses_request(const Dialect& d, std::string_view body) {
    auto parsed = d.parse_routed(d.route("POST", "/v1/responses"), body);
    REQUIRE(std::holds_alternative<ChatRequest>(parsed));
    return std::get<ChatRequest>(parsed);
}

}  // namespace

TEST_CASE("OpenAI serves /v1/responses beside chat completions; DeepSeek does not",
          "[wire][responses]") {
    auto openai = make_dialect(DialectKind::openai, Vendor::openai);
    auto deepseek = make_dialect(DialectKind::openai, Vendor::deepseek);
    CHECK(openai->route("POST", "/v1/responses").target == Route::Target::chat);
    CHECK(openai->route("GET", "/v1/responses").target == Route::Target::method_not_allowed);
    CHECK(deepseek->route("POST", "/v1/responses").target == Route::Target::not_found);
    CHECK(openai->route("POST", "/v1/chat/completions").endpoint !=
          openai->route("POST", "/v1/responses").endpoint);
}

TEST_CASE("a Responses request digests like the same chat request", "[wire][responses]") {
    auto openai = make_dialect(DialectKind::openai, Vendor::openai);
    auto r = responses_request(
        *openai,
        R"({"model":"gpt-4o-mini","instructions":"s","input":[{"role":"user","content":[)"
        R"({"type":"input_text","text":"hi"},{"type":"input_image","image_url":"https://x/a.png"}]}],)"
        R"("max_output_tokens":64,"stream":true})");
    auto chat = std::get<ChatRequest>(openai->parse_chat(
        R"({"model":"gpt-4o-mini","messages":[{"role":"system","content":"s"},{"role":"user","content":[)"
        R"({"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"https://x/a.png"}}]}]})"));
    CHECK(r.text_digest == chat.text_digest);
    CHECK(r.image_digest == chat.image_digest);
    CHECK(r.stream);
    CHECK(r.max_tokens == 64);
    auto missing = openai->parse_routed(openai->route("POST", "/v1/responses"), R"({"input":"x"})");
    REQUIRE(std::holds_alternative<ApiError>(missing));
    CHECK(std::get<ApiError>(missing).code == "missing_required_parameter");
}

TEST_CASE("the Responses stream: semantic events numbered from 0, ending in response.completed",
          "[wire][responses]") {
    auto openai = make_dialect(DialectKind::openai, Vendor::openai);
    auto req = responses_request(*openai, R"({"model":"gpt-4o-mini","input":"hi","stream":true})");
    auto c = generate_answer(2, req, {5, 5}, true, "chatcmpl-x", 0);
    std::vector<std::string> types;
    int expected = 0;
    std::string body;
    for (const auto& f : openai->stream_frames(c, req)) {
        body += f.bytes;
        auto data = f.bytes.substr(f.bytes.find("data: ") + 6);
        auto o = json::parse(data).as_object();
        types.emplace_back(o.at("type").as_string());
        CHECK(o.at("sequence_number").as_int64() == expected++);
        CHECK(f.bytes.starts_with("event: " + types.back() + "\n"));
    }
    CHECK(types.front() == "response.created");
    CHECK(types.back() == "response.completed");
    CHECK(std::count(types.begin(), types.end(), "response.output_text.delta") ==
          static_cast<long>(c.tokens.size()));
    auto read =
        make_dialect(DialectKind::openai_responses, Vendor::openai)->read_answer(true, body, true);
    CHECK_FALSE(read.broken);
    CHECK(verify_answer(read.text, req) == Verdict::ok);
    // A capped answer ends in response.incomplete.
    auto capped = responses_request(
        *openai, R"({"model":"gpt-4o-mini","input":"hi","stream":true,"max_output_tokens":16})");
    auto short_answer = generate_answer(2, capped, {40, 40}, true, "chatcmpl-y", 0);
    CHECK(openai->stream_frames(short_answer, capped)
              .back()
              .bytes.starts_with("event: response.incomplete\n"));
    // The in-band error is a standalone error event, in the nested shape.
    auto frame = openai->stream_error_frame_for(openai->status_error(500, "m"), req);
    CHECK(frame.starts_with(
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"server_error\""));
}

TEST_CASE("the non-streamed response object", "[wire][responses]") {
    auto openai = make_dialect(DialectKind::openai, Vendor::openai);
    auto req = responses_request(*openai, R"({"model":"gpt-4o-mini","input":"hi"})");
    auto c = generate_answer(2, req, {5, 5}, true, "chatcmpl-z", 7);
    auto o = json::parse(openai->completion_body(c)).as_object();
    CHECK(o.at("object").as_string() == "response");
    CHECK(o.at("id").as_string().starts_with("resp_"));
    CHECK(o.at("status").as_string() == "completed");
    CHECK(o.at("output").as_array()[0].at("content").as_array()[0].at("text").as_string() ==
          c.text());
    CHECK(o.at("usage").at("output_tokens").as_int64() == c.completion_tokens);
}
