#include "harness/http_response.h"

#include <algorithm>

#include "core/http_syntax.h"

namespace brownout::harness {

using namespace http_syntax;  // NOLINT(google-build-using-namespace): this file reads HTTP

namespace {

constexpr std::size_t kKeptRoom = std::size_t{64} * 1024;  // a decoded body's room kept by reset

// "HTTP/1.1 200 OK" (or 1.0; the reason may be empty, not its space): the status, or 0 when it
// is no status line.
int status_line(std::string_view line, bool& http10) {
    if (line.size() < 13 || (!line.starts_with("HTTP/1.1 ") && !line.starts_with("HTTP/1.0 ")))
        return 0;
    http10 = line[7] == '0';
    int status = 0;
    for (std::size_t i = 9; i < 12; ++i) {
        if (line[i] < '0' || line[i] > '9') return 0;
        status = status * 10 + (line[i] - '0');
    }
    if (status < 100) return 0;
    if (line[12] != ' ' || !all_of_class(line.substr(13), value_char)) return 0;
    return status;
}

}  // namespace

void ResponseReader::reset() {
    start_ = scanned_ = head_end_ = content_length_ = cursor_ = chunk_left_ = consumed_ = 0;
    status_ = 0;
    fields_.clear();
    chunked_body_.clear();
    if (chunked_body_.capacity() > kKeptRoom) std::string().swap(chunked_body_);
    keep_alive_ = true;
    chunked_ = to_end_ = in_chunk_ = trailer_ = false;
}

ResponseReader::Status ResponseReader::parse(std::string_view bytes) {
    while (head_end_ == 0) {
        // The heads (interim ones included) are held to max_header_ together. A bare line end
        // within that is bad, past it the head is too large, however the bytes came.
        auto within = bytes.substr(0, std::min(bytes.size(), max_header_));
        auto end = bytes.find("\r\n\r\n", std::max(start_, scanned_ >= 3 ? scanned_ - 3 : 0));
        if (end == std::string_view::npos || end + 4 > max_header_) {
            if (bare_line_end(within, std::max(start_, scanned_ ? scanned_ - 1 : 0)))
                return Status::bad;
            if (bytes.size() > max_header_) return Status::too_large;
            scanned_ = bytes.size();
            return Status::incomplete;
        }
        if (auto s = parse_head(bytes, end); s != Status::complete) return s;
        if (status_ < 200 && status_ != 101) {
            // An interim response (100 Continue, 103 Early Hints): the answer comes after it.
            start_ = scanned_ = end + 4;
            continue;
        }
        head_end_ = cursor_ = end + 4;
    }
    if (chunked_) return parse_chunks(bytes);
    auto held = bytes.size() - head_end_;
    if (to_end_) return held > max_body_ ? Status::too_large : Status::incomplete;
    if (held < content_length_) return Status::incomplete;
    consumed_ = head_end_ + content_length_;
    return Status::complete;
}

ResponseReader::Status ResponseReader::end(std::string_view bytes) {
    if (head_end_ == 0 || !to_end_) return Status::incomplete;
    if (bytes.size() - head_end_ > max_body_) return Status::too_large;
    consumed_ = bytes.size();
    return Status::complete;
}

ResponseReader::Status ResponseReader::parse_head(std::string_view bytes, std::size_t end) {
    fields_.clear();
    auto line_end = bytes.find(kCrlf, start_);
    bool http10 = false;
    status_ = status_line(bytes.substr(start_, line_end - start_), http10);
    if (status_ == 0) return Status::bad;
    bool has_length = false, has_coding = false, close = false, keep = false;
    std::string_view coding;
    content_length_ = 0;
    for (auto at = line_end + 2; at < end + 2;) {
        auto next = bytes.find(kCrlf, at);
        auto field = field_line(bytes.substr(at, next - at));
        if (!field) return Status::bad;
        fields_.push_back(
            {static_cast<std::size_t>(field->name.data() - bytes.data()), field->name.size(),
             static_cast<std::size_t>(field->value.data() - bytes.data()), field->value.size()});
        if (same_name(field->name, "content-length")) {
            std::size_t n = 0;
            if (!decimal(field->value, n) || (has_length && n != content_length_))
                return Status::bad;
            has_length = true;
            content_length_ = n;
        } else if (same_name(field->name, "transfer-encoding")) {
            // Several fields are one list: the last one's last coding is the final one.
            has_coding = true;
            coding = last_token(field->value);
            if (coding.empty()) return Status::bad;
        } else if (same_name(field->name, "connection")) {
            each_token(field->value, [&](std::string_view t) {
                close |= same_name(t, "close");
                keep |= same_name(t, "keep-alive");
            });
        }
        at = next + 2;
    }
    // A 1.0 response with a Transfer-Encoding is framed wrongly for its version: its connection
    // is not kept (RFC 9112 §6.1).
    keep_alive_ = status_ != 101 && (http10 ? keep && !has_coding : !close);
    chunked_ = to_end_ = false;
    if (status_ < 200 || status_ == 204 || status_ == 304) {
        content_length_ = 0;  // no body, whatever the fields say
        return Status::complete;
    }
    // Both framings at once is how responses are split by a proxy (RFC 9112 §6.1).
    if (has_coding && has_length) return Status::bad;
    if (has_coding) {
        chunked_ = same_name(coding, "chunked");
        to_end_ = !chunked_;
    } else if (!has_length) {
        to_end_ = true;
    }
    if (content_length_ > max_body_) return Status::too_large;
    return Status::complete;
}

ResponseReader::Status ResponseReader::parse_chunks(std::string_view bytes) {
    for (;;) {
        if (in_chunk_) {
            // A chunk's data as it comes (a cut stream keeps what arrived of it), then its CRLF.
            auto take = std::min(chunk_left_, bytes.size() - cursor_);
            chunked_body_.append(bytes.data() + cursor_, take);
            cursor_ += take;
            chunk_left_ -= take;
            if (chunk_left_ > 0 || bytes.size() < cursor_ + 2) return Status::incomplete;
            if (bytes.substr(cursor_, 2) != kCrlf) return Status::bad;
            cursor_ += 2;
            in_chunk_ = false;
            continue;
        }
        // A line waiting for its end may hold its CR already.
        auto line_end = bytes.find(kCrlf, cursor_);
        if (line_end == std::string_view::npos)
            return bytes.size() - cursor_ > kMaxChunkLine + 1 ? Status::bad : Status::incomplete;
        auto line = bytes.substr(cursor_, line_end - cursor_);
        if (line.size() > kMaxChunkLine) return Status::bad;
        // The chunks' own lines and the trailer are held with the body: what is whole of them
        // may take the body's limit and the head's once more, no further.
        if (line_end + 2 - head_end_ > max_body_ + max_header_) return Status::too_large;
        cursor_ = line_end + 2;
        if (trailer_) {  // trailer fields, ignored, up to a blank line
            if (line.empty()) {
                consumed_ = cursor_;
                return Status::complete;
            }
            if (!field_line(line)) return Status::bad;
            continue;
        }
        auto size = chunk_size(line);
        if (!size) return Status::bad;
        if (*size == 0) {
            trailer_ = true;
            continue;
        }
        if (chunked_body_.size() + *size > max_body_) return Status::too_large;
        chunk_left_ = *size;
        in_chunk_ = true;
    }
}

std::string_view ResponseReader::header(std::string_view bytes, std::string_view lower_name) const {
    for (const auto& f : fields_)
        if (same_name(bytes.substr(f.name, f.name_size), lower_name))
            return bytes.substr(f.value, f.value_size);
    return {};
}

std::string_view ResponseReader::body(std::string_view bytes) const {
    if (chunked_) return chunked_body_;
    if (head_end_ == 0) return {};
    auto held = bytes.substr(head_end_);
    return to_end_ ? held : held.substr(0, content_length_);
}

}  // namespace brownout::harness
