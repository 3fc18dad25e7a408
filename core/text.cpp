#include "core/text.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <ctime>

namespace brownout {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not valid.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = byte(i);
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xE  ? 3
                      : (c >> 3) == 0x1E ? 4
                                         : 0;
    if (len == 0 || i + len > s.size()) return 0;
    for (std::size_t k = 1; k < len; ++k) {
        if ((byte(i + k) & 0xC0) != 0x80) return 0;
    }
    if (len == 2 && c < 0xC2) return 0;                          // overlong
    if (len == 3 && c == 0xE0 && byte(i + 1) < 0xA0) return 0;   // overlong
    if (len == 3 && c == 0xED && byte(i + 1) >= 0xA0) return 0;  // surrogates
    if (len == 4 &&
        (c > 0xF4 || (c == 0xF0 && byte(i + 1) < 0x90) || (c == 0xF4 && byte(i + 1) >= 0x90)))
        return 0;
    return len;
}

// The bytes a JSON string carries as they are: printable ASCII other than '"' and '\\'.
constexpr std::array<bool, 256> kPlainInJson = [] {
    std::array<bool, 256> plain{};
    for (int c = 0x20; c < 0x80; ++c) plain[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
    return plain;
}();

// The eight bytes at `p` with the high bit set in each lane that is not plain in JSON (at or
// above 0x80, below 0x20, '"' or '\\'), a word at a time: the bit tricks find a byte below n,
// or a zero byte after an XOR, in every lane at once. A borrow can only mark lanes above one
// truly marked, so the lowest mark is exact (the lanes are read little-endian).
std::uint64_t not_plain_lanes(const char* p) {
    static_assert(std::endian::native == std::endian::little);
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
    std::uint64_t w = 0;
    std::memcpy(&w, p, 8);
    auto zero_lanes = [](std::uint64_t v) { return (v - kOnes) & ~v & kHigh; };
    return (w & kHigh) | ((w - kOnes * 0x20) & ~w & kHigh) | zero_lanes(w ^ (kOnes * '"')) |
           zero_lanes(w ^ (kOnes * '\\'));
}

}  // namespace

std::size_t json_plain_run(std::string_view s) {
    std::size_t run = 0;
    for (; run + 8 <= s.size(); run += 8) {
        if (auto lanes = not_plain_lanes(s.data() + run); lanes != 0)
            return run + static_cast<std::size_t>(std::countr_zero(lanes)) / 8;
    }
    while (run < s.size() && kPlainInJson[static_cast<unsigned char>(s[run])]) ++run;
    return run;
}

void append_json_string(std::string& out, std::string_view s) {
    out.push_back('"');
    const char* data = s.data();
    const std::size_t size = s.size();
    std::size_t i = 0;
    while (i < size) {
        // Fast path: a run of printable ASCII that needs no escaping is copied at once.
        std::size_t run = i + json_plain_run(s.substr(i));
        if (run > i) {
            out.append(data + i, run - i);
            i = run;
            if (i == size) break;
        }
        unsigned char c = static_cast<unsigned char>(s[i]);
        switch (c) {
            case '"':
                out += "\\\"";
                ++i;
                continue;
            case '\\':
                out += "\\\\";
                ++i;
                continue;
            case '\n':
                out += "\\n";
                ++i;
                continue;
            case '\r':
                out += "\\r";
                ++i;
                continue;
            case '\t':
                out += "\\t";
                ++i;
                continue;
            default:
                break;
        }
        if (c < 0x20) {
            out += fmt::format("\\u{:04x}", c);
            ++i;
            continue;
        }
        std::size_t len = utf8_sequence_length(s, i);
        if (len == 0) {
            out += "\\ufffd";
            ++i;
            continue;
        }
        out.append(s.substr(i, len));
        i += len;
    }
    out.push_back('"');
}

std::string json_string(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    append_json_string(out, s);
    return out;
}

char* write_hex(char* out, std::uint64_t value, int digits) {
    static constexpr char kDigits[] = "0123456789abcdef";
    // Two digits a byte, from the table of every byte's pair: ids are most of a reply's digits.
    static constexpr auto kPairs = [] {
        std::array<char, 512> pairs{};
        for (std::size_t b = 0; b < 256; ++b) {
            pairs[2 * b] = kDigits[b >> 4];
            pairs[2 * b + 1] = kDigits[b & 0xF];
        }
        return pairs;
    }();
    const std::size_t n = static_cast<std::size_t>(std::clamp(digits, 1, 16));
    std::size_t i = n;
    for (; i >= 2; i -= 2, value >>= 8) std::memcpy(out + i - 2, &kPairs[(value & 0xFF) * 2], 2);
    if (i == 1) out[0] = kDigits[value & 0xF];
    return out + n;
}

void append_hex(std::string& out, std::uint64_t value, int digits) {
    std::array<char, 16> hex{};
    out.append(hex.data(), write_hex(hex.data(), value, digits));
}

void append_decimal(std::string& out, std::int64_t value) {
    std::array<char, 24> digits{};
    auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), value);
    out.append(digits.data(), end);
}

std::string to_hex(std::uint64_t value, int digits) {
    std::string out;
    append_hex(out, value, digits);
    return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t above = row[j];
            row[j] =
                std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
    std::string best;
    std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
    for (const auto& candidate : candidates) {
        std::size_t d = edit_distance(word, candidate);
        if (d < best_distance) {
            best_distance = d;
            best = candidate;
        }
    }
    return best;
}

std::string_view strip_query(std::string_view target) {
    auto q = target.find('?');
    return q == std::string_view::npos ? target : target.substr(0, q);
}

std::string query_parameter(std::string_view target, std::string_view name) {
    auto q = target.find('?');
    if (q == std::string_view::npos) return "";
    std::string_view query = target.substr(q + 1);
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        auto eq = pair.find('=');
        if (pair.substr(0, eq) == name)
            return eq == std::string_view::npos ? std::string() : std::string(pair.substr(eq + 1));
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return "";
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
    if (from.empty()) return text;
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

std::string utc_date_time(std::int64_t unix_seconds) {
    auto t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1,
                       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace brownout
