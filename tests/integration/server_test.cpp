#include <fmt/format.h>

#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <functional>
#include <thread>

#include "tests/integration/fleet_fixture.h"
#include "tests/support/http_client.h"
#include "wire/answer.h"

using namespace brownout;
using namespace brownout::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {
const std::string kHello =
    R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]})";
const std::string kStream =
    R"({"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hello"}]})";
}  // namespace

TEST_CASE("a chat completion over a real socket verifies against its request", "[integration]") {
    LiveFleet f({fast_provider()});
    auto r = http(f.port(), "POST", "/v1/chat/completions", kHello);
    REQUIRE(r.error.empty());
    CHECK(r.status == 200);
    CHECK(r.header("content-type") == "application/json");
    auto text =
        json::parse(r.body).at("choices").as_array()[0].at("message").at("content").as_string();
    auto request = std::get<wire::ChatRequest>(f.provider().dialect().parse_chat(kHello));
    CHECK(wire::verify_answer(std::string(text), request) == wire::Verdict::ok);
}

TEST_CASE("SSE chunks arrive paced by the token rate and end with DONE", "[integration][sse]") {
    auto p = fast_provider();
    p.latency = {100ms, 20, 0.0};  // 50 ms a token
    p.answer = {6, 6};
    LiveFleet f({p});
    auto r = http(f.port(), "POST", "/v1/chat/completions", kStream);
    REQUIRE(r.error.empty());
    CHECK(r.status == 200);
    CHECK(r.header("transfer-encoding") == "chunked");
    CHECK(r.head_at - r.sent_at >= 95ms);
    REQUIRE(r.chunks.size() >= 6);
    // Tokens are separate chunks; from first to last token, five gaps of 50 ms.
    auto span = r.chunk_times.back() - r.chunk_times.front();
    CHECK(span >= 240ms);
    CHECK(span < 1000ms);
    CHECK_THAT(r.body, Catch::EndsWith("data: [DONE]\n\n"));
}

TEST_CASE("how late each timed send went out is measured in wall time: a blocked thread shows",
          "[integration][sse][metrics]") {
    // At ×1 and at ×10 the stream lasts about a wall second (50 ms a token in scenario time, 20
    // tokens at ×1, 200 at ×10). Once its head is out, the fleet's one thread sleeps for 300 ms:
    // the frames due meanwhile go out late, the first by about 300 ms of wall time (3 s of
    // scenario time at ×10, which the metric must not say).
    const double scale = GENERATE(1.0, 10.0);
    const int tokens = scale == 1.0 ? 20 : 200;
    auto p = fast_provider();
    p.latency = {100ms, 20, 0.0};
    p.answer = {tokens, tokens};
    LiveFleet f({p}, scale);
    HttpResult r;
    std::jthread client([&] { r = http(f.port(), "POST", "/v1/chat/completions", kStream); });
    auto& streams = *f.provider().counters().active_streams;
    auto give_up = std::chrono::steady_clock::now() + 20s;
    while (streams.load() < 1 && std::chrono::steady_clock::now() < give_up)
        std::this_thread::sleep_for(1ms);
    f.fleet->scheduler().after(0s, [] { std::this_thread::sleep_for(300ms); });
    client.join();
    REQUIRE(r.error.empty());
    CHECK_THAT(r.body, Catch::EndsWith("data: [DONE]\n\n"));
    auto late = f.provider().counters().send_lateness->snapshot();
    // The head after its 100 ms, then every frame after the head's: the tokens, the finish, the
    // usage and [DONE]. (The role's frame goes with the head, untimed.)
    CHECK(late.count() == static_cast<std::uint64_t>(1 + tokens + 3));
    CHECK(late.max >= 200ms);
    CHECK(late.max < 2s);
    CHECK(late.above(mock::Histogram::bound_within(100ms)) >= 1);
    auto metrics = http(f.port(), "GET", "/metrics", "");
    CHECK_THAT(metrics.body, Catch::Contains(fmt::format(
                                 "brownout_send_lateness_seconds_count{{provider=\"openai\"}} {}\n",
                                 1 + tokens + 3)));
}

TEST_CASE("a busy server takes the connections waiting together, not one a round of its loop",
          "[integration][http]") {
    // The fleet's one thread kept busy: a task that sleeps 2 ms and sets itself again, round
    // after round of the event loop, as thousands of streams' frames keep it under load. One
    // round is held until 200 clients have connected (the kernel completes their handshakes and
    // queues them); from its end, an accept taken one a round needs a round for each, and taken
    // together (up to 64 at once) a handful. Counted in rounds, not time.
    std::atomic<int> rounds{0};
    std::atomic<bool> connected{false};
    std::atomic<bool> done{false};
    Scheduler* scheduler = nullptr;
    std::function<void()> busy = [&] {
        ++rounds;
        auto give_up = std::chrono::steady_clock::now() + 20s;
        while (!connected && std::chrono::steady_clock::now() < give_up)
            std::this_thread::sleep_for(1ms);
        std::this_thread::sleep_for(2ms);
        if (!done) scheduler->after(0s, [&busy] { busy(); });
    };
    LiveFleet f({fast_provider()});  // gone first: its thread ends before `busy` does
    scheduler = &f.fleet->scheduler();
    scheduler->after(0s, [&busy] { busy(); });
    auto give_up = std::chrono::steady_clock::now() + 20s;
    while (rounds < 1 && std::chrono::steady_clock::now() < give_up)
        std::this_thread::sleep_for(1ms);

    boost::asio::io_context ioc;
    std::vector<boost::asio::ip::tcp::socket> clients;
    auto& accepted = *f.provider().counters().connections;
    for (int i = 0; i < 200; ++i) {
        clients.emplace_back(ioc).connect({boost::asio::ip::make_address("127.0.0.1"), f.port()});
    }
    const int before = rounds;
    connected = true;
    while (accepted.load() < 200 && std::chrono::steady_clock::now() < give_up)
        std::this_thread::sleep_for(1ms);
    const int took = rounds - before;
    done = true;
    CHECK(accepted.load() == 200);
    CHECK(took < 40);
}

TEST_CASE("time_scale compresses latency: 10x scale makes a 1 s TTFT take 100 ms",
          "[integration][clock]") {
    auto p = fast_provider();
    p.latency = {1s, 0, 0.0};
    LiveFleet f({p}, 10.0);
    auto r = http(f.port(), "POST", "/v1/chat/completions", kHello);
    auto waited = r.head_at - r.sent_at;
    CHECK(waited >= 95ms);
    CHECK(waited < 800ms);
}

TEST_CASE("one keep-alive connection serves many requests, errors included",
          "[integration][http]") {
    LiveFleet f({fast_provider()});
    HttpConnection c(f.port());
    CHECK(c.request("POST", "/v1/chat/completions", kHello).status == 200);
    CHECK(c.request("POST", "/v1/chat/completions", "{broken").status == 400);
    CHECK(c.request("GET", "/v1/models").status == 200);
    CHECK(c.request("POST", "/v1/chat/completions", kStream).status == 200);
    CHECK(c.request("GET", "/v1/nope").status == 404);
    CHECK(c.request("POST", "/v1/chat/completions", kHello).status == 200);
    CHECK(f.fleet->metrics().value(mock::metric::connections, {{"provider", "openai"}}) == 1);
}

TEST_CASE("a body over the limit gets 413 in the provider's shape", "[integration][http]") {
    auto p = fast_provider();
    p.max_body_bytes = 4096;
    LiveFleet f({p});
    auto r = http(f.port(), "POST", "/v1/chat/completions", std::string(10000, 'x'));
    CHECK(r.status == 413);
    CHECK(json::parse(r.body).at("error").at("code").as_string() == "request_too_large");
}

TEST_CASE("garbage on the wire gets a 400 and the server keeps serving", "[integration][http]") {
    LiveFleet f({fast_provider()});
    HttpConnection bad(f.port());
    auto answer = bad.raw("THIS IS NOT HTTP\r\n\r\n");
    CHECK_THAT(answer, Catch::StartsWith("HTTP/1.1 400"));
    HttpConnection huge(f.port());
    CHECK_THAT(
        huge.raw("GET /v1/models HTTP/1.1\r\nx-big: " + std::string(20000, 'a') + "\r\n\r\n"),
        Catch::StartsWith("HTTP/1.1 431"));
    CHECK(http(f.port(), "POST", "/v1/chat/completions", kHello).status == 200);
}

TEST_CASE("models are listed and looked up and an unknown id is 404", "[integration][models]") {
    LiveFleet f({fast_provider()});
    auto list = json::parse(http(f.port(), "GET", "/v1/models").body).as_object();
    CHECK(list.at("object").as_string() == "list");
    CHECK(list.at("data").as_array()[0].at("id").as_string() == "gpt-4o-mini");
    CHECK(json::parse(http(f.port(), "GET", "/v1/models/gpt-4o-mini").body)
              .at("object")
              .as_string() == "model");
    CHECK(http(f.port(), "GET", "/v1/models/gpt-9").status == 404);
}

TEST_CASE("an Anthropic provider answers /v1/messages with request-id and its event stream",
          "[integration][anthropic]") {
    LiveFleet f({fast_provider("anthropic", wire::DialectKind::anthropic)});
    auto r = http(
        f.port(), "POST", "/v1/messages",
        R"({"model":"claude-sonnet-4-5","max_tokens":256,"stream":true,"messages":[{"role":"user","content":"hi"}]})",
        {{"anthropic-version", "2023-06-01"}});
    CHECK(r.status == 200);
    CHECK(r.header("request-id").rfind("req_", 0) == 0);
    CHECK_THAT(r.body, Catch::StartsWith("event: message_start\n"));
    CHECK_THAT(r.body,
               Catch::EndsWith("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"));
    auto missing =
        http(f.port(), "POST", "/v1/messages", R"({"model":"claude-sonnet-4-5","messages":[]})");
    CHECK(missing.status == 400);
    CHECK(json::parse(missing.body).at("type").as_string() == "error");
}

TEST_CASE("the journal records every attempt with the SDK's retry count and /metrics counts them",
          "[integration][journal]") {
    LiveFleet f({fast_provider()});
    http(f.port(), "POST", "/v1/chat/completions", kHello, {{"X-Stainless-Retry-Count", "1"}});
    http(f.port(), "POST", "/v1/chat/completions", kStream);
    http(f.port(), "GET", "/v1/models/none");
    std::this_thread::sleep_for(50ms);
    auto journal = json::parse(http(f.port(), "GET", "/_brownout/journal").body).as_object();
    auto& attempts = journal.at("attempts").as_array();
    REQUIRE(attempts.size() == 3);
    CHECK(attempts[0].at("retry_count").as_int64() == 1);
    CHECK(attempts[0].at("outcome").as_string() == "complete");
    CHECK(attempts[1].at("stream").as_bool());
    CHECK(attempts[1].at("completion_tokens").as_int64() == 8);
    CHECK(attempts[1].at("retry_count").is_null());
    CHECK(attempts[2].at("status").as_int64() == 404);
    auto later = json::parse(http(f.port(), "GET", "/_brownout/journal?since=2").body).as_object();
    CHECK(later.at("attempts").as_array().size() == 1);
    auto metrics = http(f.port(), "GET", "/metrics");
    CHECK(metrics.header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
    CHECK_THAT(metrics.body,
               Catch::Contains(
                   "brownout_attempts_total{provider=\"openai\",status=\"200\",fault=\"\"} 2"));
    CHECK_THAT(
        metrics.body,
        Catch::Contains("brownout_tokens_total{provider=\"openai\",kind=\"completion\"} 16"));
}

TEST_CASE("shutdown lets an open stream finish", "[integration][shutdown]") {
    auto p = fast_provider();
    p.latency = {0ms, 40, 0.0};
    p.answer = {10, 10};  // 250 ms of streaming
    auto clock = std::make_shared<ScaledClock>(1.0);
    mock::ServerLimits limits;
    limits.shutdown_grace = 2s;
    mock::Fleet fleet({p}, clock, limits);
    fleet.start("127.0.0.1", {}, 1);
    auto port = fleet.endpoints()[0].port;
    HttpResult result;
    std::thread client([&] { result = http(port, "POST", "/v1/chat/completions", kStream); });
    std::this_thread::sleep_for(80ms);
    fleet.shutdown();
    client.join();
    fleet.join();
    CHECK(result.error.empty());
    CHECK_THAT(result.body, Catch::EndsWith("data: [DONE]\n\n"));
}

TEST_CASE(
    "a stream due at once, in one write: the head, every frame and the terminating chunk come "
    "in the client's first read",
    "[integration][sse]") {
    auto p = fast_provider();
    p.latency = {0ms, 0, 0.0};
    p.answer = {16, 16};
    LiveFleet f({p});
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::socket socket(ioc);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), f.port()});
    std::string request =
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n"
        "content-type: application/json\r\ncontent-length: " +
        std::to_string(kStream.size()) + "\r\n\r\n" + kStream;
    boost::asio::write(socket, boost::asio::buffer(request));
    // One read, as soon as anything arrives: the head written apart from the frames would come
    // alone (one read of the head, then another of the frames).
    std::string first(64 * 1024, '\0');
    std::size_t got = 0;
    socket.async_read_some(boost::asio::buffer(first),
                           [&got](boost::system::error_code, std::size_t n) { got = n; });
    ioc.run_for(10s);  // a server that sends nothing fails the test instead of hanging it
    first.resize(got);
    // (Booleans: Catch2 v2 does not print a string of \r\n lines well.)
    bool head = first.starts_with("HTTP/1.1 200");
    bool done = first.find("data: [DONE]") != std::string::npos;
    bool ended = first.ends_with("0\r\n\r\n");
    INFO("first read: " << first.size() << " bytes");
    CHECK(head);
    CHECK(done);
    CHECK(ended);
}

TEST_CASE(
    "a client that reads a stream late still gets every frame, in order: what the socket does not "
    "take at once is written when it can",
    "[integration][sse]") {
    auto p = fast_provider();
    p.latency = {0ms, 100'000, 0.0};  // a token every 10 µs: the whole answer is due in 0.2 s
    p.answer = {20'000, 20'000};  // about 4.6 MB of frames, more than a socket's buffer grows to
    LiveFleet f({p});
    namespace asio = boost::asio;
    asio::io_context ioc;
    asio::ip::tcp::socket socket(ioc);
    socket.open(asio::ip::tcp::v4());
    // A small window: the server's socket buffer fills while the client does not read, so its
    // chunks are taken in part, or not at all, and the rest must follow.
    socket.set_option(asio::socket_base::receive_buffer_size(4096));
    socket.connect({asio::ip::make_address("127.0.0.1"), f.port()});
    std::string request =
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n"
        "content-type: application/json\r\ncontent-length: " +
        std::to_string(kStream.size()) + "\r\n\r\n" + kStream;
    asio::write(socket, asio::buffer(request));
    std::this_thread::sleep_for(800ms);

    // Everything up to the terminating chunk, or what came in 10 s.
    std::string received;
    std::array<char, 64 * 1024> buffer{};
    auto give_up = std::chrono::steady_clock::now() + 10s;
    while (!received.ends_with("\r\n0\r\n\r\n") && std::chrono::steady_clock::now() < give_up) {
        boost::system::error_code ec;
        socket.async_read_some(asio::buffer(buffer),
                               [&](boost::system::error_code e, std::size_t n) {
                                   ec = e;
                                   received.append(buffer.data(), n);
                               });
        ioc.restart();
        ioc.run_for(give_up - std::chrono::steady_clock::now());
        if (ec) break;
    }
    auto head_end = received.find("\r\n\r\n");
    REQUIRE(head_end != std::string::npos);
    CHECK(received.starts_with("HTTP/1.1 200"));
    // The chunked body, joined.
    std::string body;
    std::size_t at = head_end + 4;
    bool ended = false;
    while (at < received.size()) {
        auto line_end = received.find("\r\n", at);
        REQUIRE(line_end != std::string::npos);
        auto size = std::stoul(received.substr(at, line_end - at), nullptr, 16);
        if (size == 0) {
            ended = true;
            break;
        }
        body += received.substr(line_end + 2, size);
        at = line_end + 2 + size + 2;
    }
    CHECK(ended);
    CHECK(body.size() > 4'000'000);
    auto read = f.provider().dialect().read_answer(true, body, ended);
    CHECK_FALSE(read.broken);
    auto chat = std::get<wire::ChatRequest>(f.provider().dialect().parse_chat(kStream));
    CHECK(wire::verify_answer(read.text, chat) == wire::Verdict::ok);
}
