#include "mockprovider/http_request.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>

namespace brownout::mock {
namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::size_t kMaxChunkLine = 4096;  // a chunk's size and its extensions

// What each byte may be part of, looked up once a byte (a request's head is read byte by byte).
enum CharClass : std::uint8_t { token_char = 1, target_char = 2, value_char = 4 };
constexpr std::array<std::uint8_t, 256> kClasses = [] {
    std::array<std::uint8_t, 256> t{};
    for (std::size_t c = 0; c < t.size(); ++c) {
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (alnum || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) !=
                         std::string_view::npos)
            t[c] |= token_char;
        // The request target: any byte but controls, space and DEL (bytes past ASCII pass, as in
        // Beast). A field's value: no control byte but the tab.
        if (c > 0x20 && c != 0x7f) t[c] |= target_char;
        if ((c >= 0x20 && c != 0x7f) || c == '\t') t[c] |= value_char;
    }
    return t;
}();

bool all_of_class(std::string_view s, CharClass c) {
    return std::all_of(s.begin(), s.end(),
                       [c](char b) { return (kClasses[static_cast<unsigned char>(b)] & c) != 0; });
}

bool token(std::string_view s) {
    return !s.empty() && all_of_class(s, token_char);
}

bool blank(char c) {
    return c == ' ' || c == '\t';
}

std::string_view trimmed(std::string_view s) {
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && blank(s.back())) s.remove_suffix(1);
    return s;
}

// `lower` is in lower case already.
bool same_name(std::string_view name, std::string_view lower) {
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

bool decimal(std::string_view s, std::size_t& out) {
    if (s.empty() || s.size() > 18) return false;
    std::size_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<std::size_t>(c - '0');
    }
    out = v;
    return true;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// A bare LF or CR in these bytes: HTTP ends its lines with CRLF, and a head that uses anything
// else would never end here (Beast refused it at once too).
bool bare_line_end(std::string_view bytes, std::size_t from) {
    for (std::size_t i = from; i < bytes.size(); ++i) {
        if (bytes[i] == '\n' && (i == 0 || bytes[i - 1] != '\r')) return true;
        if (bytes[i] == '\r' && i + 1 < bytes.size() && bytes[i + 1] != '\n') return true;
    }
    return false;
}

struct RequestLine {
    std::string_view method, target, version;
};

// METHOD SP target SP HTTP/1.1 (or 1.0); none when it is not one.
std::optional<RequestLine> request_line(std::string_view line) {
    auto sp1 = line.find(' ');
    auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return std::nullopt;
    RequestLine r{line.substr(0, sp1), line.substr(sp1 + 1, sp2 - sp1 - 1), line.substr(sp2 + 1)};
    if (!token(r.method) || r.target.empty() || !all_of_class(r.target, target_char))
        return std::nullopt;
    if (r.version != "HTTP/1.1" && r.version != "HTTP/1.0") return std::nullopt;
    return r;
}

struct FieldLine {
    std::string_view name, value;
};

// name ":" value, the value's surrounding blanks dropped. A name with blanks before its colon,
// or a line folded onto the last (starting blank), is no field.
std::optional<FieldLine> field_line(std::string_view line) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos || !token(line.substr(0, colon))) return std::nullopt;
    FieldLine f{line.substr(0, colon), trimmed(line.substr(colon + 1))};
    if (!all_of_class(f.value, value_char)) return std::nullopt;
    return f;
}

// The fields the mock acts on. A field line's name is looked up here once.
enum class Field {
    other,
    authorization,
    x_api_key,
    x_goog_api_key,
    brownout_fault,
    retry_count,
    connection,
    content_length,
    transfer_encoding,
};

Field known_field(std::string_view name) {
    static constexpr std::pair<std::string_view, Field> kFields[] = {
        {"authorization", Field::authorization},
        {"x-api-key", Field::x_api_key},
        {"x-goog-api-key", Field::x_goog_api_key},
        {"x-brownout-fault", Field::brownout_fault},
        {"x-stainless-retry-count", Field::retry_count},
        {"connection", Field::connection},
        {"content-length", Field::content_length},
        {"transfer-encoding", Field::transfer_encoding},
    };
    for (const auto& [lower, field] : kFields)
        if (same_name(name, lower)) return field;
    return Field::other;
}

}  // namespace

void RequestReader::reset() {
    request_.method.clear();
    request_.target.clear();
    request_.body.clear();
    request_.authorization.clear();
    request_.x_api_key.clear();
    request_.x_goog_api_key.clear();
    request_.brownout_fault.clear();
    request_.retry_count.clear();
    request_.keep_alive = true;
    start_ = scanned_ = checked_ = head_end_ = content_length_ = cursor_ = consumed_ = 0;
    seen_ = 0;
    begun_ = has_length_ = has_coding_ = chunked_ = http10_ = close_ = keep_token_ = trailer_ =
        false;
}

RequestReader::Status RequestReader::parse(std::string_view bytes) {
    if (head_end_ == 0) {
        if (!begun_) {
            // Blank lines before a request line are skipped (RFC 9112 §2.2), and count against
            // the head's limit: nothing a client sends is held without one.
            while (bytes.substr(start_, 2) == kCrlf) start_ += 2;
            if (start_ >= max_header_) return Status::header_too_large;
            auto rest = bytes.substr(start_);
            if (rest.empty() || rest == "\r") return Status::incomplete;
            begun_ = true;
            scanned_ = checked_ = start_;
        }
        auto end = bytes.find("\r\n\r\n", std::max(start_, scanned_ >= 3 ? scanned_ - 3 : 0));
        auto seen = end == std::string_view::npos ? bytes.size() : end + 4;
        if (end == std::string_view::npos || seen > max_header_) {
            // A bad line within the limit is a bad request, past it the head is too large,
            // however the bytes came: each line is looked at once it is whole (as Beast did),
            // not after a head that may never end.
            if (check_lines(bytes.substr(0, std::min(bytes.size(), max_header_))) == Status::bad)
                return Status::bad;
            if (seen > max_header_) return Status::header_too_large;
            scanned_ = bytes.size();
            return Status::incomplete;
        }
        // The head's lines, each with its CRLF; the blank line's left out.
        if (auto s = parse_head(bytes.substr(start_, end + 2 - start_)); s != Status::complete)
            return s;
        head_end_ = cursor_ = end + 4;
        if (has_length_ && content_length_ > max_body_) return Status::body_too_large;
    }
    if (chunked_) return parse_chunks(bytes);
    if (bytes.size() - head_end_ < content_length_) return Status::incomplete;
    request_.body.assign(bytes.data() + head_end_, content_length_);
    consumed_ = head_end_ + content_length_;
    return Status::complete;
}

RequestReader::Status RequestReader::check_lines(std::string_view bytes) {
    if (bare_line_end(bytes, std::max(checked_, scanned_ ? scanned_ - 1 : 0))) return Status::bad;
    for (auto end = bytes.find(kCrlf, checked_); end != std::string_view::npos;
         end = bytes.find(kCrlf, checked_)) {
        auto line = bytes.substr(checked_, end - checked_);
        if (checked_ == start_ ? !request_line(line) : !field_line(line)) return Status::bad;
        checked_ = end + 2;
    }
    return Status::incomplete;
}

RequestReader::Status RequestReader::parse_head(std::string_view head) {
    auto next_line = [&head] {
        auto end = head.find(kCrlf);
        auto line = head.substr(0, end);
        head.remove_prefix(end + 2);
        return line;
    };
    auto start = request_line(next_line());
    if (!start) return Status::bad;
    http10_ = start->version == "HTTP/1.0";
    request_.method.assign(start->method);
    request_.target.assign(start->target);
    while (!head.empty()) {
        auto field = field_line(next_line());
        if (!field || !parse_field(field->name, field->value)) return Status::bad;
    }
    // Both framings at once is how requests are smuggled past a proxy (RFC 9112 §6.1).
    if (has_length_ && has_coding_) return Status::bad;
    request_.keep_alive = http10_ ? keep_token_ : !close_;
    return Status::complete;
}

bool RequestReader::parse_field(std::string_view name, std::string_view value) {
    auto field = known_field(name);
    // The first of each field counts, even when it is empty (as Beast's message had it).
    auto keep_first = [&](std::string& out) {
        auto bit = 1U << static_cast<unsigned>(field);
        if ((seen_ & bit) == 0) out.assign(value);
        seen_ |= bit;
    };
    switch (field) {
        case Field::authorization:
            keep_first(request_.authorization);
            break;
        case Field::x_api_key:
            keep_first(request_.x_api_key);
            break;
        case Field::x_goog_api_key:
            keep_first(request_.x_goog_api_key);
            break;
        case Field::brownout_fault:
            keep_first(request_.brownout_fault);
            break;
        case Field::retry_count:
            keep_first(request_.retry_count);
            break;
        case Field::connection: {
            // A list of tokens, or a bad value; the first Connection field decides whether the
            // connection is kept (as Beast's message had it).
            bool tokens = true, deciding = (seen_ & (1U << static_cast<unsigned>(field))) == 0;
            seen_ |= 1U << static_cast<unsigned>(field);
            each_token(value, [&](std::string_view t) {
                tokens &= token(t);
                close_ |= deciding && same_name(t, "close");
                keep_token_ |= deciding && same_name(t, "keep-alive");
            });
            return tokens;
        }
        case Field::content_length: {
            std::size_t n = 0;
            if (!decimal(value, n) || (has_length_ && n != content_length_)) return false;
            has_length_ = true;
            content_length_ = n;
            break;
        }
        case Field::transfer_encoding: {
            // A request's codings must end in chunked (RFC 9112 §6.3), once; anything else is a
            // body the mock could not find the end of.
            if (has_coding_) return false;
            has_coding_ = true;
            std::string_view last;
            bool tokens = true;
            each_token(value, [&](std::string_view t) {
                tokens &= token(t);
                last = t;
            });
            chunked_ = tokens && same_name(last, "chunked");
            return chunked_;
        }
        case Field::other:
            break;
    }
    return true;
}

RequestReader::Status RequestReader::parse_chunks(std::string_view bytes) {
    // The chunks' own lines and the trailer are held with the body: what is whole of them may
    // take the body's limit and the head's once more, no further. (Counted a line at a time, not
    // by what has been read, so that the answer does not depend on how the bytes were split.)
    const std::size_t most = max_body_ + max_header_;
    for (;;) {
        auto line_end = bytes.find(kCrlf, cursor_);
        if (line_end == std::string_view::npos)
            return bytes.size() - cursor_ > kMaxChunkLine ? Status::bad : Status::incomplete;
        auto line = bytes.substr(cursor_, line_end - cursor_);
        if (line.size() > kMaxChunkLine) return Status::bad;
        if (line_end + 2 - head_end_ > most) return Status::body_too_large;
        if (trailer_) {  // trailer fields, ignored, up to a blank line
            cursor_ = line_end + 2;
            if (line.empty()) {
                consumed_ = cursor_;
                return Status::complete;
            }
            if (!field_line(line)) return Status::bad;
            continue;
        }
        // The size in hex, then perhaps blanks and ";extensions" (read no further than that
        // they hold no control byte).
        std::size_t size = 0, digits = 0;
        for (; digits < line.size() && hex_digit(line[digits]) >= 0; ++digits) {
            if (digits == 15) return Status::bad;
            size = size * 16 + static_cast<std::size_t>(hex_digit(line[digits]));
        }
        auto extensions = trimmed(line.substr(digits));
        if (digits == 0 || (!extensions.empty() && extensions.front() != ';') ||
            !all_of_class(extensions, value_char))
            return Status::bad;
        if (size == 0) {
            trailer_ = true;
            cursor_ = line_end + 2;
            continue;
        }
        if (request_.body.size() + size > max_body_) return Status::body_too_large;
        auto data = line_end + 2;
        if (bytes.size() < data + size + 2) return Status::incomplete;
        if (bytes.substr(data + size, 2) != kCrlf) return Status::bad;
        request_.body.append(bytes.data() + data, size);
        cursor_ = data + size + 2;
    }
}

}  // namespace brownout::mock
