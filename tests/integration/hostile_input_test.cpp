// Hostile and malformed HTTP input, table-driven: each case gets its documented answer (the
// provider's error shape, 413, 431, or a clean close), and the server keeps serving everyone
// else throughout.

#include <catch2/catch.hpp>
#include <future>
#include <thread>

#include "tests/integration/fleet_fixture.h"
#include "tests/support/http_client.h"

using namespace brownout;
using namespace brownout::test;
using namespace std::chrono_literals;

namespace {

struct Case {
    const char* name;
    std::string bytes;   // sent as is on a fresh connection
    std::string expect;  // the start of the answer ("HTTP/1.1 400"), or "" for a close without one
    std::string contains;  // and a piece of its body, when given
};

std::string post(const std::string& path, const std::string& body,
                 const std::string& extra_headers = "") {
    return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
           extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

const std::string kChat = "/v1/chat/completions";
const std::string kOk = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]})";

std::vector<Case> cases() {
    std::string deep(5000, '[');
    std::string many_messages = R"({"model":"gpt-4o-mini","messages":[)";
    for (int i = 0; i < 5000; ++i)
        many_messages += std::string(i ? "," : "") + R"({"role":"user","content":"x"})";
    many_messages += "]}";
    return {
        {"garbage bytes", std::string("\x00\x01\x02\xff\xfe garbage\r\n\r\n", 18), "HTTP/1.1 400",
         ""},
        {"not HTTP at all", "HELLO THERE\r\n\r\n", "HTTP/1.1 400", ""},
        {"a header line without a colon", "GET /v1/models HTTP/1.1\r\nHost x\r\n\r\n",
         "HTTP/1.1 400", ""},
        {"a NUL byte in a header value",
         std::string("GET /v1/models HTTP/1.1\r\nX-A: a\0b\r\n\r\n", 36), "HTTP/1.1 400", ""},
        {"oversized header",
         "GET /v1/models HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n",
         "HTTP/1.1 431", ""},
        {"an absurdly long URL",
         "GET /v1/" + std::string(20000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 431", ""},
        {"a body over the limit", post(kChat, std::string(5 * 1024 * 1024, ' ')), "HTTP/1.1 413",
         "request_too_large"},
        {"a negative Content-Length",
         "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: -5\r\n\r\n", "HTTP/1.1 400", ""},
        {"two different Content-Lengths",
         "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
         "HTTP/1.1 400", ""},
        {"bad chunked encoding",
         "POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: "
         "chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n",
         "HTTP/1.1 400", ""},
        {"an empty body", post(kChat, ""), "HTTP/1.1 400", "could not parse the JSON body"},
        {"malformed JSON", post(kChat, "{\"model\":"), "HTTP/1.1 400",
         "could not parse the JSON body"},
        {"invalid UTF-8 in a string",
         post(kChat,
              "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":"
              "\"\xff\xfe\"}]}"),
         "HTTP/1.1 400", "invalid_request_error"},
        {"JSON nested 5000 deep", post(kChat, "{\"model\":\"m\",\"messages\":" + deep),
         "HTTP/1.1 400", "invalid_request_error"},
        {"a JSON array instead of an object", post(kChat, "[]"), "HTTP/1.1 400", "could not parse"},
        {"model of the wrong type", post(kChat, R"({"model":5,"messages":[]})"), "HTTP/1.1 400",
         "you must provide a model parameter"},
        {"messages not an array", post(kChat, R"({"model":"gpt-4o-mini","messages":"hi"})"),
         "HTTP/1.1 400", "\"param\":\"messages\""},
        {"empty messages", post(kChat, R"({"model":"gpt-4o-mini","messages":[]})"), "HTTP/1.1 400",
         "empty_array"},
        {"negative max_tokens",
         post(
             kChat,
             R"({"model":"gpt-4o-mini","max_tokens":-5,"messages":[{"role":"user","content":"x"}]})"),
         "HTTP/1.1 400", "integer_below_min_value"},
        {"absurd max_tokens",
         post(
             kChat,
             R"({"model":"gpt-4o-mini","max_tokens":1000000000000,"messages":[{"role":"user","content":"x"}]})"),
         "HTTP/1.1 400", "max_tokens is too large"},
        {"max_tokens as a string",
         post(
             kChat,
             R"({"model":"gpt-4o-mini","max_tokens":"many","messages":[{"role":"user","content":"x"}]})"),
         "HTTP/1.1 400", "invalid_type"},
        {"stream_options without stream",
         post(
             kChat,
             R"({"model":"gpt-4o-mini","stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]})"),
         "HTTP/1.1 400", "stream_options"},
        {"an unknown model",
         post(kChat, R"({"model":"gpt-9","messages":[{"role":"user","content":"x"}]})"),
         "HTTP/1.1 404", "model_not_found"},
        {"an unknown path", post("/v1/nowhere", "{}"), "HTTP/1.1 404",
         "Invalid URL (POST /v1/nowhere)"},
        {"a wrong method", "DELETE /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n",
         "HTTP/1.1 405", "Invalid method for URL"},
        {"a bad x-brownout-fault header", post(kChat, kOk, "x-brownout-fault: nonsense\r\n"),
         "HTTP/1.1 400", "x-brownout-fault"},
        {"a wrong content type (accepted, as the body is JSON)",
         "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: "
         "text/plain\r\nContent-Length: " +
             std::to_string(kOk.size()) + "\r\n\r\n" + kOk,
         "HTTP/1.1 200", "chat.completion"},
        {"HTTP/1.0 without keep-alive",
         "POST /v1/chat/completions HTTP/1.0\r\nContent-Length: " + std::to_string(kOk.size()) +
             "\r\n\r\n" + kOk,
         "HTTP/1.1 200", "chat.completion"},
        {"five thousand messages", post(kChat, many_messages), "HTTP/1.1 200", "chat.completion"},
        {"a control request to an unknown endpoint",
         "GET /_brownout/nothing HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404",
         "no control endpoint"},
        {"a body shorter than its Content-Length, then silence",
         "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"model\"", "", ""},
    };
}

// A request on a fresh connection must still be answered.
void healthy(unsigned short port) {
    auto r = http(port, "POST", kChat, kOk);
    REQUIRE(r.status == 200);
}

}  // namespace

TEST_CASE("hostile requests get their documented answers and the server keeps serving",
          "[integration][hostile]") {
    auto limits = LiveFleet::quick_limits();
    limits.header_timeout = 1s;
    auto provider = fast_provider();
    LiveFleet f({provider}, 1.0, limits);
    for (const auto& c : cases()) {
        INFO(c.name);
        HttpConnection conn(f.port(), 3s);
        std::string answer = conn.raw(c.bytes, 700ms);
        if (c.expect.empty()) {
            CHECK(answer.empty());
        } else {
            CHECK(answer.rfind(c.expect, 0) == 0);
            if (!c.contains.empty()) CHECK(answer.find(c.contains) != std::string::npos);
        }
        healthy(f.port());
    }
}

TEST_CASE("pipelined requests are answered in order on one connection", "[integration][hostile]") {
    LiveFleet f({fast_provider()});
    HttpConnection conn(f.port());
    std::string answer =
        conn.raw("GET /v1/models/nope HTTP/1.1\r\nHost: x\r\n\r\n" + post(kChat, kOk), 1500ms);
    auto first = answer.find("HTTP/1.1 404");
    auto second = answer.find("HTTP/1.1 200");
    CHECK(first == 0);
    CHECK(second != std::string::npos);
    CHECK(second > first);
}

TEST_CASE("a slowloris client trickling its headers is cut off while others are served",
          "[integration][hostile]") {
    auto limits = LiveFleet::quick_limits();
    limits.header_timeout = 1s;
    LiveFleet f({fast_provider()}, 1.0, limits);
    auto port = f.port();
    auto slow = std::async(std::launch::async, [port] {
        HttpConnection c(port, 5s);
        std::string head = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: ";
        auto started = std::chrono::steady_clock::now();
        // A byte every 100 ms, reading nothing (raw() would close the connection itself when
        // nothing came back, and the test would pass without the server's timeout).
        for (int i = 0; i < 40; ++i) {
            if (!c.send(std::string(1, head[static_cast<std::size_t>(i) % head.size()]))) break;
            std::this_thread::sleep_for(100ms);
        }
        return std::chrono::steady_clock::now() - started;
    });
    for (int i = 0; i < 10; ++i) {
        healthy(port);
        std::this_thread::sleep_for(100ms);
    }
    auto lasted = slow.get();
    CHECK(lasted < 3s);     // closed after the header timeout, not after all forty bytes (4 s)
    CHECK(lasted > 900ms);  // and not before it
}

TEST_CASE("a client that disconnects mid-stream is journaled and nobody else notices",
          "[integration][hostile]") {
    auto p = fast_provider();
    p.latency = {0ms, 50, 0.0};
    p.answer = {40, 40};  // 0.8 s of streaming
    LiveFleet f({p});
    {
        HttpConnection c(f.port(), 200ms);
        auto r = c.request(
            "POST", kChat,
            R"({"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"x"}]})");
        CHECK(r.status == 200);
    }  // gone after 200 ms
    healthy(f.port());
    std::this_thread::sleep_for(1s);
    auto journal = f.fleet->journal().since(0);
    REQUIRE(journal.size() == 2);
    CHECK(journal[0].outcome == "client_closed");
    CHECK(journal[0].completion_tokens < 40);
}

TEST_CASE(
    "connections over max_connections are closed at once and counted, the others keep working",
    "[integration][limits]") {
    auto limits = LiveFleet::quick_limits();
    limits.max_connections = 3;
    LiveFleet f({fast_provider()}, 1.0, limits);
    std::vector<std::unique_ptr<HttpConnection>> held;
    for (int i = 0; i < 3; ++i) {
        held.push_back(std::make_unique<HttpConnection>(f.port()));
        REQUIRE(held.back()->request("POST", kChat, kOk).status == 200);  // accepted and counted
    }
    {
        HttpConnection extra(f.port(), 1s);
        auto r = extra.request("POST", kChat, kOk);
        CHECK(r.status == 0);  // closed without an answer
        CHECK_FALSE(r.error.empty());
    }
    CHECK(held[0]->request("POST", kChat, kOk).status == 200);  // the three still work
    CHECK(f.fleet->metrics().render().find("brownout_refused_connections_total{provider=\"openai\","
                                           "limit=\"max_connections\"} 1") != std::string::npos);
    held.pop_back();  // one leaves: a new connection is accepted again
    std::this_thread::sleep_for(100ms);
    HttpConnection again(f.port());
    CHECK(again.request("POST", kChat, kOk).status == 200);
}

TEST_CASE("streams over max_streams get the provider's busy answer while plain requests pass",
          "[integration][limits]") {
    auto p = fast_provider();
    p.latency = {0ms, 20, 0.0};
    p.answer = {20, 20};  // one second of streaming
    auto limits = LiveFleet::quick_limits();
    limits.max_streams = 2;
    LiveFleet f({p}, 1.0, limits);
    const std::string stream =
        R"({"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"x"}]})";
    auto port = f.port();
    auto open_stream = [port, &stream] {
        return std::async(std::launch::async,
                          [port, &stream] { return http(port, "POST", kChat, stream); });
    };
    auto a = open_stream();
    auto b = open_stream();
    std::this_thread::sleep_for(200ms);
    auto third = http(port, "POST", kChat, stream);
    CHECK(third.status == 503);
    CHECK(third.body.find("\"error\"") != std::string::npos);
    CHECK(http(port, "POST", kChat, kOk).status == 200);
    CHECK(a.get().status == 200);
    CHECK(b.get().status == 200);
    CHECK(http(port, "POST", kChat, stream).status == 200);  // room again
    auto journal = f.fleet->journal().since(0);
    auto refused = std::count_if(journal.begin(), journal.end(),
                                 [](const mock::Attempt& x) { return x.fault == "max_streams"; });
    CHECK(refused == 1);
}

TEST_CASE("a keep-alive connection idle beyond idle_timeout is closed, a busy one is not",
          "[integration][limits]") {
    auto limits = LiveFleet::quick_limits();
    limits.idle_timeout = 500ms;
    LiveFleet f({fast_provider()}, 1.0, limits);
    HttpConnection idle(f.port(), 2s);
    HttpConnection busy(f.port(), 2s);
    REQUIRE(idle.request("POST", kChat, kOk).status == 200);
    for (int i = 0; i < 8; ++i) {  // 1.2 s of requests 150 ms apart: never idle for 500 ms
        REQUIRE(busy.request("POST", kChat, kOk).status == 200);
        std::this_thread::sleep_for(150ms);
    }
    auto after = idle.request("POST", kChat, kOk);
    CHECK(after.status == 0);  // closed by the server meanwhile
    CHECK(busy.request("POST", kChat, kOk).status == 200);
}
