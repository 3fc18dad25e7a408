#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "tests/support/parse_chat.h"
#include "wire/answer.h"
#include "wire/dialect.h"

using namespace brownout::wire;
using brownout::test::ok;
namespace json = boost::json;

namespace {

std::pair<std::string, json::object> event_of(const std::string& frame) {
    REQUIRE(frame.rfind("event: ", 0) == 0);
    auto nl = frame.find('\n');
    std::string name = frame.substr(7, nl - 7);
    REQUIRE(frame.compare(nl + 1, 6, "data: ") == 0);
    auto data = json::parse(frame.substr(nl + 7, frame.size() - nl - 9)).as_object();
    return {name, data};
}

}  // namespace

TEST_CASE("Anthropic requires model, max_tokens and messages, in its own words",
          "[anthropic][errors]") {
    auto d = make_dialect(DialectKind::anthropic, Vendor::anthropic);
    auto err = [&](const std::string& body) { return std::get<ApiError>(d->parse_chat(body)); };
    CHECK(err(R"({"max_tokens":10,"messages":[]})").message == "model: Field required");
    CHECK(err(R"({"model":"c","messages":[{"role":"user","content":"x"}]})").message ==
          "max_tokens: Field required");
    CHECK(err(R"({"model":"c","max_tokens":10})").message == "messages: Field required");
    CHECK(err("not json").type == "invalid_request_error");
}

TEST_CASE("an Anthropic error body has type error, an error object and request_id",
          "[anthropic][errors]") {
    auto d = make_dialect(DialectKind::anthropic, Vendor::anthropic);
    auto body = json::parse(d->error_body(d->status_error(529, "c"), "req_011CX")).as_object();
    CHECK(body.at("type").as_string() == "error");
    CHECK(body.at("error").as_object().at("type").as_string() == "overloaded_error");
    CHECK(body.at("error").as_object().at("message").as_string() == "Overloaded");
    CHECK(body.at("request_id").as_string() == "req_011CX");
}

TEST_CASE("an Anthropic message has content blocks, stop_reason and usage", "[anthropic]") {
    auto d = make_dialect(DialectKind::anthropic, Vendor::anthropic);
    auto req = ok(
        *d,
        R"({"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[{"role":"user","content":"Hello"}]})");
    auto c = generate_answer(1, req, {}, true, "msg_01", 0);
    auto body = json::parse(d->completion_body(c)).as_object();
    CHECK(body.at("type").as_string() == "message");
    CHECK(body.at("role").as_string() == "assistant");
    CHECK(body.at("content").as_array()[0].as_object().at("text").as_string() == c.text());
    CHECK(body.at("stop_reason").as_string() == "end_turn");
    CHECK(body.at("usage").as_object().at("output_tokens").as_int64() == c.completion_tokens);
}

TEST_CASE("an Anthropic stream follows the real event sequence", "[anthropic][sse]") {
    auto d = make_dialect(DialectKind::anthropic, Vendor::anthropic);
    auto req = ok(
        *d,
        R"({"model":"claude-sonnet-4-5","max_tokens":1024,"stream":true,"messages":[{"role":"user","content":"Hello"}]})");
    auto c = generate_answer(1, req, {4, 4}, true, "msg_01", 0);
    auto frames = d->stream_frames(c, req);
    std::vector<std::string> names;
    std::string text;
    for (const auto& f : frames) {
        auto [name, data] = event_of(f.bytes);
        CHECK(data.at("type").as_string() == name);
        names.push_back(name);
        if (name == "content_block_delta")
            text += data.at("delta").as_object().at("text").as_string();
        if (name == "message_delta")
            CHECK(data.at("usage").as_object().at("output_tokens").as_int64() == 4);
    }
    CHECK(names == std::vector<std::string>{"message_start", "content_block_start", "ping",
                                            "content_block_delta", "content_block_delta",
                                            "content_block_delta", "content_block_delta",
                                            "content_block_stop", "message_delta", "message_stop"});
    CHECK(text == c.text());
}

TEST_CASE("an in-band Anthropic stream error is an error event", "[anthropic][sse]") {
    auto d = make_dialect(DialectKind::anthropic, Vendor::anthropic);
    CHECK(d->stream_error_frame(d->status_error(529, "c")) ==
          "event: error\ndata: "
          "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}"
          "}\n\n");
}

TEST_CASE("Anthropic tool_choice any yields a tool_use block", "[anthropic][tools]") {
    auto d = make_dialect(DialectKind::anthropic, Vendor::anthropic);
    auto req = ok(
        *d,
        R"({"model":"c","max_tokens":100,"tool_choice":{"type":"any"},"messages":[{"role":"user","content":"x"}],
        "tools":[{"name":"get_weather","input_schema":{"type":"object","properties":{"location":{"type":"string"}}}}]})");
    auto c = generate_answer(1, req, {}, true, "msg_01", 0);
    auto body = json::parse(d->completion_body(c)).as_object();
    auto& block = body.at("content").as_array()[0].as_object();
    CHECK(block.at("type").as_string() == "tool_use");
    CHECK(block.at("input").as_object().contains("location"));
    CHECK(body.at("stop_reason").as_string() == "tool_use");
}
