// The Gemini dialect's server half: the model and the stream flag in the URL, responses and
// google.rpc errors pretty-printed as Google's front end prints them, the SSE and JSON-array
// stream forms, and waits said in the body (RetryInfo).

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "wire/answer.h"
#include "wire/dialect.h"

using namespace brownout::wire;
namespace json = boost::json;

namespace {

std::unique_ptr<Dialect> gemini() {
    return make_dialect(DialectKind::gemini, Vendor::google);
}

ChatRequest gemini_request(const Dialect& d, std::string_view target, std::string_view body) {
    auto parsed = d.parse_routed(d.route("POST", target), body);
    REQUIRE(std::holds_alternative<ChatRequest>(parsed));
    return std::get<ChatRequest>(parsed);
}

constexpr std::string_view kBody = R"({"contents":[{"role":"user","parts":[{"text":"hi"}]}]})";

}  // namespace

TEST_CASE("gemini routes carry the model and the stream form in the URL", "[wire][gemini]") {
    auto d = gemini();
    auto r = d->route("POST", "/v1beta/models/gemini-2.5-pro:generateContent");
    CHECK(r.target == Route::Target::chat);
    CHECK(r.model == "gemini-2.5-pro");
    auto sse = d->route("POST", "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse");
    auto array = d->route("POST", "/v1beta/models/gemini-2.5-pro:streamGenerateContent");
    CHECK(sse.target == Route::Target::chat);
    CHECK(sse.endpoint != array.endpoint);
    CHECK(d->route("GET", "/v1beta/models").target == Route::Target::models);
    auto one = d->route("GET", "/v1beta/models/gemini-2.5-flash");
    CHECK(one.target == Route::Target::model);
    CHECK(one.model == "gemini-2.5-flash");
    CHECK(d->route("POST", "/v1beta/models/m:embedContent").target == Route::Target::not_found);
    CHECK(d->route("GET", "/v1beta/models/m:generateContent").target ==
          Route::Target::method_not_allowed);

    auto req =
        gemini_request(*d, "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse", kBody);
    CHECK(req.model == "gemini-2.5-pro");
    CHECK(req.stream);
    CHECK(d->stream_content_type_for(req) == "text/event-stream; charset=utf-8");
    auto arr = gemini_request(*d, "/v1beta/models/gemini-2.5-pro:streamGenerateContent", kBody);
    CHECK(d->stream_content_type_for(arr) == "application/json; charset=UTF-8");
    CHECK_FALSE(gemini_request(*d, "/v1beta/models/gemini-2.5-pro:generateContent", kBody).stream);
}

TEST_CASE("gemini digests a conversation as the other dialects do", "[wire][gemini]") {
    auto d = gemini();
    auto openai = make_dialect(DialectKind::openai, Vendor::openai);
    auto g =
        gemini_request(*d, "/v1beta/models/m:generateContent",
                       R"({"systemInstruction":{"parts":[{"text":"s"}]},)"
                       R"("contents":[{"role":"user","parts":[{"text":"hi"},)"
                       R"({"fileData":{"mimeType":"image/png","fileUri":"https://x/a.png"}}]}]})");
    auto o = std::get<ChatRequest>(openai->parse_chat(
        R"({"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":[)"
        R"({"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"https://x/a.png"}}]}]})"));
    CHECK(g.text_digest == o.text_digest);
    CHECK(g.image_digest == o.image_digest);
    CHECK(g.image_count == 1);
}

TEST_CASE("gemini errors are google.rpc statuses, pretty-printed, with their details",
          "[wire][gemini]") {
    auto d = gemini();
    CHECK(d->error_body(d->status_error(503, "m"), "") ==
          "{\n  \"error\": {\n    \"code\": 503,\n    \"message\": \"The model is overloaded. "
          "Please try again later.\",\n    \"status\": \"UNAVAILABLE\"\n  }\n}\n");
    // A key it does not take is a 400 with ErrorInfo API_KEY_INVALID; the client reads auth.
    auto key = d->status_error(401, "m");
    CHECK(key.status == 400);
    auto body = json::parse(d->error_body(key, "")).as_object();
    CHECK(body.at("error").at("details").as_array()[0].at("reason").as_string() ==
          "API_KEY_INVALID");
    CHECK(d->read_error(400, d->error_body(key, "")).klass == ErrorClass::auth);
    // A wait goes in RetryInfo, and the client half reads it back.
    auto quota = d->rate_limited("gemini-2.5-flash", false, 20, 20, 38.5);
    auto q = json::parse(d->error_body(quota, "")).as_object();
    const auto& details = q.at("error").at("details").as_array();
    REQUIRE(details.size() == 3);
    CHECK(details[1].at("violations").as_array()[0].at("quotaValue").as_string() == "20");
    CHECK(details[2].at("retryDelay").as_string() == "38.500s");
    auto read = d->read_error(429, d->error_body(quota, ""));
    CHECK(read.klass == ErrorClass::rate_limited);
    CHECK(read.type == "RESOURCE_EXHAUSTED");
    REQUIRE(read.retry_seconds);
    CHECK(*read.retry_seconds == 38.5);
    CHECK_FALSE(d->retry_hint_in_headers());
}

TEST_CASE("gemini streams: SSE events with CRLF, or one JSON array", "[wire][gemini]") {
    auto d = gemini();
    auto req = gemini_request(*d, "/v1beta/models/m:streamGenerateContent?alt=sse", kBody);
    auto c = generate_answer(3, req, {5, 5}, true, d->new_completion_id(9), 0);
    std::string sse;
    for (const auto& f : d->stream_frames(c, req)) sse += f.bytes;
    CHECK(sse.starts_with("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":"));
    CHECK(sse.find("\r\n\r\n") != std::string::npos);
    CHECK(sse.find("\"finishReason\":\"STOP\"") != std::string::npos);
    auto read = d->read_answer(true, sse, true);
    CHECK_FALSE(read.broken);
    CHECK(verify_answer(read.text, req) == Verdict::ok);
    CHECK(read.finish_reason == "STOP");

    auto array_req = gemini_request(*d, "/v1beta/models/m:streamGenerateContent", kBody);
    std::string array;
    for (const auto& f : d->stream_frames(c, array_req)) array += f.bytes;
    auto v = json::parse(array);  // the whole stream is one JSON array
    REQUIRE(v.is_array());
    CHECK(v.as_array().size() == c.tokens.size() + 1);
}
