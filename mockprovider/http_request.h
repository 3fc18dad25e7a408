#pragma once
// Reading an HTTP/1.1 request off a connection: the request line, the few header fields the mock
// acts on, and the body (Content-Length or chunked). Beast's parser did this before; it kept every
// field in a list of its own (three allocations a request) and ran its read loop around them. This
// one copies out only what the mock uses (bench/README.md, "where a served request's time goes").
//
//   bytes read so far ──► RequestReader::parse ──► complete: request(), and consumed() bytes
//                                               ├─► incomplete: read more, call again
//                                               └─► bad | header_too_large | body_too_large
//
// It takes what Beast took and refuses what Beast refused for the requests clients send
// (tests/mockprovider/http_request_test.cpp holds the two side by side). Where they differ, as
// RFC 9112 allows: it refuses a field line folded onto the next, a Transfer-Encoding that does
// not end in chunked (Beast ignored it and read the body as the next request), any
// Transfer-Encoding beside a Content-Length, a list in Content-Length ("5, 5"), and chunk
// extensions or trailers with control bytes; it skips blank lines before a request line (Beast
// refused them). Everything it holds has a limit: the head (blank lines before it included)
// max_header_bytes, the body max_body_bytes, a chunked body's own lines and trailer the two
// together.

#include <cstddef>
#include <string>
#include <string_view>

namespace brownout::mock {

struct HttpRequest {
    std::string method;
    std::string target;
    std::string body;
    // The first of each field, without the blanks around it; empty when absent.
    std::string authorization;
    std::string x_api_key;
    std::string x_goog_api_key;
    std::string brownout_fault;  // x-brownout-fault
    std::string retry_count;     // x-stainless-retry-count
    // HTTP/1.1 keeps the connection unless "Connection: close"; 1.0 only with "keep-alive".
    bool keep_alive = true;
};

class RequestReader {
public:
    enum class Status { incomplete, complete, bad, header_too_large, body_too_large };

    RequestReader(std::size_t max_header_bytes, std::size_t max_body_bytes)
        : max_header_(max_header_bytes), max_body_(max_body_bytes) {}

    // `bytes`: everything read since the request began. Each call sees the bytes of the one
    // before again, and perhaps more; after `complete`, the first consumed() were the request's
    // (what follows is the next one's). After body_too_large the head's fields are in request().
    // The answer does not depend on how the bytes were split between calls.
    Status parse(std::string_view bytes);
    // Past any blank lines: a request has begun (a peer that closes now cut one off).
    bool begun() const { return begun_; }
    HttpRequest& request() { return request_; }
    std::size_t consumed() const { return consumed_; }
    // For the next request on the connection; keeps the strings' room.
    void reset();

private:
    Status check_lines(std::string_view bytes);  // an unfinished head's whole lines
    Status parse_head(std::string_view head);
    bool parse_field(std::string_view name, std::string_view value);  // false: a bad value
    Status parse_chunks(std::string_view bytes);

    std::size_t max_header_;
    std::size_t max_body_;
    HttpRequest request_;
    bool begun_ = false;        // past the blank lines that may come before the request line
    std::size_t start_ = 0;     // the request line's first byte
    std::size_t scanned_ = 0;   // where the search for the head's end goes on
    std::size_t checked_ = 0;   // the first line of an unfinished head not yet looked at
    std::size_t head_end_ = 0;  // past the head's blank line; 0 until the head is read
    unsigned seen_ = 0;         // the fields met so far, a bit each (only the first counts)
    std::size_t content_length_ = 0;
    bool has_length_ = false;
    bool has_coding_ = false;  // Transfer-Encoding
    bool chunked_ = false;
    bool http10_ = false;
    bool close_ = false;       // "Connection: close"
    bool keep_token_ = false;  // "Connection: keep-alive"
    bool trailer_ = false;     // chunked: past the last chunk, reading trailer fields
    std::size_t cursor_ = 0;   // chunked: the next chunk's size line
    std::size_t consumed_ = 0;
};

}  // namespace brownout::mock
