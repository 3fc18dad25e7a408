#include "core/text.h"

#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

using namespace brownout;

TEST_CASE("a JSON string escapes what JSON requires and passes the rest", "[text][json]") {
    CHECK(json_string("") == R"("")");
    CHECK(json_string("plain text, 42!") == R"("plain text, 42!")");
    CHECK(json_string(R"(say "hi")") == R"("say \"hi\"")");
    CHECK(json_string(R"(a\b)") == R"("a\\b")");
    CHECK(json_string("l1\nl2\r\tend") == R"("l1\nl2\r\tend")");
    CHECK(json_string(std::string("\x01x\x1f", 3)) == R"("\u0001x\u001f")");
    CHECK(json_string(std::string(1, '\0')) == R"("\u0000")");
    CHECK(json_string("\x7f") == "\"\x7f\"");  // DEL is printable as far as JSON cares
    // Escapes at either end of a long run, and between runs.
    std::string run(300, 'x');
    CHECK(json_string("\"" + run + "\\") == "\"\\\"" + run + "\\\\\"");
    CHECK(json_string(run + "\n" + run) == "\"" + run + "\\n" + run + "\"");
}

TEST_CASE("a JSON string keeps valid UTF-8 and replaces invalid bytes", "[text][json]") {
    CHECK(json_string("caf\xc3\xa9") == "\"caf\xc3\xa9\"");
    CHECK(json_string("\xe2\x82\xac 5") == "\"\xe2\x82\xac 5\"");
    CHECK(json_string("\xf0\x9f\x98\x80") == "\"\xf0\x9f\x98\x80\"");
    CHECK(json_string("a\xff"
                      "b") == R"("a\ufffdb")");
    CHECK(json_string("\xc3") == R"("\ufffd")");                      // cut sequence
    CHECK(json_string("\xc0\xaf") == R"("\ufffd\ufffd")");            // overlong
    CHECK(json_string("\xed\xa0\x80") == R"("\ufffd\ufffd\ufffd")");  // surrogate
    std::string out = "[";
    append_json_string(out, "x");
    CHECK(out == R"([")"
                 "x\"");
}

TEST_CASE("numbers are appended as std::to_string writes them", "[text]") {
    for (std::int64_t v :
         {std::int64_t{0}, std::int64_t{7}, std::int64_t{-12}, std::int64_t{1764633600},
          std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::min()}) {
        std::string out = "n=";
        append_decimal(out, v);
        CHECK(out == "n=" + std::to_string(v));
    }
    std::string hex = "id_";
    append_hex(hex, 0xabcULL, 6);
    CHECK(hex == "id_000abc");
    CHECK(to_hex(0x0123456789abcdefULL) == "0123456789abcdef");
    CHECK(to_hex(0xffULL, 1) == "f");  // the low digits when the width is short
    for (std::uint64_t v : {0ULL, 0x1ULL, 0xfedcba9876543210ULL, 0x0123456789abcdefULL,
                            0xa9a9a9a9a9a9a9a9ULL, 0xffffffff00000000ULL, 0x00000000ffffffffULL}) {
        for (int digits = 1; digits <= 16; ++digits) {
            auto full = fmt::format("{:016x}", v);
            CHECK(to_hex(v, digits) == full.substr(16 - static_cast<std::size_t>(digits)));
            // Written in place: the same digits, the end returned, nothing past it touched.
            std::string room(18, '*');
            char* end = write_hex(room.data() + 1, v, digits);
            CHECK(end == room.data() + 1 + digits);
            CHECK(room.substr(1, static_cast<std::size_t>(digits)) == to_hex(v, digits));
            CHECK(room.front() == '*');
            CHECK(room[1 + static_cast<std::size_t>(digits)] == '*');
        }
    }
}

TEST_CASE("JSON escaping finds every special byte at every place in a word", "[text][json]") {
    // The fast path reads eight bytes at a time: put each kind of byte that needs care at each
    // offset of a plain run, and each plain edge case too.
    const std::vector<std::pair<char, std::string>> cases = {{'"', R"(\")"},
                                                             {'\\', R"(\\)"},
                                                             {'\n', R"(\n)"},
                                                             {'\x01', R"(\u0001)"},
                                                             {'\x1f', R"(\u001f)"},
                                                             {'\xff', R"(\ufffd)"},
                                                             {'\x80', R"(\ufffd)"},
                                                             {'\x7f', "\x7f"},
                                                             {' ', " "},
                                                             {'~', "~"},
                                                             {'!', "!"},
                                                             {'#', "#"}};
    for (const auto& [byte, escaped] : cases) {
        for (std::size_t at = 0; at < 24; ++at) {
            std::string s(24, 'a');
            s[at] = byte;
            std::string expected = "\"" + s.substr(0, at) + escaped + s.substr(at + 1) + "\"";
            CHECK(json_string(s) == expected);
            // The run a reader or writer takes as it is stops at that byte, or takes all.
            CHECK(json_plain_run(s) == (escaped == std::string(1, byte) ? s.size() : at));
            CHECK(json_plain_run(std::string_view(s).substr(0, at)) == at);
        }
    }
}

TEST_CASE("contains finds an item by its whole text, whatever it shares with the others",
          "[text]") {
    const std::vector<std::string> names = {"content-length", "openai-version", "", "retry-after"};
    CHECK(contains(names, "openai-version"));
    CHECK(contains(names, "content-length"));
    CHECK(contains(names, "retry-after"));
    CHECK(contains(names, ""));  // an empty item is found only where the list has one
    CHECK_FALSE(contains({"a"}, ""));
    CHECK_FALSE(contains(names, "openai-versioN"));  // the same length and first byte
    CHECK_FALSE(contains(names, "retry-after-ms"));  // the same length as two of them
    CHECK_FALSE(contains(names, "content-lengt"));   // a prefix
    CHECK_FALSE(contains({}, "x"));
}
