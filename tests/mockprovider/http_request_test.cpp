// The mock's request reader, on its own and side by side with Beast's parser, which it replaced:
// every request a client could send is read the same, given in one piece or a byte at a time.

#include "mockprovider/http_request.h"

#include <fmt/format.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <random>

#include "tests/support/beast_feed.h"

using namespace brownout::mock;
using Status = RequestReader::Status;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr std::size_t kMaxHeader = 2048;
constexpr std::size_t kMaxBody = 1500;

struct Read {
    Status status = Status::incomplete;
    HttpRequest request;
    std::size_t consumed = 0;
};

// The reader given the bytes in pieces that end at `cuts` (and at the end): every piece but the
// last must leave it wanting more, unless it has already said what it found.
Read read_in_pieces(std::string_view bytes, std::vector<std::size_t> cuts = {}) {
    RequestReader reader(kMaxHeader, kMaxBody);
    cuts.push_back(bytes.size());
    std::sort(cuts.begin(), cuts.end());
    Read out;
    for (auto cut : cuts) {
        out.status = reader.parse(bytes.substr(0, cut));
        if (out.status != Status::incomplete) break;
    }
    out.request = reader.request();
    out.consumed = reader.consumed();
    return out;
}

Read read_whole(std::string_view bytes) {
    return read_in_pieces(bytes);
}

// What Beast's parser (as the server used it: header and body limits, the whole request) made
// of the same bytes.
Read beast_read(std::string_view bytes) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(kMaxHeader));
    parser.body_limit(kMaxBody);
    parser.eager(true);
    beast::error_code ec;
    auto used = brownout::test::beast_feed(parser, bytes, ec);
    Read out;
    if (ec == http::error::need_more || (!ec && !parser.is_done())) return out;  // incomplete
    if (ec == http::error::header_limit) {
        out.status = Status::header_too_large;
        return out;
    }
    if (ec == http::error::body_limit) {
        out.status = Status::body_too_large;
        return out;
    }
    if (ec) {
        out.status = Status::bad;
        return out;
    }
    auto& req = parser.get();
    out.status = Status::complete;
    out.consumed = used;
    out.request.method = std::string(req.method_string());
    out.request.target = std::string(req.target());
    out.request.body = req.body();
    out.request.authorization = std::string(req[http::field::authorization]);
    out.request.x_api_key = std::string(req["x-api-key"]);
    out.request.x_goog_api_key = std::string(req["x-goog-api-key"]);
    out.request.brownout_fault = std::string(req["x-brownout-fault"]);
    out.request.retry_count = std::string(req["x-stainless-retry-count"]);
    out.request.keep_alive = req.keep_alive();
    return out;
}

std::string describe(const Read& r) {
    const auto& q = r.request;
    return fmt::format(
        "status {} consumed {} method [{}] target [{}] body {} bytes auth [{}] key [{}] goog [{}] "
        "fault [{}] retry [{}] keep-alive {}",
        static_cast<int>(r.status), r.consumed, q.method, q.target, q.body.size(), q.authorization,
        q.x_api_key, q.x_goog_api_key, q.brownout_fault, q.retry_count, q.keep_alive);
}

// Where this reader refuses on purpose what Beast's took (http_request.h): a field line folded onto
// the last, a Transfer-Encoding that is not a list of tokens ending in chunked, both framings, a
// list in Content-Length.
bool refused_on_purpose(std::string_view bytes) {
    auto head = bytes.substr(0, bytes.find("\r\n\r\n") + 2);
    if (head.find("\r\n ") != std::string_view::npos ||
        head.find("\r\n\t") != std::string_view::npos)
        return true;
    auto lower = [](std::string_view s) {
        std::string out(s);
        for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return out;
    };
    auto trim = [](const std::string& s) {
        auto b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
        return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
    };
    bool length = false, coding = false, odd = false;
    for (std::size_t at = head.find("\r\n") + 2; at < head.size();) {
        auto end = head.find("\r\n", at);
        auto line = head.substr(at, end - at);
        at = end + 2;
        auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        auto name = lower(line.substr(0, colon));
        auto value = lower(line.substr(colon + 1));
        if (name == "content-length") {
            length = true;
            odd |= value.find(',') != std::string::npos;
        }
        if (name == "transfer-encoding") {
            coding = true;
            auto comma = value.rfind(',');
            auto token_byte = [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) ||
                       std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
            };
            odd |= trim(value.substr(comma == std::string::npos ? 0 : comma + 1)) != "chunked";
            for (std::size_t from = 0; from <= value.size();) {  // each item of the list a token
                auto next = std::min(value.find(',', from), value.size());
                auto item = trim(value.substr(from, next - from));
                odd |= !std::all_of(item.begin(), item.end(), token_byte);
                from = next + 1;
            }
        }
    }
    return odd || (length && coding);
}

bool same(const Read& a, const Read& b) {
    if (a.status != b.status) return false;
    if (a.status != Status::complete) return true;
    const auto &x = a.request, &y = b.request;
    return a.consumed == b.consumed && x.method == y.method && x.target == y.target &&
           x.body == y.body && x.authorization == y.authorization && x.x_api_key == y.x_api_key &&
           x.x_goog_api_key == y.x_goog_api_key && x.brownout_fault == y.brownout_fault &&
           x.retry_count == y.retry_count && x.keep_alive == y.keep_alive;
}

// A request as clients send them: any mix of the fields the mock reads and others, names in any
// case, blanks around values, a body by Content-Length or in chunks (with extensions and
// trailers), HTTP/1.1 or 1.0.
std::string random_request(std::mt19937_64& rng) {
    auto pick = [&](auto... options) {
        std::vector<std::string> v{options...};
        return v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng)];
    };
    auto chance = [&](double p) { return std::bernoulli_distribution(p)(rng); };
    auto recase = [&](std::string name) {
        for (auto& c : name)
            if (chance(0.3)) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        return name;
    };
    auto blanks = [&] { return pick("", "", " ", "  ", "\t", " \t"); };
    std::string out = fmt::format("{} {} {}\r\n", pick("POST", "POST", "GET", "PUT", "DELETE"),
                                  pick("/v1/chat/completions", "/v1/messages?beta=true",
                                       "/v1beta/models/gemini-2.0-flash:generateContent?key=k%201",
                                       "/api/chat", "/metrics", "*"),
                                  pick("HTTP/1.1", "HTTP/1.1", "HTTP/1.0"));
    std::vector<std::pair<std::string, std::string>> fields = {
        {"host", "127.0.0.1:8080"},
        {"content-type", "application/json"},
        {"authorization", "Bearer sk-" + std::to_string(rng() % 100000)},
        {"x-api-key", "sk-ant-" + std::to_string(rng() % 1000)},
        {"x-goog-api-key", "AIza" + std::to_string(rng() % 1000)},
        {"x-brownout-fault", pick("busy", "outage", "stall")},
        {"x-stainless-retry-count", std::to_string(rng() % 4)},
        {"connection", pick("close", "keep-alive", "Keep-Alive, Upgrade", "upgrade,close", "te")},
        {"user-agent", "OpenAI/JS 5.1.0"},
        {"accept", "*/*"},
        {"x-empty", ""},
    };
    std::shuffle(fields.begin(), fields.end(), rng);
    for (const auto& [name, value] : fields) {
        if (!chance(0.6)) continue;
        int times = chance(0.1) ? 2 : 1;  // a field twice: the first counts, even when empty
        bool empty_first = times == 2 && chance(0.3);
        for (int t = 0; t < times; ++t)
            out += fmt::format("{}:{}{}{}{}\r\n", recase(name), blanks(),
                               t == 0 && empty_first ? "" : value, t ? "-again" : "", blanks());
    }
    std::string body(std::uniform_int_distribution<std::size_t>(0, chance(0.1) ? 2000 : 600)(rng),
                     'x');
    for (auto& c : body) c = static_cast<char>(' ' + rng() % 95);
    if (chance(0.3)) {
        out += recase("transfer-encoding") + ":" + blanks() + pick("chunked", "gzip, chunked") +
               "\r\n\r\n";
        for (std::size_t at = 0; at < body.size();) {
            std::size_t n = std::min<std::size_t>(body.size() - at, 1 + rng() % 300);
            out += chance(0.5) ? fmt::format("{:x}", n) : fmt::format("{:X}", n);
            if (chance(0.2)) out += ";ext=1";
            out += "\r\n" + body.substr(at, n) + "\r\n";
            at += n;
        }
        out += "0\r\n";
        if (chance(0.2)) out += "x-trailer: 1\r\n";
        out += "\r\n";
    } else {
        if (!body.empty() || chance(0.5))
            out += recase("content-length") + ":" + blanks() + std::to_string(body.size()) + "\r\n";
        else
            body.clear();
        out += "\r\n" + body;
    }
    return out;
}

}  // namespace

TEST_CASE("a request with a body by its length is read whole, with the fields the mock uses",
          "[http]") {
    std::string bytes =
        "POST /v1/chat/completions HTTP/1.1\r\n"
        "Host: localhost\r\n"
        "Authorization:  Bearer sk-1 \r\n"
        "X-Stainless-Retry-Count: 2\r\n"
        "x-brownout-fault: busy\r\n"
        "Content-Length: 11\r\n"
        "\r\n"
        "{\"a\": true}";
    auto r = read_whole(bytes);
    REQUIRE(r.status == Status::complete);
    CHECK(r.request.method == "POST");
    CHECK(r.request.target == "/v1/chat/completions");
    CHECK(r.request.authorization == "Bearer sk-1");
    CHECK(r.request.retry_count == "2");
    CHECK(r.request.brownout_fault == "busy");
    CHECK(r.request.body == "{\"a\": true}");
    CHECK(r.request.keep_alive);
    CHECK(r.consumed == bytes.size());

    SECTION("given a byte at a time, it wants more until the last byte") {
        std::vector<std::size_t> cuts;
        for (std::size_t i = 1; i < bytes.size(); ++i) cuts.push_back(i);
        auto piecemeal = read_in_pieces(bytes, cuts);
        CHECK(same(piecemeal, r));
    }
    SECTION("what follows it is the next request's") {
        auto two = bytes + "GET /healthz HTTP/1.1\r\n\r\n";
        RequestReader reader(kMaxHeader, kMaxBody);
        REQUIRE(reader.parse(two) == Status::complete);
        CHECK(reader.consumed() == bytes.size());
        reader.reset();
        REQUIRE(reader.parse(std::string_view(two).substr(bytes.size())) == Status::complete);
        CHECK(reader.request().target == "/healthz");
        CHECK(reader.request().body.empty());
    }
}

TEST_CASE("a chunked body is put together, extensions and trailers dropped", "[http]") {
    std::string bytes =
        "POST /v1/messages HTTP/1.1\r\n"
        "transfer-encoding: chunked\r\n"
        "\r\n"
        "5;name=value\r\nhello\r\n"
        "1\r\n \r\n"
        "A\r\n0123456789\r\n"
        "0\r\n"
        "x-checksum: 1\r\n"
        "\r\n";
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i < bytes.size(); ++i) cuts.push_back(i);
    for (const auto& r : {read_whole(bytes), read_in_pieces(bytes, cuts)}) {
        REQUIRE(r.status == Status::complete);
        CHECK(r.request.body == "hello 0123456789");
        CHECK(r.consumed == bytes.size());
    }
}

TEST_CASE("HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 only when told to keep it",
          "[http]") {
    auto keep = [](std::string version, std::string connection) {
        auto r = read_whole(fmt::format("GET / {}\r\n{}\r\n", version, connection));
        REQUIRE(r.status == Status::complete);
        return r.request.keep_alive;
    };
    CHECK(keep("HTTP/1.1", ""));
    CHECK_FALSE(keep("HTTP/1.1", "Connection: close\r\n"));
    CHECK_FALSE(keep("HTTP/1.1", "Connection: Upgrade, CLOSE\r\n"));
    CHECK_FALSE(keep("HTTP/1.0", ""));
    CHECK(keep("HTTP/1.0", "Connection: keep-alive\r\n"));
}

TEST_CASE("past a limit: too large a head, too large a body, by its length or its chunks",
          "[http]") {
    std::string long_field = "x-padding: " + std::string(kMaxHeader, 'a') + "\r\n";
    SECTION("a head past the limit, whole or not yet ended") {
        CHECK(read_whole("POST / HTTP/1.1\r\n" + long_field + "\r\n").status ==
              Status::header_too_large);
        CHECK(read_whole("POST / HTTP/1.1\r\n" + long_field).status == Status::header_too_large);
    }
    SECTION("a length past the limit is refused before its body comes, the head's fields read") {
        auto r = read_whole(
            fmt::format("POST /v1/messages HTTP/1.1\r\nx-api-key: k\r\ncontent-length: {}\r\n\r\n",
                        kMaxBody + 1));
        CHECK(r.status == Status::body_too_large);
        CHECK(r.request.target == "/v1/messages");
        CHECK(r.request.x_api_key == "k");
    }
    SECTION("chunks adding up past the limit") {
        auto chunk =
            fmt::format("{:x}\r\n{}\r\n", kMaxBody / 2 + 1, std::string(kMaxBody / 2 + 1, 'b'));
        CHECK(read_whole("POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n" + chunk + chunk)
                  .status == Status::body_too_large);
    }
}

TEST_CASE("malformed requests are bad requests", "[http]") {
    auto status = [](std::string bytes) { return read_whole(bytes).status; };
    CHECK(status("POST /\r\n\r\n") == Status::bad);                         // no version
    CHECK(status("POST  / HTTP/1.1\r\n\r\n") == Status::bad);               // two spaces
    CHECK(status("POST / HTTP/1.1 \r\n\r\n") == Status::bad);               // trailing space
    CHECK(status("POST / FTP/1.1\r\n\r\n") == Status::bad);                 // not HTTP
    CHECK(status("P@ST / HTTP/1.1\r\n\r\n") == Status::bad);                // not a token
    CHECK(status("POST / HTTP/1.1\nHost: x\n\n") == Status::bad);           // bare LF, at once
    CHECK(status("POST / HTTP/1.1\r\nHost x\r\n\r\n") == Status::bad);      // no colon
    CHECK(status("POST / HTTP/1.1\r\nHost : x\r\n\r\n") == Status::bad);    // blank before colon
    CHECK(status("POST / HTTP/1.1\r\nA: b\r\n c\r\n\r\n") == Status::bad);  // folded
    CHECK(status("POST / HTTP/1.1\r\nA: b\x01\r\n\r\n") == Status::bad);    // control byte
    CHECK(status(std::string("GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n", 28)) == Status::bad);  // NUL
    CHECK(status("POST / HTTP/1.1\r\ncontent-length: 1x\r\n\r\n") == Status::bad);
    CHECK(status("POST / HTTP/1.1\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n") ==
          Status::bad);
    CHECK(status("POST / HTTP/1.1\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n") ==
          Status::bad);
    CHECK(status("POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n") == Status::bad);
    CHECK(status("POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n2\r\nabc\r\n") ==
          Status::bad);  // the data longer than its size

    SECTION("a bad line is said as soon as it is whole, before the head ends") {
        CHECK(status("P@ST / HTTP/1.1\r\n") == Status::bad);
        CHECK(status(std::string("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n", 35)) == Status::bad);
        CHECK(status("GET / HTTP/1.1\r\nHost: x\r\n") == Status::incomplete);
    }
}

TEST_CASE("every request a client sends is read as Beast's parser read it, in any pieces",
          "[http]") {
    std::mt19937_64 rng(20261202);
    int complete = 0;
    for (int i = 0; i < 3000; ++i) {
        auto bytes = random_request(rng);
        auto mine = read_whole(bytes);
        auto theirs = beast_read(bytes);
        INFO(bytes);
        INFO("mine:   " << describe(mine));
        INFO("Beast's: " << describe(theirs));
        REQUIRE(same(mine, theirs));
        std::vector<std::size_t> cuts;
        for (int k = 0; k < 4; ++k) cuts.push_back(rng() % bytes.size());
        REQUIRE(same(read_in_pieces(bytes, cuts), mine));
        complete += mine.status == Status::complete;
    }
    CHECK(complete > 2000);  // most are whole requests, some past the body's limit
}

TEST_CASE("a request spoiled at one byte is refused wherever Beast's parser refused it", "[http]") {
    // One byte of a good request's head changed to one that matters to a parser. Where the two
    // differ, it is only where this reader refuses on purpose (refused_on_purpose()).
    std::mt19937_64 rng(8);
    const std::string spoilers = {' ',    '\t',   '\r',   '\n', ':', ',', ';',
                                  '\x01', '\x7f', '\x80', 'A',  'a', '0', '\0'};
    int refused = 0;
    for (int i = 0; i < 3000; ++i) {
        auto bytes = random_request(rng);
        auto head = bytes.find("\r\n\r\n");
        auto at = rng() % (head + 2);
        bytes[at] = spoilers[rng() % spoilers.size()];
        auto mine = read_whole(bytes);
        auto theirs = beast_read(bytes);
        INFO(bytes);
        INFO("mine:   " << describe(mine));
        INFO("Beast's: " << describe(theirs));
        if (mine.status == Status::bad && theirs.status != Status::bad) {
            CHECK(refused_on_purpose(bytes));
        } else if (mine.status == Status::incomplete || theirs.status == Status::incomplete) {
            // A line end spoiled: one waits for the rest, where the other saw a bad request.
            CHECK((mine.status == Status::bad || theirs.status == Status::bad ||
                   mine.status == theirs.status));
        } else {
            REQUIRE(same(mine, theirs));
        }
        refused += mine.status == Status::bad;
    }
    CHECK(refused > 300);
}

TEST_CASE("blank lines before a request are skipped, however they are split, within the limit",
          "[http]") {
    std::string bytes = "\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n";
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i < bytes.size(); ++i) cuts.push_back(i);
    for (const auto& r : {read_whole(bytes), read_in_pieces(bytes, cuts),
                          read_in_pieces(bytes, {1}), read_in_pieces(bytes, {3})}) {
        REQUIRE(r.status == Status::complete);
        CHECK(r.request.target == "/healthz");
        CHECK(r.consumed == bytes.size());
    }
    RequestReader reader(kMaxHeader, kMaxBody);
    CHECK(reader.parse("\r\n\r") == Status::incomplete);
    CHECK_FALSE(reader.begun());
    std::string endless;
    for (std::size_t i = 0; i <= kMaxHeader / 2; ++i) endless += "\r\n";
    CHECK(read_whole(endless).status == Status::header_too_large);
}

TEST_CASE("the first of a field counts, even when it is empty", "[http]") {
    auto r = read_whole("GET / HTTP/1.1\r\nAuthorization:\r\nauthorization: Bearer x\r\n\r\n");
    REQUIRE(r.status == Status::complete);
    CHECK(r.request.authorization.empty());
    CHECK(
        same(r, beast_read("GET / HTTP/1.1\r\nAuthorization:\r\nauthorization: Bearer x\r\n\r\n")));
}

TEST_CASE("a body the mock could not find the end of is refused, not read as the next request",
          "[http]") {
    auto status = [](std::string bytes) { return read_whole(bytes).status; };
    CHECK(status("POST / HTTP/1.1\r\ntransfer-encoding: gzip\r\n\r\n") == Status::bad);
    CHECK(status("POST / HTTP/1.1\r\ntransfer-encoding: chunked, gzip\r\n\r\n") == Status::bad);
    CHECK(status("POST / HTTP/1.1\r\ntransfer-encoding: chunked;x\r\n\r\n") == Status::bad);
    CHECK(status("POST / HTTP/1.1\r\ntransfer-encoding: gzip\r\ncontent-length: 2\r\n\r\nhi") ==
          Status::bad);
    CHECK(status("POST / HTTP/1.1\r\ncontent-length: 5, 5\r\n\r\nhello") == Status::bad);
    auto chunked = [&](std::string rest) {
        return status("POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n" + rest);
    };
    CHECK(chunked("5 junk\r\nhello\r\n0\r\n\r\n") == Status::bad);
    CHECK(chunked(std::string("5;a=\x01\r\nhello\r\n0\r\n\r\n")) == Status::bad);
    CHECK(chunked("5;a=b\nc\r\nhello\r\n0\r\n\r\n") == Status::bad);  // a bare LF
    CHECK(chunked("5\r\nhello\r\n0\r\nno colon\r\n\r\n") == Status::bad);
    CHECK(chunked("5;" + std::string(5000, 'e') + "\r\nhello\r\n0\r\n\r\n") == Status::bad);
    CHECK(chunked("5 ;a=b\r\nhello\r\n0\r\nx: y\r\n\r\n") == Status::complete);
}

TEST_CASE("what a request may hold has a limit: the head to the byte, chunk lines with the body",
          "[http]") {
    SECTION("a head of exactly the limit is read; one byte more is too large") {
        std::string start = "GET / HTTP/1.1\r\nx-pad: ";
        std::string pad(kMaxHeader - start.size() - 4, 'p');
        auto at_limit = start + pad + "\r\n\r\n";
        REQUIRE(at_limit.size() == kMaxHeader);
        CHECK(read_whole(at_limit).status == Status::complete);
        CHECK(read_whole(start + pad + "p\r\n\r\n").status == Status::header_too_large);
    }
    SECTION("a chunk past the body's limit is refused from its size line, before its data") {
        CHECK(
            read_whole(fmt::format("POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n",
                                   kMaxBody + 1))
                .status == Status::body_too_large);
    }
    SECTION("one-byte chunks: their lines count, so a body well under its limit can be refused") {
        std::string many = "POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n";
        for (std::size_t i = 0; i < kMaxBody; ++i) many += "1\r\nx\r\n";
        auto r = read_whole(many);
        CHECK(r.status == Status::body_too_large);
        std::vector<std::size_t> cuts;
        for (std::size_t at = 100; at < many.size(); at += 997) cuts.push_back(at);
        CHECK(read_in_pieces(many, cuts).status == Status::body_too_large);
    }
}
