// The harness's response reader, on its own and side by side with Beast's parser, which it
// replaced: every response the mock writes, and the shapes real servers and gateways answer
// with, read the same, given in one piece, a byte at a time or cut short by the peer.

#include "harness/http_response.h"

#include <fmt/format.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <random>

#include "tests/support/beast_feed.h"

using namespace brownout::harness;
using Status = ResponseReader::Status;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr std::size_t kMaxHeader = 2048;
constexpr std::size_t kMaxBody = 1500;

// What a read made of a response, in the terms both readers share.
struct Read {
    Status status = Status::incomplete;
    int code = 0;
    std::string body;
    bool keep_alive = false;
    std::size_t consumed = 0;
    std::string content_type, retry_after, retry_after_ms, should_retry;

    std::string describe() const {
        return fmt::format(
            "status {} code {} consumed {} body [{}] keep-alive {} type [{}] retry-after [{}] "
            "retry-after-ms [{}] should-retry [{}]",
            static_cast<int>(status), code, consumed, body, keep_alive, content_type, retry_after,
            retry_after_ms, should_retry);
    }
};

// The reader given the bytes in pieces ending at `cuts` (and at the end), then, with `closed`,
// told the peer closed.
Read read_in_pieces(std::string_view bytes, std::vector<std::size_t> cuts = {},
                    bool closed = false) {
    ResponseReader reader(kMaxHeader, kMaxBody);
    cuts.push_back(bytes.size());
    std::sort(cuts.begin(), cuts.end());
    Read out;
    for (auto cut : cuts) {
        out.status = reader.parse(bytes.substr(0, cut));
        if (out.status != Status::incomplete) break;
    }
    if (closed && out.status == Status::incomplete) out.status = reader.end(bytes);
    if (out.status == Status::bad || out.status == Status::too_large) return out;
    out.code = reader.status();
    out.body = std::string(reader.body(bytes));
    out.consumed = out.status == Status::complete ? reader.consumed() : 0;
    out.keep_alive = out.status == Status::complete && reader.keep_alive();
    out.content_type = std::string(reader.header(bytes, "content-type"));
    out.retry_after = std::string(reader.header(bytes, "retry-after"));
    out.retry_after_ms = std::string(reader.header(bytes, "retry-after-ms"));
    out.should_retry = std::string(reader.header(bytes, "x-should-retry"));
    return out;
}

// What Beast's parser (as the transport used it: eager, the same limits) made of the bytes,
// then of the peer's close with `closed`.
Read beast_read(std::string_view bytes, bool closed = false) {
    http::response_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(kMaxHeader));
    parser.body_limit(kMaxBody);
    parser.eager(true);
    beast::error_code ec;
    auto used = brownout::test::beast_feed(parser, bytes, ec);
    Read out;
    if (ec == http::error::need_more) ec = {};
    if (!ec && !parser.is_done() && closed) parser.put_eof(ec);
    if (ec == http::error::header_limit || ec == http::error::body_limit) {
        out.status = Status::too_large;
        return out;
    }
    if (ec && ec != http::error::partial_message) {
        out.status = Status::bad;
        return out;
    }
    out.status = parser.is_done() ? Status::complete : Status::incomplete;
    if (!parser.is_header_done()) return out;
    auto& res = parser.get();
    out.code = static_cast<int>(res.result_int());
    out.body = res.body();
    out.consumed = out.status == Status::complete ? used : 0;
    out.keep_alive = out.status == Status::complete && res.keep_alive() && !parser.need_eof();
    out.content_type = std::string(res[http::field::content_type]);
    out.retry_after = std::string(res[http::field::retry_after]);
    out.retry_after_ms = std::string(res["retry-after-ms"]);
    out.should_retry = std::string(res["x-should-retry"]);
    return out;
}

std::string chunked(std::initializer_list<std::string_view> chunks, std::string trailer = "") {
    std::string out;
    for (auto c : chunks) out += fmt::format("{:x}\r\n{}\r\n", c.size(), c);
    return out + "0\r\n" + trailer + "\r\n";
}

const std::string kSseHead =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    "Transfer-Encoding: chunked\r\n\r\n";

// Responses the mock writes and real servers answer with: each read the same by both.
std::vector<std::string> shared_cases() {
    return {
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n"
        "{\"a\":\"hello\"}",
        kSseHead + chunked({"data: {\"x\":1}\n\n", "data: {\"x\":2}\n\n", "data: [DONE]\n\n"}),
        kSseHead + chunked({"event: ping\ndata: {}\n\n"}, "X-Trailer: yes\r\n"),
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n"
        "0 ; last\r\n\r\n",
        "HTTP/1.1 429 Too Many Requests\r\nretry-after: 2\r\nRetry-After-Ms: 1500\r\n"
        "x-should-retry: true\r\nx-should-retry: false\r\ncontent-type: application/json\r\n"
        "content-length: 36\r\n\r\n{\"error\":{\"message\":\"slow down\"}}  ",
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length:   5   \r\nConnection: close\r\n\r\n"
        "busy!",
        "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 204 No Content\r\nX-Request-Id: 1\r\n\r\n",
        "HTTP/1.1 304 Not Modified\r\nContent-Length: 40\r\n\r\n",
        "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 \r\nContent-Length: 1\r\n\r\nx",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + chunked({"zz"}),
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\n",  // the next one's
                                                                               // start
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
        // Refused by both.
        "HTTP/1.1 200 OK\nContent-Length: 3\n\nabc",
        "HTTP/1.1 200 OK\r\nContent-Length: 3x\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
        "HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nBad Name: 1\r\nContent-Length: 0\r\n\r\n",
        // Both framings at once (RFC 9112 §6.1).
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n" +
            chunked({"hello"}),
        // Limits: a head past kMaxHeader, a body past kMaxBody, declared or chunked.
        "HTTP/1.1 200 OK\r\nX-Big: " + std::string(2100, 'a') + "\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1501\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
            chunked({std::string(1000, 'a'), std::string(1000, 'b')}),
    };
}

}  // namespace

TEST_CASE("response reader: reads as Beast did, whole, a byte at a time and in random pieces") {
    std::mt19937 rng(7);
    for (const auto& bytes : shared_cases()) {
        INFO(bytes);
        auto beast = beast_read(bytes);
        auto whole = read_in_pieces(bytes);
        CHECK(whole.describe() == beast.describe());
        std::vector<std::size_t> every(bytes.size());
        std::iota(every.begin(), every.end(), std::size_t{1});
        CHECK(read_in_pieces(bytes, every).describe() == beast.describe());
        for (int round = 0; round < 20; ++round) {
            std::vector<std::size_t> cuts;
            for (int i = 0; i < 4; ++i) cuts.push_back(rng() % (bytes.size() + 1));
            CHECK(read_in_pieces(bytes, cuts).describe() == beast.describe());
        }
    }
}

TEST_CASE("response reader: a body that runs to the connection's end, and answers cut short") {
    std::vector<std::string> cases = {
        // No length: the body is whatever came before the close, and the connection is done.
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it",
        "HTTP/1.1 200 OK\r\n\r\nno length",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nnot chunked",
        // Cut: a stream stopped mid-chunk, between chunks, in a chunk line; a body short of
        // its length; a head never finished.
        kSseHead + "f\r\ndata: {\"x\":1}\n\n\r\nf\r\ndata: {\"x",
        kSseHead + "f\r\ndata: {\"x\":1}\n\n\r\n",
        kSseHead + "f\r\ndata: {\"x\":1}\n\n\r\n1",
        "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nonly ten b",
        "HTTP/1.1 200 OK\r\nContent-Le",
    };
    for (const auto& bytes : cases) {
        INFO(bytes);
        auto beast = beast_read(bytes, true);
        CHECK(read_in_pieces(bytes, {}, true).describe() == beast.describe());
        std::vector<std::size_t> every(bytes.size());
        std::iota(every.begin(), every.end(), std::size_t{1});
        CHECK(read_in_pieces(bytes, every, true).describe() == beast.describe());
    }
    // Not closed, the same bytes are incomplete: the reader waits.
    ResponseReader reader(kMaxHeader, kMaxBody);
    CHECK(reader.parse("HTTP/1.1 200 OK\r\n\r\nno length") == Status::incomplete);
    CHECK(reader.head_done());
    CHECK(reader.body("HTTP/1.1 200 OK\r\n\r\nno length") == "no length");
}

TEST_CASE("response reader: where it differs from Beast, on purpose") {
    SECTION("interim responses are skipped: the answer is the one after them") {
        std::string bytes =
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        auto read = read_in_pieces(bytes);
        CHECK(read.status == Status::complete);
        CHECK(read.code == 200);
        CHECK(read.body == "ok");
        CHECK(read.consumed == bytes.size());
        // Beast hands the 100 over as the message.
        CHECK(beast_read(bytes).code == 100);
    }
    SECTION("a field line folded onto the last is refused (RFC 9112 §5.2), where Beast took it") {
        std::string bytes = "HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\nContent-Length: 0\r\n\r\n";
        CHECK(read_in_pieces(bytes).status == Status::bad);
        CHECK(beast_read(bytes).status == Status::complete);
    }
    SECTION("a switch of protocols ends the response and the connection") {
        auto read = read_in_pieces("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n");
        CHECK(read.status == Status::complete);
        CHECK_FALSE(read.keep_alive);
    }
}

TEST_CASE("response reader: its limits and refusals do not depend on how the bytes came") {
    auto split_alike = [](const std::string& bytes) {
        auto whole = read_in_pieces(bytes, {}, true);
        for (std::size_t cut = 1; cut < bytes.size(); cut += 37)
            CHECK(read_in_pieces(bytes, {cut}, true).describe() == whole.describe());
        return whole.status;
    };
    // A head past the limit with a bare line end within it: bad, whole or in pieces.
    CHECK(split_alike("HTTP/1.1 200 OK\n" + std::string(2100, 'a') + "\r\n\r\nX") == Status::bad);
    CHECK(split_alike("HTTP/1.1 200 OK\r\nX: " + std::string(2100, 'a') + "\r\n\r\nX") ==
          Status::too_large);
    // A chunk line of the longest length taken, its CR read before its LF.
    std::string longest = "5;" + std::string(4094, 'e');
    std::string stream = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + longest +
                         "\r\nhello\r\n0\r\n\r\n";
    CHECK(split_alike(stream) == Status::too_large);  // 4 KiB of chunk lines: past 2 KiB + 1.5 KiB
    ResponseReader big(kMaxHeader, 8192);
    auto cr = stream.find(longest) + longest.size() + 1;
    CHECK(big.parse(std::string_view(stream).substr(0, cr)) == Status::incomplete);
    CHECK(big.parse(stream) == Status::complete);
    CHECK(big.body(stream) == "hello");
    // Interim responses count against the head's limit: an endless run of them is too large.
    std::string interims;
    while (interims.size() < 2 * kMaxHeader) interims += "HTTP/1.1 100 Continue\r\n\r\n";
    CHECK(split_alike(interims) == Status::too_large);
    // Many small chunks: their lines count with the body.
    std::string small = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    while (small.size() < 5000) small += "1;" + std::string(60, 'x') + "\r\na\r\n";
    CHECK(split_alike(small + "0\r\n\r\n") == Status::too_large);
}

TEST_CASE(
    "response reader: an HTTP/1.0 answer with a Transfer-Encoding does not keep its "
    "connection") {
    std::string bytes =
        "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: "
        "chunked\r\n\r\n" +
        chunked({"hi"});
    auto read = read_in_pieces(bytes);
    CHECK(read.status == Status::complete);
    CHECK(read.body == "hi");
    CHECK_FALSE(read.keep_alive);
}

TEST_CASE("response reader: reset for the next answer on the same connection") {
    ResponseReader reader(kMaxHeader, kMaxBody);
    std::string first = kSseHead + chunked({"data: 1\n\n"});
    REQUIRE(reader.parse(first) == Status::complete);
    CHECK(reader.body(first) == "data: 1\n\n");
    reader.reset();
    std::string second = "HTTP/1.1 500 Oops\r\nContent-Length: 4\r\n\r\noops";
    REQUIRE(reader.parse(second) == Status::complete);
    CHECK(reader.status() == 500);
    CHECK(reader.body(second) == "oops");
    CHECK(reader.header(second, "content-type").empty());
    CHECK(reader.keep_alive());
}
