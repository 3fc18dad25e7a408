#pragma once
// Small text helpers shared by the wire code and the reports.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace brownout {

// Whether `list` holds `item`, compared by length, then by first byte, and only then whole
// (std::string's == with a view compares the bytes first): a list of models or features, or
// the names of a head's lines, searched at each attempt, where most names differ at once.
inline bool contains(const std::vector<std::string>& list, std::string_view item) {
    for (const std::string& s : list) {
        if (s.size() != item.size()) continue;
        if (!item.empty() && s.front() != item.front()) continue;
        if (std::string_view(s) == item) return true;
    }
    return false;
}

// Appends `s` as a JSON string literal (with quotes). Invalid UTF-8 bytes become U+FFFD so
// that whatever a client sent can be echoed back without producing invalid JSON.
void append_json_string(std::string& out, std::string_view s);
// How many of `s`'s first bytes a JSON string carries as they are (printable ASCII other than
// '"' and '\\'), read eight at a time: where writing one needs an escape, and where reading
// one meets its end, an escape, or a byte JSON forbids or this code declines.
std::size_t json_plain_run(std::string_view s);
std::string json_string(std::string_view s);

std::string to_hex(std::uint64_t value, int digits = 16);
// The same, appended to `out` (ids made once an attempt, without a string of their own).
void append_hex(std::string& out, std::uint64_t value, int digits = 16);
// The same `digits` (1 to 16) written at `out`, which has room for them: for ids made in one
// piece. Returns the end.
char* write_hex(char* out, std::uint64_t value, int digits = 16);
// `value` in decimal, appended to `out` (what std::to_string gives, without its string).
void append_decimal(std::string& out, std::int64_t value);

// A Unix time in UTC as ISO 8601 / RFC 3339 without a zone, to the second, the year zero-padded:
// "2026-11-30T10:00:00". The dialects' timestamps and the status page's add what follows.
std::string utc_date_time(std::int64_t unix_seconds);

// A request target's path and query: "/v1/models?x=1" → "/v1/models"; the value of `name` in
// the query ("" when absent; not percent-decoded). The dialects route on them, the server reads
// Gemini's ?key= with them.
std::string_view strip_query(std::string_view target);
std::string query_parameter(std::string_view target, std::string_view name);

// Every `from` in `text` replaced by `to`, left to right (a `to` holding `from` is not replaced
// again).
std::string replace_all(std::string text, std::string_view from, std::string_view to);

// Edit distance, for "did you mean" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);
// The closest candidate within a small distance, or "" when none is close.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace brownout
