// Reading answers the way the built-in stacks do: JSON bodies and SSE streams of both dialects.

#include "harness/transport.h"

#include <catch2/catch.hpp>

#include "mockprovider/answer.h"
#include "mockprovider/dialect.h"

using namespace brownout;
using namespace brownout::harness;
using Kind = AttemptResult::Kind;

namespace {

std::string stream_of(mock::DialectKind kind, const mock::ChatRequest& req,
                      const mock::Completion& c) {
    auto d = mock::make_dialect(
        kind, kind == mock::DialectKind::openai ? mock::Vendor::openai : mock::Vendor::anthropic);
    std::string body;
    for (const auto& f : d->stream_frames(c, req)) body += f.bytes;
    return body;
}

}  // namespace

TEST_CASE("streams of both dialects are read back into the answer text", "[transport]") {
    auto openai = mock::make_dialect(mock::DialectKind::openai, mock::Vendor::openai);
    auto req = std::get<mock::ChatRequest>(openai->parse_chat(
        R"({"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]})"));
    auto c = mock::generate_answer(1, req, {6, 6}, true, "id", 0);
    for (auto kind : {mock::DialectKind::openai, mock::DialectKind::anthropic}) {
        AttemptResult r;
        read_answer(kind, true, stream_of(kind, req, c), true, r);
        CHECK(r.kind == Kind::answer);
        CHECK(r.text == c.text());
    }
}

TEST_CASE("a stream cut mid-way or broken by an error event is a broken stream", "[transport]") {
    auto openai = mock::make_dialect(mock::DialectKind::openai, mock::Vendor::openai);
    auto req = std::get<mock::ChatRequest>(openai->parse_chat(
        R"({"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]})"));
    auto c = mock::generate_answer(1, req, {6, 6}, true, "id", 0);
    std::string full = stream_of(mock::DialectKind::openai, req, c);
    AttemptResult cut;
    read_answer(mock::DialectKind::openai, true, full.substr(0, full.size() / 2), false, cut);
    CHECK(cut.kind == Kind::broken_stream);
    AttemptResult error;
    read_answer(mock::DialectKind::openai, true, "data: {\"error\":{\"message\":\"boom\"}}\n\n",
                true, error);
    CHECK(error.kind == Kind::broken_stream);
    AttemptResult overloaded;
    read_answer(mock::DialectKind::anthropic, true,
                "event: error\ndata: "
                "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":"
                "\"Overloaded\"}}\n\n",
                true, overloaded);
    CHECK(overloaded.kind == Kind::broken_stream);
}

TEST_CASE("a stream that ends cleanly without [DONE] is accepted, as the SDKs do", "[transport]") {
    auto openai = mock::make_dialect(mock::DialectKind::openai, mock::Vendor::openai);
    auto req = std::get<mock::ChatRequest>(openai->parse_chat(
        R"({"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]})"));
    auto c = mock::generate_answer(1, req, {6, 6}, true, "id", 0);
    std::string full = stream_of(mock::DialectKind::openai, req, c);
    full.resize(full.size() - std::string("data: [DONE]\n\n").size());
    AttemptResult r;
    read_answer(mock::DialectKind::openai, true, full, true, r);
    CHECK(r.kind == Kind::answer);
    CHECK(mock::verify_answer(r.text, req) == mock::Verdict::ok);
}

TEST_CASE("non-streamed answers and tool calls are read; a cut JSON body is broken",
          "[transport]") {
    AttemptResult text;
    read_answer(mock::DialectKind::openai, false,
                R"({"choices":[{"message":{"content":"hello"}}]})", true, text);
    CHECK(text.text == "hello");
    AttemptResult tool;
    read_answer(
        mock::DialectKind::openai, false,
        R"({"choices":[{"message":{"content":null,"tool_calls":[{"function":{"arguments":"{\"a\":1}"}}]}}]})",
        true, tool);
    CHECK(tool.text == "{\"a\":1}");
    AttemptResult claude;
    read_answer(mock::DialectKind::anthropic, false, R"({"content":[{"type":"text","text":"hi"}]})",
                true, claude);
    CHECK(claude.text == "hi");
    AttemptResult cut;
    read_answer(mock::DialectKind::openai, false, R"({"choices":[{"mess)", true, cut);
    CHECK(cut.kind == Kind::broken_stream);
}
