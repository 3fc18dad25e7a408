// The in-place JSON reader held to Boost.JSON: whatever it takes, it reads as Boost.JSON does,
// and a dialect's request reader gives the same answer through either.

#include "wire/json_tape.h"

#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <random>

#include "tests/support/json_tape_check.h"
#include "wire/common.h"
#include "wire/dialect.h"

using namespace brownout::wire;
using brownout::test::against_boost;
using brownout::wire::detail::JsonNode;
using brownout::wire::detail::JsonTape;
namespace json = boost::json;

namespace {

// Random JSON. `plain` keeps to what the tape must take: ASCII, escapes other than \u, integers
// of up to 18 digits, unique keys.
class JsonMaker {
public:
    explicit JsonMaker(std::uint32_t seed) : rng_(seed) {}

    std::string value(bool plain, int depth = 0) {
        std::string out;
        space(out);
        switch (pick(depth < 4 ? 9 : 6)) {
            case 0:
                out += "null";
                break;
            case 1:
                out += pick(2) == 0 ? "true" : "false";
                break;
            case 2:
                out += integer(plain);
                break;
            case 3:
                out +=
                    std::array{"1.5", "-0.25", "0.0", "1e3", "2E-7", "-3.75e+12", "0e0"}[pick(7)];
                break;
            case 4:
            case 5:
                out += string(plain);
                break;
            case 6:
            case 7: {
                out += '[';
                int n = pick(4);
                for (int i = 0; i < n; ++i) out += (i ? "," : "") + value(plain, depth + 1);
                space(out);
                out += ']';
                break;
            }
            default: {
                out += '{';
                int n = pick(5);
                std::vector<std::string> keys;
                for (int i = 0; i < n; ++i) {
                    std::string key = std::array{"model", "role", "a", "content", "b\\n"}[pick(5)];
                    if (plain && std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
                    out += keys.empty() ? "" : ",";
                    keys.push_back(key);
                    space(out);
                    out += '"' + key + '"';
                    space(out);
                    out += ':' + value(plain, depth + 1);
                }
                space(out);
                out += '}';
            }
        }
        space(out);
        return out;
    }

    int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

private:
    void space(std::string& out) {
        if (pick(4) == 0) out += std::array{" ", "\n", "\t ", "\r\n  "}[pick(4)];
    }

    std::string integer(bool plain) {
        std::string out = pick(3) == 0 ? "-" : "";
        int digits = 1 + pick(plain ? 18 : 21);
        out += static_cast<char>('1' + pick(9));
        for (int i = 1; i < digits; ++i) out += static_cast<char>('0' + pick(10));
        if (pick(8) == 0) return "0";
        if (!plain && pick(20) == 0) return "-0";
        return out;
    }

    std::string string(bool plain) {
        std::string out = "\"";
        int n = pick(12);
        for (int i = 0; i < n; ++i) {
            switch (pick(plain ? 12 : 14)) {
                case 0:
                    out += std::array{
                        "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t"}[pick(8)];
                    break;
                case 12:
                    out += "\\u00e9";
                    break;
                case 13:
                    out += "\xc3\xa9";
                    break;
                default:
                    out += static_cast<char>(' ' + pick(95));
                    if (out.back() == '"' || out.back() == '\\') out.back() = 'x';
            }
        }
        return out + '"';
    }

    std::mt19937 rng_;
};

}  // namespace

TEST_CASE("the tape reads every plain JSON text as Boost.JSON does", "[wire][json]") {
    JsonMaker make(7);
    for (int i = 0; i < 3000; ++i) {
        auto text = make.value(true);
        INFO(text);
        REQUIRE(against_boost(text) == "");
    }
}

TEST_CASE("the tape declines or agrees on any JSON text, and on each spoiled by one byte",
          "[wire][json]") {
    JsonMaker make(11);
    int declined = 0;
    int taken = 0;
    for (int i = 0; i < 3000; ++i) {
        auto text = make.value(false);
        for (int spoil = 0; spoil < 2; ++spoil) {
            if (spoil == 1) {
                if (text.empty()) break;
                std::size_t at = make.pick(static_cast<int>(text.size()));
                char with = "{}[],:\"\\ 0-.eE1atx\x01"[make.pick(20)];
                switch (make.pick(3)) {
                    case 0:
                        text[at] = with;
                        break;
                    case 1:
                        text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), with);
                        break;
                    default:
                        text.erase(at, 1);
                }
            }
            INFO(text);
            auto result = against_boost(text);
            if (result == "declined") {
                ++declined;
            } else {
                ++taken;
                REQUIRE(result == "");
            }
        }
    }
    // Both ways are exercised: the spoiled half and the non-plain texts are mostly declined.
    CHECK(taken > 1000);
    CHECK(declined > 1000);
}

TEST_CASE("the tape declines what only Boost.JSON can judge", "[wire][json]") {
    std::string deep(33, '[');
    deep += std::string(33, ']');
    std::string many = "[";
    for (int i = 0; i < 300; ++i) many += i ? ",1" : "1";
    many += "]";
    for (const std::string& text : std::vector<std::string>{
             R"({"a":"\u0041"})",         // \u escapes (and surrogates)
             "{\"a\":\"\xc3\xa9\"}",      // UTF-8, which Boost.JSON validates
             R"({"a":1,"a":2})",          // duplicate keys: Boost.JSON keeps the last
             R"([1234567890123456789])",  // 19 digits
             R"([-0])",
             R"([1e99999])",
             deep,
             many,  // beyond its limits
             "",
             " ",
             "[1,]",
             "{\"a\"}",
             "[01]",
             "tru",
             "[1] x",
             "\"a\x01\"",
             "[.5]",
             "[1.]",
             "[1e]",
             R"(["\x"])",
             "{\"a\":1,}",  // not JSON at all
         }) {
        INFO(text);
        CHECK(against_boost(text) == "declined");
    }
    CHECK(against_boost(std::string(32, '[') + std::string(32, ']')) == "");
}

TEST_CASE("a string's plain run stops at the right byte wherever it falls", "[wire][json]") {
    // The reader scans eight bytes at a time and the tail one by one: put each kind of byte at
    // every offset of both.
    for (std::size_t at = 0; at < 27; ++at) {
        for (std::string byte : {"\\n", "\\\"", "\x7f", " ", "~", "\x01", "\x1f", "\x80", "\xff"}) {
            std::string text =
                "[\"" + std::string(at, 'a') + byte + std::string(26 - at, 'b') + "\"]";
            INFO(at << " " << byte);
            const bool taken = byte.size() == 2 || byte == "\x7f" || byte == " " || byte == "~";
            CHECK(against_boost(text) == (taken ? "" : "declined"));
        }
    }
}

TEST_CASE("the tape reads strings with escapes, nested values and numbers in place",
          "[wire][json]") {
    JsonTape tape;
    REQUIRE(tape.read(
        R"( {"model" : "gpt", "messages":[{"role":"user","content":"a\"b\\c\nd"}], "n":-42,
            "t":0.5, "ok":true, "none":null, "e":{} } )"));
    const auto& root = tape.root();
    REQUIRE(root.is_object());
    auto o = root.get_object();
    CHECK(o.size() == 7);
    CHECK(o.find("model")->get_string() == "gpt");
    const auto* messages = o.find("messages");
    REQUIRE(messages->is_array());
    REQUIRE(messages->get_array().size() == 1);
    const auto& message = *messages->get_array().begin();
    CHECK(message.get_object().find("content")->get_string() == "a\"b\\c\nd");
    CHECK(o.find("n")->get_int64() == -42);
    CHECK(o.find("t")->is_double());
    CHECK(o.find("ok")->get_bool());
    CHECK(o.find("none")->is_null());
    CHECK(o.find("e")->get_object().empty());
    CHECK(o.find("absent") == nullptr);
}

namespace {

std::string reading(const ParseResult& r) {
    if (const auto* e = std::get_if<ApiError>(&r))
        return fmt::format("error {} {} {} {} {}", e->status, e->type, e->code, e->param,
                           e->message);
    const auto& c = std::get<ChatRequest>(r);
    std::string tools;
    for (const auto& t : c.tools) {
        tools += t.name + "(";
        for (const auto& [name, type] : t.properties) tools += name + ":" + type + ",";
        tools += ")";
    }
    return fmt::format(
        "{} stream={} usage={} max={} text={:x} images={:x}/{} prompt={} tools={} "
        "choice={} {}",
        c.model, c.stream, c.include_usage, c.max_tokens.value_or(-1), c.text_digest,
        c.image_digest, c.image_count, c.prompt_tokens, tools, static_cast<int>(c.tool_choice),
        c.tool_choice_name);
}

// A request body with the fields both dialects read, each often missing or of the wrong type.
std::string request(JsonMaker& make) {
    auto maybe = [&](int n) { return make.pick(n) == 0; };
    auto text = [&] {
        return std::string(std::array{"\"You are terse.\"", "\"Line one\\nline \\\"two\\\"\"",
                                      "\"\"", "\"Where is order 1234?\"", "7"}[make.pick(5)]);
    };
    std::vector<std::string> fields;
    if (!maybe(20)) fields.push_back(R"("model":)" + (maybe(20) ? "\"\"" : std::string("\"m-1\"")));
    std::string messages = "[";
    int n = maybe(20) ? 0 : 1 + make.pick(3);
    for (int i = 0; i < n; ++i) {
        if (i) messages += ",";
        if (maybe(30)) {
            messages += "3";
            continue;
        }
        std::string role =
            std::array{"user", "user", "assistant", "system", "developer", ""}[make.pick(6)];
        messages += maybe(30) ? "{" : R"({"role":")" + role + "\",";
        if (maybe(2)) {
            messages += R"("content":)" + text() + "}";
            continue;
        }
        messages += R"("content":[{"type":"text","text":)" + text() + "}";
        if (maybe(2)) messages += R"(,{"type":"image_url","image_url":{"url":"https://x/a.png"}})";
        if (maybe(12)) messages += R"(,{"type":"image_url","image_url":{}})";
        if (maybe(3))
            messages +=
                R"(,{"type":"image","source":{"type":"base64","media_type":"image/png","data":"QUJD"}})";
        if (maybe(12)) messages += R"(,{"type":"image","source":{}})";
        messages += "]}";
    }
    messages += "]";
    if (!maybe(20)) fields.push_back(R"("messages":)" + (maybe(20) ? "{}" : messages));
    if (maybe(2)) fields.push_back(R"("system":)" + (maybe(2) ? text() : R"([{"text":"s"}])"));
    if (maybe(2)) fields.push_back(std::string(R"("stream":)") + (maybe(2) ? "true" : "false"));
    if (maybe(4))
        fields.push_back(std::string(R"("stream_options":{"include_usage":)") +
                         (maybe(2) ? "true}" : "false}"));
    for (std::string key : {"max_tokens", "max_completion_tokens"}) {
        if (key == "max_tokens" ? !maybe(6) : maybe(4))
            fields.push_back("\"" + key + "\":" +
                             std::array{"64", "200", "1000", "12", "0", "-3", "1.5", "\"9\"",
                                        "null",
                                        "123456789012"}[make.pick(key == "max_tokens" ? 10 : 9)]);
    }
    if (maybe(3))
        fields.push_back(
            R"("tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object","properties":{"id":{"type":"string"},"n":{}}}}},)"
            R"({"name":"lookup2","input_schema":{"type":"object","properties":{"q":{"type":"integer"}}}},5])");
    if (maybe(3))
        fields.push_back(
            std::string(R"("tool_choice":)") +
            std::array{"\"none\"", "\"required\"", R"({"type":"any"})",
                       R"({"type":"tool","name":"lookup"})",
                       R"({"type":"function","function":{"name":"lookup"}})"}[make.pick(5)]);
    if (maybe(3)) fields.push_back(R"("temperature":0.7,"metadata":{"k":[1,2,{"x":null}]})");
    std::shuffle(fields.begin(), fields.end(),
                 std::mt19937(static_cast<unsigned>(make.pick(1000))));
    std::string body = "{";
    for (std::size_t i = 0; i < fields.size(); ++i) body += (i ? "," : "") + fields[i];
    return body + "}";
}

}  // namespace

TEST_CASE("OpenAI chat and Anthropic messages read a request alike through either JSON reader",
          "[wire][json]") {
    // The same body with one more field that the tape declines (a \u escape) is read by
    // Boost.JSON; the field is read by neither dialect, so the answers must be equal.
    auto openai = make_dialect(DialectKind::openai, Vendor::openai);
    auto deepseek = make_dialect(DialectKind::openai, Vendor::deepseek);
    auto anthropic = make_dialect(DialectKind::anthropic, Vendor::anthropic);
    JsonMaker make(5);
    std::array<int, 3> accepted{};
    for (int i = 0; i < 2000; ++i) {
        auto body = request(make);
        JsonTape tape;
        REQUIRE(tape.read(body));
        auto through_boost = R"({"x_ref":"\u0041",)" + body.substr(1);
        REQUIRE_FALSE(tape.read(through_boost));
        INFO(body);
        int k = 0;
        for (const auto* d : {openai.get(), deepseek.get(), anthropic.get()}) {
            auto fast = d->parse_chat(body);
            REQUIRE(reading(fast) == reading(d->parse_chat(through_boost)));
            if (std::holds_alternative<ChatRequest>(fast)) ++accepted[k];
            ++k;
        }
    }
    // The generator reaches past the errors for each dialect.
    for (int n : accepted) CHECK(n > 100);
}
