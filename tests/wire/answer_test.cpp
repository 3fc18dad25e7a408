#include "wire/answer.h"

#include <catch2/catch.hpp>
#include <cctype>
#include <string>
#include <vector>

#include "tests/support/parse_chat.h"
#include "wire/dialect.h"

using namespace brownout::wire;
using brownout::test::ok;

namespace {

const std::string kImageRequest =
    R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":[{"type":"text","text":"What is in this image?"},)"
    R"({"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}]})";

}  // namespace

TEST_CASE("the same seed, model and request always give the same answer", "[answer]") {
    auto d = make_dialect(DialectKind::openai, Vendor::openai);
    auto req = ok(*d, R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]})");
    auto a = generate_answer(7, req, {}, true, "id1", 0);
    auto b = generate_answer(7, req, {}, true, "id2", 0);
    CHECK(a.text() == b.text());
    CHECK(generate_answer(8, req, {}, true, "id", 0).text() != a.text());
    auto other_model = req;
    other_model.model = "gpt-4o";
    CHECK(generate_answer(7, other_model, {}, true, "id", 0).text() != a.text());
}

TEST_CASE("answer length stays within the shape and usage counts the streamed tokens", "[answer]") {
    auto d = make_dialect(DialectKind::openai, Vendor::openai);
    for (int i = 0; i < 50; ++i) {
        auto req = ok(*d, R"({"model":"m","messages":[{"role":"user","content":"q)" +
                              std::to_string(i) + R"("}]})");
        auto c = generate_answer(1, req, {10, 20}, true, "id", 0);
        REQUIRE(c.tokens.size() >= 10);
        REQUIRE(c.tokens.size() <= 20);
        REQUIRE(c.completion_tokens == static_cast<int>(c.tokens.size()));
        REQUIRE(c.finish == FinishReason::stop);
    }
}

TEST_CASE("an answer's pieces are views into its one text", "[answer][tokens]") {
    Tokens t;
    CHECK(t.empty());
    CHECK(t.text().empty());
    t.push_back("Amber");
    t.push_back(" delta");
    t.push_back("");
    t.push_back(" [bo:tag]");
    REQUIRE(t.size() == 4);
    CHECK(t[0] == "Amber");
    CHECK(t[1] == " delta");
    CHECK(t[2].empty());
    CHECK(t[3] == " [bo:tag]");
    CHECK(t.text() == "Amber delta [bo:tag]");
    std::vector<std::string> seen(t.begin(), t.end());
    CHECK(seen == std::vector<std::string>{"Amber", " delta", "", " [bo:tag]"});

    t.insert(1, " x");  // later pieces move along
    CHECK(t.text() == "Amber x delta [bo:tag]");
    CHECK(t[1] == " x");
    CHECK(t[2] == " delta");
    CHECK(t[4] == " [bo:tag]");
    t.insert(0, ">");
    t.insert(t.size(), "!");
    CHECK(t[0] == ">");
    CHECK(t[t.size() - 1] == "!");
    CHECK(t.text() == ">Amber x delta [bo:tag]!");

    t.truncate(10);  // more than it has: nothing changes
    CHECK(t.size() == 7);
    t.truncate(3);
    CHECK(t.size() == 3);
    CHECK(t.text() == ">Amber x");
    t.truncate(0);
    CHECK(t.empty());
    CHECK(t.text().empty());
}

TEST_CASE("an answer's text is known to be ASCII only while only ASCII went into it",
          "[answer][tokens]") {
    Tokens t;
    CHECK(t.known_ascii());  // nothing yet
    t.push_back("Amber");
    CHECK(t.known_ascii());
    t.insert(1, " caf\xc3\xa9");
    CHECK_FALSE(t.known_ascii());
    CHECK_FALSE(t.all_ascii());                       // looked at: it is not
    CHECK_FALSE(Tokens("Amber", {5}).known_ascii());  // made without the maker's word
    CHECK(Tokens("Amber", {5}).all_ascii());          // looked at: it is
    CHECK(Tokens("Amber", {5}, Tokens::Ascii{}).known_ascii());

    auto dialect = make_openai_chat(Vendor::openai);
    auto request = ok(*dialect, kImageRequest);
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        auto c = generate_answer(seed, request, AnswerShape{}, true, "id", 0);
        CHECK(c.tokens.known_ascii());
        for (unsigned char byte : c.text()) REQUIRE(byte < 0x80);
    }
    // A reader that trusts the word still reads a text with a byte outside ASCII the long way:
    // the in-process reads of a whole answer and of a whole stream decline it (its bytes are
    // rendered and read instead).
    auto c = generate_answer(1, request, AnswerShape{}, true, "id", 0);
    CHECK(dialect->completion_read(c));
    CHECK(dialect->stream_outline(c, request));
    c.tokens.insert(1, " caf\xc3\xa9");
    CHECK_FALSE(dialect->completion_read(c));
    CHECK_FALSE(dialect->stream_outline(c, request));
}

TEST_CASE("a generated answer's pieces are its words, the first capitalised, then the tag",
          "[answer][tokens]") {
    auto d = make_dialect(DialectKind::openai, Vendor::openai);
    auto req = ok(*d, kImageRequest);
    auto c = generate_answer(3, req, {5, 5}, true, "id", 0);
    REQUIRE(c.tokens.size() == 5);
    std::string joined;
    for (std::size_t i = 0; i < c.tokens.size(); ++i) {
        std::string_view piece = c.tokens[i];
        joined += piece;
        if (i == 0) {
            CHECK(std::isupper(static_cast<unsigned char>(piece[0])));
        } else {
            CHECK(piece[0] == ' ');
            CHECK(std::islower(static_cast<unsigned char>(piece[1])) != (i == 4));
        }
    }
    CHECK(c.tokens[4].starts_with(" [bo:"));
    CHECK(joined == c.text());
    CHECK(verify_answer(joined, req) == Verdict::ok);
}

TEST_CASE("a complete answer verifies against its own request", "[answer][verify]") {
    auto d = make_dialect(DialectKind::openai, Vendor::openai);
    auto req = ok(*d, kImageRequest);
    auto c = generate_answer(3, req, {}, true, "id", 0);
    CHECK(verify_answer(c.text(), req) == Verdict::ok);
}

TEST_CASE("verification catches truncation, another request's answer, ignored images and edits",
          "[answer][verify]") {
    auto d = make_dialect(DialectKind::openai, Vendor::openai);
    auto req = ok(*d, kImageRequest);
    auto c = generate_answer(3, req, {}, true, "id", 0);
    std::string text = c.text();

    SECTION("a stream cut before its last token") {
        CHECK(verify_answer(text.substr(0, text.size() / 2), req) == Verdict::missing_tag);
        CHECK(verify_answer("", req) == Verdict::missing_tag);
    }
    SECTION("the answer to a different prompt") {
        auto other = ok(
            *d,
            R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"something else"}]})");
        auto wrong = generate_answer(3, other, {}, true, "id", 0);
        CHECK(verify_answer(wrong.text(), req) == Verdict::wrong_request);
    }
    SECTION("an answer given without looking at the image") {
        auto blind = generate_answer(3, req, {}, false, "id", 0);
        CHECK(verify_answer(blind.text(), req) == Verdict::image_ignored);
    }
    SECTION("text changed in the middle") {
        std::string edited = text;
        edited[0] = edited[0] == 'Z' ? 'Y' : 'Z';
        CHECK(verify_answer(edited, req) == Verdict::corrupted);
    }
}

TEST_CASE("max_tokens shortens the answer, keeps it checkable and reports finish length",
          "[answer]") {
    auto d = make_dialect(DialectKind::openai, Vendor::openai);
    auto req = ok(
        *d, R"({"model":"m","max_tokens":3,"messages":[{"role":"user","content":"long please"}]})");
    auto c = generate_answer(1, req, {20, 30}, true, "id", 0);
    CHECK(c.tokens.size() == 3);
    CHECK(c.finish == FinishReason::length);
    CHECK(verify_answer(c.text(), req) == Verdict::ok);
}

TEST_CASE("the same conversation digests alike in both dialects, so failover answers verify",
          "[answer][verify]") {
    auto openai = make_dialect(DialectKind::openai, Vendor::openai);
    auto anthropic = make_dialect(DialectKind::anthropic, Vendor::anthropic);
    auto a = ok(
        *openai,
        R"({"model":"gpt-4o-mini","messages":[{"role":"system","content":"Be terse."},{"role":"user","content":[{"type":"text","text":"Describe"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]})");
    auto b = ok(
        *anthropic,
        R"({"model":"claude-sonnet-4-5","max_tokens":100,"system":"Be terse.","messages":[{"role":"user","content":[{"type":"text","text":"Describe"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}]}]})");
    CHECK(a.text_digest == b.text_digest);
    CHECK(a.image_digest == b.image_digest);
    auto answer_from_claude = generate_answer(9, b, {}, true, "id", 0);
    CHECK(verify_answer(answer_from_claude.text(), a) == Verdict::ok);
}

TEST_CASE("a required tool choice produces a tool call with schema-shaped arguments",
          "[answer][tools]") {
    auto d = make_dialect(DialectKind::openai, Vendor::openai);
    auto req = ok(
        *d,
        R"({"model":"m","messages":[{"role":"user","content":"weather?"}],"tool_choice":"required",
        "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}}}}}]})");
    auto c = generate_answer(1, req, {}, true, "id", 0);
    REQUIRE(c.tool_call.has_value());
    CHECK(c.tool_call->name == "get_weather");
    CHECK_THAT(c.tool_call->arguments_json,
               Catch::Contains("\"city\":\"bo-") && Catch::Contains("\"days\":1"));
    CHECK(c.finish == FinishReason::tool_calls);
}
