#include "mockprovider/http_request.h"

#include <algorithm>
#include <optional>

#include "core/http_syntax.h"

namespace brownout::mock {

using namespace http_syntax;  // NOLINT(google-build-using-namespace): this file reads HTTP

namespace {

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
            chunked_ = same_name(last_token(value), "chunked");
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
            // (a line waiting for its end may hold its CR already)
            return bytes.size() - cursor_ > kMaxChunkLine + 1 ? Status::bad : Status::incomplete;
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
        auto chunk = chunk_size(line);
        if (!chunk) return Status::bad;
        std::size_t size = *chunk;
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
