// Plans carried out on the wire: what a client actually sees for each kind of fault.

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <thread>

#include "tests/integration/fleet_fixture.h"
#include "tests/support/http_client.h"

using namespace brownout;
using namespace brownout::test;
using namespace std::chrono_literals;

namespace {
const std::string kPlainChat =
    R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]})";
const std::string kStreamedChat =
    R"({"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hello"}]})";

struct PlannedFleet : LiveFleet {
    faults::Plan plan;
    PlannedFleet() : LiveFleet({fast_provider()}) {
        provider().set_planner([this](const mock::PlanQuery&) { return plan; });
    }
    std::vector<mock::Attempt> journal() {
        std::this_thread::sleep_for(50ms);
        return fleet->journal().since(0);
    }
};
}  // namespace

TEST_CASE("a reset plan closes the connection before any byte of answer", "[integration][plan]") {
    PlannedFleet f;
    f.plan.add(faults::Reset{});
    f.plan.applied = {"outage"};
    auto r = http(f.port(), "POST", "/v1/chat/completions", kPlainChat);
    CHECK(r.status == 0);
    CHECK_FALSE(r.error.empty());
    auto j = f.journal();
    REQUIRE(j.size() == 1);
    CHECK(j[0].outcome == "reset");
    CHECK(j[0].fault == "outage");
}

TEST_CASE("a hang plan never answers and the attempt ends when the client gives up",
          "[integration][plan]") {
    PlannedFleet f;
    f.plan.add(faults::Hang{});
    f.plan.applied = {"outage"};
    {
        HttpConnection c(f.port(), 300ms);
        auto r = c.request("POST", "/v1/chat/completions", kPlainChat);
        CHECK(r.status == 0);
    }
    auto j = f.journal();
    REQUIRE(j.size() == 1);
    CHECK(j[0].outcome == "hung");
}

TEST_CASE("a silent stall sends N tokens, then nothing, until the client leaves",
          "[integration][plan]") {
    PlannedFleet f;
    f.plan.add(faults::Stall{.after_tokens = 3});
    f.plan.applied = {"stall"};
    {
        HttpConnection c(f.port(), 400ms);
        auto r = c.request("POST", "/v1/chat/completions", kStreamedChat);
        CHECK(r.status == 200);
        CHECK_FALSE(r.error.empty());  // timed out waiting
        CHECK(r.body.find("[DONE]") == std::string::npos);
    }
    auto j = f.journal();
    REQUIRE(j.size() == 1);
    CHECK(j[0].completion_tokens == 3);
    CHECK(j[0].outcome == "stalled");
}

TEST_CASE("a keep-alive stall sends comments that keep the connection busy",
          "[integration][plan]") {
    PlannedFleet f;
    f.plan.add(faults::Stall{.after_tokens = 2, .keepalive = true, .keepalive_interval = 50ms});
    f.plan.applied = {"stall"};
    HttpConnection c(f.port(), 400ms);
    auto r = c.request("POST", "/v1/chat/completions", kStreamedChat);
    CHECK(r.body.find(": keep-alive\n\n") != std::string::npos);
}

TEST_CASE("a stall's keep-alives are timed sends: how late each went out is measured",
          "[integration][plan][metrics]") {
    PlannedFleet f;
    f.plan.add(faults::Stall{.after_tokens = 2, .keepalive = true, .keepalive_interval = 50ms});
    f.plan.applied = {"stall"};
    std::string body;
    {
        HttpConnection c(f.port(), 400ms);
        body = c.request("POST", "/v1/chat/completions", kStreamedChat).body;
    }
    std::size_t keepalives = 0;
    for (auto at = body.find(": keep-alive\n\n"); at != std::string::npos;
         at = body.find(": keep-alive\n\n", at + 1))
        ++keepalives;
    REQUIRE(keepalives >= 2);
    f.journal();  // the attempt has ended
    // The head and the two tokens, then every keep-alive the client read; at most those due in
    // the client's 400 ms (eight), and two more on their way when it left — counted once each.
    auto count = f.provider().counters().send_lateness->snapshot().count();
    CHECK(count >= 3 + keepalives);
    CHECK(count <= 3 + 8 + 2);
}

TEST_CASE("a disconnect cuts the stream after N tokens without the chunked terminator",
          "[integration][plan]") {
    PlannedFleet f;
    f.plan.add(faults::Cut{.after_tokens = 4});
    f.plan.applied = {"disconnect"};
    auto r = http(f.port(), "POST", "/v1/chat/completions", kStreamedChat);
    CHECK(r.status == 200);
    CHECK_FALSE(r.error.empty());
    auto j = f.journal();
    REQUIRE(j.size() == 1);
    CHECK(j[0].completion_tokens == 4);
    CHECK(j[0].outcome == "cut");
}

TEST_CASE("a stream error arrives in-band after a 200 and the stream then ends cleanly",
          "[integration][plan]") {
    PlannedFleet f;
    f.plan.add(faults::StreamFailure{.after_tokens = 2, .error = faults::Rejection{.status = 500}});
    f.plan.applied = {"stream_error"};
    auto r = http(f.port(), "POST", "/v1/chat/completions", kStreamedChat);
    CHECK(r.status == 200);
    CHECK(r.error.empty());
    CHECK_THAT(r.body, Catch::Contains("data: {\"error\":{\"message\":\"The server had an error"));
    CHECK(r.body.find("[DONE]") == std::string::npos);
}

TEST_CASE("a 503 busy answer carries Retry-After and stays on a usable connection",
          "[integration][plan]") {
    PlannedFleet f;
    f.plan.add(faults::Rejection{
        .status = 503, .message = "Server busy, please try again later.", .retry_after = 1s});
    f.plan.applied = {"busy"};
    HttpConnection c(f.port());
    auto r = c.request("POST", "/v1/chat/completions", kPlainChat);
    CHECK(r.status == 503);
    CHECK(r.header("retry-after") == "1");
    f.plan = {};
    CHECK(c.request("POST", "/v1/chat/completions", kPlainChat).status == 200);
}

namespace {
wire::ChatRequest parsed(const std::string& body) {
    auto d = wire::make_dialect(wire::DialectKind::openai, wire::Vendor::openai);
    return std::get<wire::ChatRequest>(d->parse_chat(body));
}
std::string content_of(const std::string& json_body) {
    auto v = boost::json::parse(json_body);  // leading blank lines are JSON whitespace
    return std::string(v.at("choices").at(0).at("message").at("content").as_string());
}
}  // namespace

TEST_CASE("a hold sends 200 at once, blank lines while it waits, then the real answer",
          "[integration][plan][hold]") {
    PlannedFleet f;
    f.plan.add(faults::Hold{.wait = 600ms, .interval = 100ms, .then = faults::HoldEnd::answer});
    f.plan.applied = {"hold"};
    auto r = http(f.port(), "POST", "/v1/chat/completions", kPlainChat);
    CHECK(r.status == 200);
    CHECK(r.header("content-type") == "application/json");
    CHECK(r.head_at - r.sent_at < 300ms);  // the head did not wait for the answer
    REQUIRE(r.chunks.size() >= 6);
    CHECK(r.chunks.front() == "\n");
    CHECK(r.chunk_times.back() - r.head_at >= 550ms);
    CHECK(r.body.starts_with("\n\n\n\n\n\n"));
    CHECK(wire::verify_answer(content_of(r.body), parsed(kPlainChat)) == wire::Verdict::ok);
    CHECK(f.journal().at(0).fault == "hold");
}

TEST_CASE("a hold that ends empty, interrupted or closed is what a DeepSeek client sees under load",
          "[integration][plan][hold]") {
    PlannedFleet f;
    f.plan.applied = {"hold"};
    SECTION("empty: only blank lines, which no JSON parser accepts") {
        f.plan.add(faults::Hold{.wait = 200ms, .interval = 100ms, .then = faults::HoldEnd::empty});
        auto r = http(f.port(), "POST", "/v1/chat/completions", kPlainChat);
        CHECK(r.status == 200);
        CHECK(r.error.empty());
        CHECK(r.body.find_first_not_of('\n') == std::string::npos);
    }
    SECTION(
        "interrupted: a clean stream with finish_reason insufficient_system_resource and no tag") {
        f.plan.add(faults::Hold{.wait = 200ms,
                                .interval = 100ms,
                                .then = faults::HoldEnd::interrupted,
                                .after_tokens = 3});
        auto r = http(f.port(), "POST", "/v1/chat/completions", kStreamedChat);
        CHECK(r.status == 200);
        CHECK(r.error.empty());
        CHECK_THAT(r.body, Catch::StartsWith(": keep-alive\n\n"));
        CHECK_THAT(r.body, Catch::Contains("\"finish_reason\":\"insufficient_system_resource\""));
        CHECK_THAT(r.body, Catch::Contains("data: [DONE]"));
        CHECK(r.body.find("[bo:") == std::string::npos);
        auto plain = http(f.port(), "POST", "/v1/chat/completions", kPlainChat);
        auto text = content_of(plain.body);
        CHECK(wire::verify_answer(text, parsed(kPlainChat)) == wire::Verdict::missing_tag);
        CHECK_THAT(plain.body,
                   Catch::Contains("\"finish_reason\":\"insufficient_system_resource\""));
    }
    SECTION("close: keep-alives, then the connection ends mid-body") {
        f.plan.add(faults::Hold{.wait = 300ms, .interval = 100ms, .then = faults::HoldEnd::close});
        auto r = http(f.port(), "POST", "/v1/chat/completions", kPlainChat);
        CHECK(r.status == 200);
        CHECK_FALSE(r.error.empty());
        auto j = f.journal();
        REQUIRE(j.size() == 1);
        CHECK(j[0].outcome == "cut");
    }
}
