#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <tuple>

#include "core/text.h"
#include "tests/support/parse_chat.h"
#include "wire/answer.h"
#include "wire/dialect.h"

using namespace brownout::wire;
using brownout::test::ok;
namespace json = boost::json;

namespace {

ApiError error_for(const Dialect& d, const std::string& body) {
    auto r = d.parse_chat(body);
    REQUIRE(std::holds_alternative<ApiError>(r));
    return std::get<ApiError>(r);
}

// Parses one SSE "data: {...}" event of the OpenAI stream.
json::object data_of(const std::string& frame) {
    REQUIRE(frame.rfind("data: ", 0) == 0);
    REQUIRE(frame.size() > 8);
    REQUIRE(frame.substr(frame.size() - 2) == "\n\n");
    return json::parse(frame.substr(6, frame.size() - 8)).as_object();
}

}  // namespace

TEST_CASE("OpenAI requests are read into the neutral form", "[openai]") {
    auto d = make_dialect(DialectKind::openai, Vendor::openai);
    auto r = ok(*d, R"({"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},
        "max_completion_tokens":100,"messages":[{"role":"user","content":[{"type":"text","text":"hi"},
        {"type":"image_url","image_url":{"url":"https://example.com/cat.png","detail":"low"}}]}]})");
    CHECK(r.model == "gpt-4o-mini");
    CHECK(r.stream);
    CHECK(r.include_usage);
    CHECK(r.max_tokens == 100);
    CHECK(r.image_count == 1);
    CHECK(r.prompt_tokens > 85);
    CHECK(ok(*d, R"({"model":"m","max_tokens":7,"messages":[{"role":"user","content":"x"}]})")
              .max_tokens == 7);
}

TEST_CASE("bad OpenAI requests get OpenAI's own errors", "[openai][errors]") {
    auto d = make_dialect(DialectKind::openai, Vendor::openai);
    SECTION("malformed JSON") {
        auto e = error_for(*d, "{\"model\":");
        CHECK(e.status == 400);
        CHECK_THAT(e.message,
                   Catch::StartsWith("We could not parse the JSON body of your request."));
    }
    SECTION("missing model") {
        CHECK(error_for(*d, R"({"messages":[]})").message == "you must provide a model parameter");
    }
    SECTION("missing messages") {
        auto e = error_for(*d, R"({"model":"gpt-4o-mini"})");
        CHECK(e.param == "messages");
        CHECK(e.code == "missing_required_parameter");
    }
    SECTION("max_tokens below one") {
        auto e = error_for(
            *d, R"({"model":"m","max_tokens":0,"messages":[{"role":"user","content":"x"}]})");
        CHECK(e.code == "integer_below_min_value");
        CHECK(e.param == "max_tokens");
    }
    SECTION("stream_options without stream") {
        CHECK(
            error_for(
                *d,
                R"({"model":"m","stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]})")
                .param == "stream_options");
    }
    SECTION("JSON nested deeper than the limit") {
        std::string deep(200, '[');
        CHECK(error_for(*d, R"({"model":"m","messages":)" + deep).status == 400);
    }
}

TEST_CASE("an OpenAI error body has message, type, param and code", "[openai][errors]") {
    auto d = make_dialect(DialectKind::openai, Vendor::openai);
    auto body = json::parse(d->error_body(d->unknown_model("gpt-9"), "req_1")).as_object();
    auto& e = body.at("error").as_object();
    CHECK(e.at("message").as_string() ==
          "The model `gpt-9` does not exist or you do not have access to it.");
    CHECK(e.at("type").as_string() == "invalid_request_error");
    CHECK(e.at("param").is_null());
    CHECK(e.at("code").as_string() == "model_not_found");
}

TEST_CASE(
    "ids: OpenAI's req_ and chatcmpl- with hex digits, DeepSeek's completion id a UUID's form",
    "[openai][deepseek]") {
    auto hex = [](std::string_view s) {
        return !s.empty() && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
    };
    auto openai = make_dialect(DialectKind::openai, Vendor::openai);
    auto deepseek = make_dialect(DialectKind::openai, Vendor::deepseek);
    for (std::uint64_t r : {0ULL, 1ULL, 0x0123456789abcdefULL, ~0ULL}) {
        auto request_id = openai->new_request_id(r);
        REQUIRE(request_id.size() == 36);
        CHECK(request_id.rfind("req_", 0) == 0);
        CHECK(hex(std::string_view(request_id).substr(4)));
        using brownout::to_hex;  // the digits as they have always been laid out
        CHECK(request_id == "req_" + to_hex(r) + to_hex(r * 0x9e3779b97f4a7c15ULL));
        auto completion = openai->new_completion_id(r);
        REQUIRE(completion.size() == 38);
        CHECK(completion.rfind("chatcmpl-", 0) == 0);
        CHECK(hex(std::string_view(completion).substr(9)));
        CHECK(completion == "chatcmpl-" + to_hex(r, 16) + to_hex(r * 0x2545f4914f6cdd1dULL, 13));
        auto uuid = deepseek->new_completion_id(r);
        REQUIRE(uuid.size() == 36);
        CHECK(uuid == to_hex(r >> 32, 8) + "-" + to_hex(r >> 16, 4) + "-" + to_hex(r, 4) + "-" +
                          to_hex(r >> 48, 4) + "-" + to_hex(r * 31, 12));
        for (std::size_t at : {8U, 13U, 18U, 23U}) CHECK(uuid[at] == '-');
        for (auto [from, n] : {std::pair{0, 8}, {9, 4}, {14, 4}, {19, 4}, {24, 12}})
            CHECK(hex(std::string_view(uuid).substr(static_cast<std::size_t>(from),
                                                    static_cast<std::size_t>(n))));
    }
    CHECK(openai->new_request_id(1) != openai->new_request_id(2));
}

TEST_CASE("DeepSeek speaks the OpenAI shape with its own wording", "[openai][deepseek]") {
    auto d = make_dialect(DialectKind::openai, Vendor::deepseek);
    CHECK(d->status_error(402, "deepseek-chat").message == "Insufficient Balance");
    CHECK_THAT(d->feature_unsupported("vision", "deepseek-chat").message,
               Catch::Contains("unknown variant `image_url`"));
    auto models = json::parse(d->models_body({{"deepseek-chat", 1, "deepseek"}})).as_object();
    CHECK_FALSE(models.at("data").as_array()[0].as_object().contains("created"));
}

TEST_CASE("a non-streamed OpenAI completion has every required field", "[openai]") {
    auto d = make_dialect(DialectKind::openai, Vendor::openai);
    auto req = ok(*d, R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]})");
    auto c = generate_answer(1, req, {}, true, "chatcmpl-1", 1741570283);
    auto body = json::parse(d->completion_body(c)).as_object();
    CHECK(body.at("object").as_string() == "chat.completion");
    CHECK(body.at("created").as_int64() == 1741570283);
    auto& choice = body.at("choices").as_array()[0].as_object();
    CHECK(choice.at("finish_reason").as_string() == "stop");
    CHECK(choice.at("logprobs").is_null());
    CHECK(choice.at("message").as_object().at("content").as_string() == c.text());
    auto& usage = body.at("usage").as_object();
    CHECK(usage.at("completion_tokens").as_int64() == c.completion_tokens);
    CHECK(usage.at("total_tokens").as_int64() == c.completion_tokens + c.prompt_tokens);
}

TEST_CASE("an OpenAI stream: role chunk, one chunk a token, finish chunk, usage chunk, then DONE",
          "[openai][sse]") {
    auto d = make_dialect(DialectKind::openai, Vendor::openai);
    auto req = ok(
        *d,
        R"({"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]})");
    auto c = generate_answer(1, req, {5, 5}, true, "chatcmpl-1", 1);
    auto frames = d->stream_frames(c, req);
    REQUIRE(frames.size() == 1 + 5 + 3);
    auto first = data_of(frames[0].bytes);
    CHECK(first.at("choices")
              .as_array()[0]
              .as_object()
              .at("delta")
              .as_object()
              .at("role")
              .as_string() == "assistant");
    CHECK(first.at("usage").is_null());
    std::string streamed;
    int tokens = 0;
    for (std::size_t i = 1; i <= 5; ++i) {
        auto chunk = data_of(frames[i].bytes);
        CHECK(chunk.at("id").as_string() == "chatcmpl-1");
        streamed += chunk.at("choices")
                        .as_array()[0]
                        .as_object()
                        .at("delta")
                        .as_object()
                        .at("content")
                        .as_string();
        tokens += frames[i].tokens;
    }
    CHECK(streamed == c.text());
    CHECK(tokens == c.completion_tokens);
    auto finish = data_of(frames[6].bytes);
    CHECK(finish.at("choices").as_array()[0].as_object().at("finish_reason").as_string() == "stop");
    auto usage = data_of(frames[7].bytes);
    CHECK(usage.at("choices").as_array().empty());
    CHECK(usage.at("usage").as_object().at("completion_tokens").as_int64() == 5);
    CHECK(frames[8].bytes == "data: [DONE]\n\n");
    for (const auto& f : frames) CHECK(f.bytes.find("event:") == std::string::npos);
}

TEST_CASE("without include_usage there is no usage chunk and no usage field", "[openai][sse]") {
    auto d = make_dialect(DialectKind::openai, Vendor::openai);
    auto req = ok(*d, R"({"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]})");
    auto frames = d->stream_frames(generate_answer(1, req, {3, 3}, true, "x", 1), req);
    CHECK(frames.size() == 1 + 3 + 2);
    for (const auto& f : frames) CHECK(f.bytes.find("usage") == std::string::npos);
}

TEST_CASE("an in-band OpenAI stream error is a data line with an error object", "[openai][sse]") {
    auto d = make_dialect(DialectKind::openai, Vendor::openai);
    auto frame = d->stream_error_frame(d->status_error(500, "m"));
    auto body = data_of(frame);
    CHECK(body.at("error").as_object().at("type").as_string() == "server_error");
}

// The vendors' wordings are a table each (openai_chat.cpp, kOpenAiVoice and kDeepSeekVoice);
// these are what they said when they were code, field for field.
TEST_CASE("OpenAI and DeepSeek word the same refusals each their own way", "[openai][errors]") {
    auto openai = make_dialect(DialectKind::openai, Vendor::openai);
    auto deepseek = make_dialect(DialectKind::openai, Vendor::deepseek);
    auto fields = [](const ApiError& e) {
        return std::make_tuple(e.status, e.type, e.code, e.param, e.message);
    };
    using Said = std::tuple<int, std::string, std::string, std::string, std::string>;
    SECTION("a model that does not exist") {
        CHECK(fields(openai->unknown_model("gpt-9")) ==
              Said{404, "invalid_request_error", "model_not_found", "",
                   "The model `gpt-9` does not exist or you do not have access to it."});
        CHECK(fields(deepseek->unknown_model("deepseek-r9")) ==
              Said{400, "invalid_request_error", "invalid_request_error", "", "Model Not Exist"});
    }
    SECTION("a feature the model lacks") {
        CHECK(fields(openai->feature_unsupported("vision", "o3-mini")) ==
              Said{400, "invalid_request_error", "", "messages",
                   "Invalid content type. image_url is only supported by certain models. The "
                   "model `o3-mini` does not support image inputs."});
        CHECK(fields(deepseek->feature_unsupported("vision", "deepseek-chat")) ==
              Said{400, "invalid_request_error", "invalid_request_error", "",
                   "Failed to deserialize the JSON body into the target type: messages[0]: "
                   "unknown variant `image_url`, expected `text`"});
        for (const auto& d : {openai.get(), deepseek.get()}) {
            CHECK(fields(d->feature_unsupported("tools", "m")) ==
                  Said{400, "invalid_request_error", "", "tools",
                       "tools is not supported with the model `m`."});
            CHECK(fields(d->feature_unsupported("stream", "m")) ==
                  Said{400, "invalid_request_error", "unsupported_value", "stream",
                       "Unsupported value: 'stream' does not support true with the model `m`."});
            CHECK(fields(d->feature_unsupported("audio", "m")) ==
                  Said{400, "invalid_request_error", "", "", "audio is not supported."});
        }
    }
    SECTION("a rate limit: OpenAI says which and how much, DeepSeek only that it is one") {
        CHECK(fields(openai->rate_limited("gpt-4o-mini", false, 500, 500, 1.5)) ==
              Said{429, "requests", "rate_limit_exceeded", "",
                   "Rate limit reached for gpt-4o-mini in organization org-brownout on requests "
                   "per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 1.5s. "
                   "Visit https://platform.openai.com/account/rate-limits to learn more."});
        CHECK(std::get<1>(fields(openai->rate_limited("m", true, 1000, 990, 0.25))) == "tokens");
        CHECK_THAT(openai->rate_limited("m", true, 1000, 990, 0.25).message,
                   Catch::Contains("on tokens per min (TPM): Limit 1000, Used 990") &&
                       Catch::Contains("try again in 0.25s"));
        CHECK(fields(deepseek->rate_limited("deepseek-chat", false, 500, 500, 1.5)) ==
              Said{429, "rate_limit_error", "rate_limit_exceeded", "", "Rate Limit Reached"});
    }
    SECTION("every wording renders: no brace in a message that is not a placeholder") {
        for (const auto& d : {openai.get(), deepseek.get()}) {
            for (int status = 400; status < 600; ++status) {
                INFO(status);
                CHECK_NOTHROW(d->status_error(status, "m{1}"));
            }
            CHECK_NOTHROW(d->invalid_json(""));
            CHECK_NOTHROW(d->rate_limited("m{1}", true, 1, 1, 1));
            for (const auto* f : {"vision", "tools", "stream", "audio"})
                CHECK_NOTHROW(d->feature_unsupported(f, "m{1}"));
        }
        CHECK(openai->unknown_model("m{1}").message ==
              "The model `m{1}` does not exist or you do not have access to it.");
    }
    SECTION("a body that is not JSON, and a status of no table's") {
        CHECK(fields(deepseek->invalid_json("")) ==
              Said{400, "invalid_request_error", "invalid_request_error", "",
                   "Failed to parse the request body as JSON"});
        CHECK(fields(openai->status_error(418, "m")) ==
              Said{418, "invalid_request_error", "", "", "Bad request."});
        CHECK(fields(deepseek->status_error(599, "m")) ==
              Said{599, "server_error", "", "",
                   "The server had an error while processing your request. Sorry about that!"});
    }
}

TEST_CASE("request ids, completion ids and the verification tag keep their forms",
          "[wire][openai]") {
    // Pinned from the formulas they replaced (fmt over to_hex): every journal and answer shows
    // them, and the tag is what verification compares.
    CHECK(make_dialect(DialectKind::openai, Vendor::openai)->new_request_id(0x0123456789abcdef) ==
          "req_0123456789abcdef0c93a7b79aeda89b");
    CHECK(
        make_dialect(DialectKind::openai, Vendor::openai)->new_completion_id(0x0123456789abcdef) ==
        "chatcmpl-0123456789abcdef5c7fa8b11a713");
    CHECK(make_dialect(DialectKind::openai, Vendor::deepseek)
              ->new_completion_id(0x0123456789abcdef) == "01234567-89ab-cdef-0123-6789abcdeff1");
    ChatRequest r;
    r.text_digest = 0x1122334455667788;
    r.image_digest = 0xabcd;
    auto tag = verification_tag(r, false, "body");
    CHECK(tag.starts_with("[bo:55667788-0000-"));
    CHECK(tag.size() == 4 + 8 + 1 + 4 + 1 + 4 + 1);
    CHECK(tag.back() == ']');
    CHECK(verification_tag(r, true, "body").starts_with("[bo:55667788-abcd-"));
    CHECK(verification_tag(r, true, "body").substr(18) == tag.substr(18));  // the body's part
}
