// The harness's HTTP transport against a live fleet and a hand-written server: what its connection
// pool does.

#include "harness/transport.h"

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <functional>
#include <sstream>
#include <thread>

#include "core/real_scheduler.h"
#include "harness/policies/policy.h"
#include "mockprovider/metrics.h"
#include "tests/integration/fleet_fixture.h"

using namespace brownout;
using namespace brownout::harness;
using namespace brownout::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

const std::string kPooledChat =
    R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]})";

// Sends `attempts` chat requests to provider 0 at `port` in `chains` chains at once, each
// attempt of a chain once the last has its result, on a real scheduler, and returns the results.
std::vector<AttemptResult> send_in_turn(unsigned short port, std::shared_ptr<ScaledClock> clock,
                                        std::size_t attempts, Duration timeout = 5s,
                                        std::size_t chains = 1) {
    asio::io_context ioc;
    RealScheduler scheduler(ioc, std::move(clock));
    ProviderAddress address;
    address.id = "openai";
    address.host = "127.0.0.1";
    address.port = port;
    address.model = "gpt-4o-mini";
    HttpTransport transport(ioc, {address}, scheduler);
    std::vector<AttemptResult> results;
    std::size_t sent = 0;
    std::function<void()> next = [&] {
        if (sent == attempts) return;
        ++sent;
        wire::ClientRequest request;
        request.path = "/v1/chat/completions";
        request.headers = {{"content-type", "application/json"}};
        request.body = kPooledChat;
        transport.send(0, std::move(request), timeout, [&](AttemptResult r) {
            results.push_back(std::move(r));
            if (results.size() < attempts) return next();
            transport.close_all();
            scheduler.stop();
        });
    };
    for (std::size_t c = 0; c < chains; ++c) asio::post(ioc, next);
    ioc.run_for(60s);
    return results;
}

}  // namespace

TEST_CASE(
    "the HTTP transport keeps its connection alive: attempts one after another, each answered "
    "in full, go over one connection",
    "[integration][transport]") {
    LiveFleet f({fast_provider()});
    auto results = send_in_turn(f.port(), f.clock, 6);
    REQUIRE(results.size() == 6);
    for (const auto& r : results) {
        CHECK(r.kind == AttemptResult::Kind::answer);
        CHECK(r.status == 200);
        CHECK_FALSE(r.text.empty());
    }
    CHECK(f.fleet->metrics().value(mock::metric::connections, {{"provider", "openai"}}) == 1);
}

TEST_CASE(
    "bytes past an answer's end: the HTTP transport does not pool their connection, and the next "
    "attempt opens a new one instead of reading them as its answer",
    "[integration][transport]") {
    // A server that answers each request with a complete response and then a stray line, and
    // serves its connections one at a time until the second has ended.
    asio::io_context server_ioc;
    tcp::acceptor acceptor(server_ioc, {asio::ip::make_address("127.0.0.1"), 0});
    auto port = acceptor.local_endpoint().port();
    std::atomic<int> accepted{0}, served{0};  // connections, and those that carried a request
    std::thread server([&] {
        const std::string body =
            R"({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini",)"
            R"("choices":[{"index":0,"message":{"role":"assistant","content":"hi"},)"
            R"("finish_reason":"stop"}]})";
        const std::string answer =
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            "content-length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body + "stray bytes\r\n";
        for (int c = 0; c < 2; ++c) {
            tcp::socket socket(server_ioc);
            acceptor.accept(socket);
            ++accepted;
            boost::system::error_code ec;
            boost::beast::flat_buffer in;
            for (bool first = true;; first = false) {  // until the client closes the connection
                boost::beast::http::request<boost::beast::http::string_body> request;
                boost::beast::http::read(socket, in, request, ec);
                if (ec) break;
                if (first) ++served;
                asio::write(socket, asio::buffer(answer), ec);
                if (ec) break;
            }
        }
    });
    auto results = send_in_turn(port, std::make_shared<ScaledClock>(1.0), 2);
    if (accepted <
        2) {  // the client never came back: a connection that sends nothing ends the wait
        asio::io_context ioc;
        tcp::socket poke(ioc);
        poke.connect({asio::ip::make_address("127.0.0.1"), port});
    }
    server.join();
    REQUIRE(results.size() == 2);
    for (const auto& r : results) {
        CHECK(r.status == 200);
        CHECK(r.text == "hi");
    }
    CHECK(served == 2);
}

TEST_CASE(
    "the HTTP transport under load: 4,000 attempts in 40 chains at once, each attempt of a chain "
    "after the last, to a provider that answers at once, are each answered well before their "
    "timeout, over one pooled connection a chain",
    "[integration][transport]") {
    auto instant = fast_provider();
    instant.latency = {Duration::zero(), 0, 0.0};
    LiveFleet f({instant});
    auto results = send_in_turn(f.port(), f.clock, 4000, 3s, 40);
    REQUIRE(results.size() == 4000);
    std::size_t answered = 0;
    for (const auto& r : results) answered += r.kind == AttemptResult::Kind::answer ? 1 : 0;
    CHECK(answered == 4000);
    CHECK(f.fleet->metrics().value(mock::metric::connections, {{"provider", "openai"}}) == 40);
}

TEST_CASE(
    "a pooled connection closed: the HTTP transport replaces one the server closed after its "
    "answer, and each next attempt goes out again on a new connection and is answered",
    "[integration][transport]") {
    // A server that answers one request a connection (keep-alive, as far as the client can tell)
    // and then closes it, for three connections.
    asio::io_context server_ioc;
    tcp::acceptor acceptor(server_ioc, {asio::ip::make_address("127.0.0.1"), 0});
    auto port = acceptor.local_endpoint().port();
    std::atomic<int> accepted{0};
    std::thread server([&] {
        const std::string body =
            R"({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini",)"
            R"("choices":[{"index":0,"message":{"role":"assistant","content":"hi"},)"
            R"("finish_reason":"stop"}]})";
        const std::string answer =
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            "content-length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body;
        for (int c = 0; c < 3; ++c) {
            tcp::socket socket(server_ioc);
            acceptor.accept(socket);
            ++accepted;
            boost::system::error_code ec;
            boost::beast::flat_buffer in;
            boost::beast::http::request<boost::beast::http::string_body> request;
            boost::beast::http::read(socket, in, request, ec);
            if (!ec) asio::write(socket, asio::buffer(answer), ec);
            socket.close(ec);
        }
    });
    auto results = send_in_turn(port, std::make_shared<ScaledClock>(1.0), 3);
    while (accepted < 3) {  // the client gave up early: connections that send nothing end the wait
        asio::io_context ioc;
        tcp::socket poke(ioc);
        poke.connect({asio::ip::make_address("127.0.0.1"), port});
        std::this_thread::sleep_for(10ms);
    }
    server.join();
    REQUIRE(results.size() == 3);
    for (const auto& r : results) {
        CHECK(r.kind == AttemptResult::Kind::answer);
        CHECK(r.text == "hi");
    }
    CHECK(accepted == 3);
}

TEST_CASE(
    "a request's bytes: the transport writes what Beast wrote from a message built field by "
    "field, the address's path and headers first, a header set twice written once",
    "[integration][transport]") {
    auto beast_bytes = [](const ProviderAddress& p, const wire::ClientRequest& request) {
        namespace http = boost::beast::http;
        http::request<http::string_body> m(http::string_to_verb(request.method),
                                           p.path.empty() ? request.path : p.path, 11);
        m.set(http::field::host, p.host);
        m.set(http::field::user_agent, "brownout-harness");
        for (const auto& [k, v] : request.headers) m.set(k, v);
        for (const auto& [k, v] : p.headers) m.set(k, v);
        m.keep_alive(true);
        m.body() = request.body;
        m.prepare_payload();
        std::ostringstream out;
        out << m;
        return out.str();
    };
    ProviderAddress plain;
    plain.host = "127.0.0.1";
    ProviderAddress routed = plain;
    routed.path = "/gateway/v1/chat/completions";
    routed.headers = {{"x-api-key", "from-the-address"}, {"X-Extra", "1"}};
    std::vector<wire::ClientRequest> requests;
    for (const auto& info : wire::dialects()) {
        auto sent =
            info.make(info.vendors.front())
                ->render_chat({.model = "m", .system = "s", .prompt = "p", .stream = true}, "key");
        sent.headers.push_back({"X-API-KEY", "from-the-dialect"});
        requests.push_back(std::move(sent));
    }
    wire::ClientRequest get;
    get.method = "GET";
    get.path = "/v1/models";
    requests.push_back(get);
    wire::ClientRequest empty_post;
    empty_post.path = "/v1/chat/completions";
    requests.push_back(empty_post);
    for (const auto& address : {plain, routed}) {
        for (const auto& request : requests) {
            CHECK(request_bytes(address, request) == beast_bytes(address, request));
        }
    }
    auto routed_bytes = request_bytes(routed, requests.front());
    CHECK(routed_bytes.starts_with("POST /gateway/v1/chat/completions HTTP/1.1\r\n"));
    CHECK(routed_bytes.find("x-api-key: from-the-address\r\n") != std::string::npos);
    CHECK(routed_bytes.find("from-the-dialect") == std::string::npos);
}

TEST_CASE(
    "answers in many pieces: the HTTP transport reads one longer than its read room after an "
    "interim 100, then one that runs to the connection's end, which it does not pool",
    "[integration][transport]") {
    // A server that answers the first connection's two requests with a chunked answer of 20 KB
    // written 700 bytes at a time after a 100 Continue, then an HTTP/1.1 answer with no length
    // (ending its half of the connection to end it, and still listening: a request that comes
    // after it was sent on a connection the client should not have kept); and the second
    // connection's request with the chunked one again.
    const std::string long_text(20000, 'a');
    const std::string long_body =
        R"({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini",)"
        R"("choices":[{"index":0,"message":{"role":"assistant","content":")" +
        long_text + R"("},"finish_reason":"stop"}]})";
    std::string chunked_answer =
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        "transfer-encoding: chunked\r\n\r\n";
    for (std::size_t at = 0; at < long_body.size(); at += 3000) {
        auto piece = long_body.substr(at, 3000);
        chunked_answer += fmt::format("{:x}\r\n{}\r\n", piece.size(), piece);
    }
    chunked_answer += "0\r\n\r\n";
    const std::string to_end =
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n"
        R"({"id":"chatcmpl-2","object":"chat.completion","created":1,"model":"gpt-4o-mini",)"
        R"("choices":[{"index":0,"message":{"role":"assistant","content":"hi"},)"
        R"("finish_reason":"stop"}]})";
    asio::io_context server_ioc;
    tcp::acceptor acceptor(server_ioc, {asio::ip::make_address("127.0.0.1"), 0});
    auto port = acceptor.local_endpoint().port();
    std::atomic<int> accepted{0}, after_end{0};
    std::thread server([&] {
        for (int c = 0; c < 2; ++c) {
            tcp::socket socket(server_ioc);
            acceptor.accept(socket);
            ++accepted;
            boost::system::error_code ec;
            boost::beast::flat_buffer in;
            for (int r = 0; !ec; ++r) {  // until the client closes the connection
                boost::beast::http::request<boost::beast::http::string_body> request;
                boost::beast::http::read(socket, in, request, ec);
                if (ec) break;
                if (c == 0 && r == 2) {
                    ++after_end;
                    break;
                }
                if (c == 0 && r == 1) {
                    asio::write(socket, asio::buffer(to_end), ec);
                    socket.shutdown(tcp::socket::shutdown_send, ec);  // the answer's end
                    continue;
                }
                for (std::size_t at = 0; at < chunked_answer.size() && !ec; at += 700) {
                    asio::write(socket, asio::buffer(chunked_answer.substr(at, 700)), ec);
                    std::this_thread::sleep_for(1ms);
                }
            }
            socket.close(ec);
        }
    });
    auto results = send_in_turn(port, std::make_shared<ScaledClock>(1.0), 3);
    while (accepted < 2) {  // the client gave up early: a connection that sends nothing ends it
        asio::io_context ioc;
        tcp::socket poke(ioc);
        poke.connect({asio::ip::make_address("127.0.0.1"), port});
        std::this_thread::sleep_for(10ms);
    }
    server.join();
    REQUIRE(results.size() == 3);
    for (const auto& r : results) CHECK(r.kind == AttemptResult::Kind::answer);
    CHECK(results[0].text == long_text);
    CHECK(results[1].text == "hi");
    CHECK(results[2].text == long_text);
    CHECK(accepted == 2);   // the third attempt went out on a new connection
    CHECK(after_end == 0);  // and not first on the one whose answer ran to its end
}
