#pragma once
// The pieces of HTTP/1.1's syntax (RFC 9110, RFC 9112) that both readers of a message use: the
// mock's request reader (mockprovider/http_request.h) and the harness's response reader
// (harness/http_response.h). Inline: the mock reads a request's head byte by byte through them.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace brownout::http_syntax {

inline constexpr std::string_view kCrlf = "\r\n";
inline constexpr std::size_t kMaxChunkLine = 4096;  // a chunk's size and its extensions

// What each byte may be part of, looked up once a byte.
enum CharClass : std::uint8_t { token_char = 1, target_char = 2, value_char = 4 };
inline constexpr std::array<std::uint8_t, 256> kClasses = [] {
    std::array<std::uint8_t, 256> t{};
    for (std::size_t c = 0; c < t.size(); ++c) {
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (alnum || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) !=
                         std::string_view::npos)
            t[c] |= token_char;
        // A request target: any byte but controls, space and DEL (bytes past ASCII pass, as in
        // Beast). A field's value: no control byte but the tab.
        if (c > 0x20 && c != 0x7f) t[c] |= target_char;
        if ((c >= 0x20 && c != 0x7f) || c == '\t') t[c] |= value_char;
    }
    return t;
}();

inline bool all_of_class(std::string_view s, CharClass c) {
    return std::all_of(s.begin(), s.end(),
                       [c](char b) { return (kClasses[static_cast<unsigned char>(b)] & c) != 0; });
}

inline bool token(std::string_view s) {
    return !s.empty() && all_of_class(s, token_char);
}

inline bool blank(char c) {
    return c == ' ' || c == '\t';
}

inline std::string_view trimmed(std::string_view s) {
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && blank(s.back())) s.remove_suffix(1);
    return s;
}

// A field name against one given in lower case (names are case-insensitive).
inline bool same_name(std::string_view name, std::string_view lower) {
    if (name.size() != lower.size()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
        if (c != lower[i]) return false;
    }
    return true;
}

// Each comma-separated token of a list field (Connection, Transfer-Encoding), blanks dropped.
template <typename Each>
void each_token(std::string_view list, Each&& each) {
    while (!list.empty()) {
        auto comma = list.find(',');
        auto item = trimmed(list.substr(0, comma));
        if (!item.empty()) each(item);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
}

// The last token of a list field: a Transfer-Encoding's final coding. Empty when one of its
// items is no token.
inline std::string_view last_token(std::string_view list) {
    std::string_view last;
    bool tokens = true;
    each_token(list, [&](std::string_view t) {
        tokens &= token(t);
        last = t;
    });
    return tokens ? last : std::string_view{};
}

inline bool decimal(std::string_view s, std::size_t& out) {
    if (s.empty() || s.size() > 18) return false;
    std::size_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<std::size_t>(c - '0');
    }
    out = v;
    return true;
}

inline int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// A bare LF or CR in these bytes from `from` on: HTTP ends its lines with CRLF, and a head that
// uses anything else would never end (Beast refused it at once too).
inline bool bare_line_end(std::string_view bytes, std::size_t from) {
    for (std::size_t i = from; i < bytes.size(); ++i) {
        if (bytes[i] == '\n' && (i == 0 || bytes[i - 1] != '\r')) return true;
        if (bytes[i] == '\r' && i + 1 < bytes.size() && bytes[i + 1] != '\n') return true;
    }
    return false;
}

struct FieldLine {
    std::string_view name, value;
};

// name ":" value, the value's surrounding blanks dropped. A name with blanks before its colon,
// or a line folded onto the last (starting blank), is no field.
inline std::optional<FieldLine> field_line(std::string_view line) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos || !token(line.substr(0, colon))) return std::nullopt;
    FieldLine f{line.substr(0, colon), trimmed(line.substr(colon + 1))};
    if (!all_of_class(f.value, value_char)) return std::nullopt;
    return f;
}

// A chunk's line (without its CRLF): the size in hex, then perhaps blanks and ";extensions" (read
// no further than that they hold no control byte). None when it is not one.
inline std::optional<std::size_t> chunk_size(std::string_view line) {
    std::size_t size = 0, digits = 0;
    for (; digits < line.size() && hex_digit(line[digits]) >= 0; ++digits) {
        if (digits == 15) return std::nullopt;
        size = size * 16 + static_cast<std::size_t>(hex_digit(line[digits]));
    }
    auto extensions = trimmed(line.substr(digits));
    if (digits == 0 || (!extensions.empty() && extensions.front() != ';') ||
        !all_of_class(extensions, value_char))
        return std::nullopt;
    return size;
}

}  // namespace brownout::http_syntax
