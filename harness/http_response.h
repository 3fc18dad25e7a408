#pragma once
// Reading an HTTP/1.1 response off a connection: the status, the header fields (kept as places
// in the bytes, looked up by name when the answer is read) and the body (Content-Length,
// chunked, or up to the connection's end). Beast's response parser did this before, in two
// composed reads (the head, then the body) around a list of fields it allocated one by one:
// 9% of the harness driver's thread at 14,000 user requests a second (bench/README.md, "the
// harness reads its answers itself"). The mock's request reader (mockprovider/http_request.h) is
// its counterpart.
//
//   bytes read so far ──► ResponseReader::parse ──► complete: status(), header(), body()
//                                                ├─► incomplete: read more, call again
//                                                │   (the peer closed: end())
//                                                └─► bad | too_large
//
// Framing as RFC 9112 §6.3 has it for a response to a GET or POST: 1xx (but 101), 204 and 304
// have no body; a Transfer-Encoding ending in chunked is chunked, any other runs to the
// connection's end, as does a body with no length; else Content-Length. Interim 1xx responses
// are skipped (Beast handed the first over as the answer). It refuses what Beast refused in
// responses servers send (a bare LF or CR, a bad or conflicting Content-Length, both framings, a
// bad chunk line), and, where Beast took them, a field line folded onto the last (RFC 9112 §5.2
// lets a client refuse it) and a list in Content-Length ("5, 5"). Everything it holds has a
// limit: the heads, interim ones with them, max_header_bytes; the body max_body_bytes; a chunked
// body's own lines and trailer the two together (tests/harness/http_response_test.cpp holds it
// and Beast side by side).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace brownout::harness {

class ResponseReader {
public:
    enum class Status { incomplete, complete, bad, too_large };

    ResponseReader(std::size_t max_header_bytes, std::size_t max_body_bytes)
        : max_header_(max_header_bytes), max_body_(max_body_bytes) {}

    // `bytes`: everything read since the response began. Each call sees the bytes of the one
    // before again, and perhaps more (only offsets into them are kept); after `complete`, the
    // first consumed() were the response's. The answer does not depend on how the bytes were
    // split between calls.
    Status parse(std::string_view bytes);
    // The peer closed the connection after `bytes`: a body that runs to the connection's end is
    // complete now; anything else unfinished stays incomplete (cut), body() holding what came.
    Status end(std::string_view bytes);

    bool head_done() const { return head_end_ != 0; }
    int status() const { return status_; }
    // The first field of that name (the name given in lower case), its blanks dropped; empty
    // when absent. `bytes` as last parsed.
    std::string_view header(std::string_view bytes, std::string_view lower_name) const;
    // The body so far (all of it after `complete`). `bytes` as last parsed.
    std::string_view body(std::string_view bytes) const;
    // The connection may carry the next request: HTTP/1.1 without "Connection: close", 1.0 with
    // "keep-alive", and a body that did not run to the connection's end.
    bool keep_alive() const { return keep_alive_ && !to_end_; }
    std::size_t consumed() const { return consumed_; }
    // For the next response; keeps the lists' room.
    void reset();

private:
    struct Field {
        std::size_t name, name_size, value, value_size;  // offsets into the bytes
    };
    Status parse_head(std::string_view bytes, std::size_t end);
    Status parse_chunks(std::string_view bytes);

    std::size_t max_header_;
    std::size_t max_body_;
    std::size_t start_ = 0;     // the status line's first byte (past skipped 1xx responses)
    std::size_t scanned_ = 0;   // where the search for the head's end goes on
    std::size_t head_end_ = 0;  // past the head's blank line; 0 until the head is read
    int status_ = 0;
    std::vector<Field> fields_;
    bool keep_alive_ = true;
    bool chunked_ = false;
    bool to_end_ = false;  // the body runs to the connection's end
    std::size_t content_length_ = 0;
    // A chunked body: where the next chunk line (or the rest of a chunk's data) starts, what
    // is left of the chunk being read, and the body as decoded so far.
    std::size_t cursor_ = 0;
    std::size_t chunk_left_ = 0;
    bool in_chunk_ = false;
    bool trailer_ = false;
    std::string chunked_body_;
    std::size_t consumed_ = 0;
};

}  // namespace brownout::harness
