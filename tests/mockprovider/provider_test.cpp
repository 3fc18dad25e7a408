#include "mockprovider/provider.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "core/text.h"
#include "harness/scenario.h"
#include "wire/answer.h"

using namespace brownout;
using namespace brownout::mock;
using namespace brownout::wire;
using namespace std::chrono_literals;

namespace {

struct Rig {
    VirtualScheduler clock;
    AttemptJournal journal;
    Metrics metrics;
    Provider provider;
    explicit Rig(ProviderConfig config = {})
        : provider(std::move(config), clock, journal, metrics) {}

    Reply chat(const std::string& body, std::string forced = "") {
        IncomingRequest in{"POST",       "/v1/chat/completions", body, "", "",
                           std::nullopt, std::move(forced),      1};
        return provider.handle(in);
    }
};

int status_of(const Reply& r) {
    return std::stoi(r.head.substr(9, 3));
}

std::string header(const Reply& r, const std::string& name) {
    auto at = r.head.find("\r\n" + name + ": ");
    if (at == std::string::npos) return "";
    auto start = at + name.size() + 4;
    return r.head.substr(start, r.head.find("\r\n", start) - start);
}

const std::string kHello =
    R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]})";

// A provider speaking `kind` in its own vendor's wording, with one model, "m", and answers of
// `tokens` tokens.
ProviderConfig speaking(wire::DialectKind kind, int tokens) {
    ProviderConfig config;
    config.dialect = kind;
    config.vendor =
        kind == wire::DialectKind::anthropic ? wire::Vendor::anthropic : wire::Vendor::openai;
    config.models = {"m"};
    config.answer = {tokens, tokens};
    return config;
}

}  // namespace

TEST_CASE("a healthy provider answers after TTFT plus generation time", "[provider]") {
    ProviderConfig config;
    config.latency = {400ms, 50, 0.0};
    config.answer = {10, 10};
    Rig rig(config);
    auto reply = rig.chat(kHello);
    CHECK(status_of(reply) == 200);
    CHECK(reply.delay == 400ms + 10 * 20ms);
    CHECK(header(reply, "content-type") == "application/json");
    CHECK(header(reply, "x-request-id").rfind("req_", 0) == 0);
    CHECK(std::stoul(header(reply, "content-length")) == reply.body.size());
    // The whole head, line by line in the order OpenAI sends them: what a socket client gets.
    auto lines = reply.head;
    std::vector<std::string> names;
    for (std::size_t at = lines.find("\r\n"); at + 2 < lines.size();
         at = lines.find("\r\n", at + 2)) {
        auto next = lines.find("\r\n", at + 2);
        auto line = lines.substr(at + 2, next - at - 2);
        if (!line.empty()) names.push_back(line.substr(0, line.find(':')));
    }
    CHECK(reply.head.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(reply.head.ends_with("\r\n\r\n"));
    CHECK(names == std::vector<std::string>{"date", "content-type", "content-length", "connection",
                                            "x-request-id", "openai-version",
                                            "openai-processing-ms", "x-brownout-provider"});
    CHECK(header(reply, "openai-version") == "2020-10-01");
    CHECK(header(reply, "openai-processing-ms") == "600");  // the delay, in milliseconds
    CHECK(header(reply, "x-brownout-provider") == rig.provider.config().id);
    CHECK(header(reply, "connection") == "keep-alive");
}

TEST_CASE("a streamed answer is paced one token per 1/tokens_per_second", "[provider][sse]") {
    ProviderConfig config;
    config.latency = {300ms, 20, 0.0};
    config.answer = {6, 6};
    Rig rig(config);
    auto reply = rig.chat(
        R"({"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]})");
    REQUIRE(reply.streaming);
    CHECK(reply.delay == 300ms);
    CHECK(header(reply, "content-type") == "text/event-stream; charset=utf-8");
    CHECK(header(reply, "transfer-encoding") == "chunked");
    int tokens = 0;
    for (const auto& f : reply.frames) {
        if (f.tokens > 0)
            CHECK(f.gap == 50ms);
        else
            CHECK(f.gap == 0ms);
        tokens += f.tokens;
    }
    CHECK(tokens == 6);
}

TEST_CASE("latency jitter is deterministic for the same seed and request sequence", "[provider]") {
    ProviderConfig config;
    config.latency = {400ms, 60, 0.3};
    Rig a(config), b(config);
    for (int i = 0; i < 5; ++i) CHECK(a.chat(kHello).delay == b.chat(kHello).delay);
}

TEST_CASE("requests the provider cannot serve get its own errors", "[provider][errors]") {
    ProviderConfig config;
    config.features = {"stream"};
    Rig rig(config);
    SECTION("an unknown model is 404 model_not_found") {
        auto reply = rig.chat(R"({"model":"gpt-9","messages":[{"role":"user","content":"x"}]})");
        CHECK(status_of(reply) == 404);
        CHECK_THAT(reply.body, Catch::Contains("model_not_found"));
    }
    SECTION("an image to a provider without vision is 400") {
        auto reply = rig.chat(
            R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]})");
        CHECK(status_of(reply) == 400);
        CHECK_THAT(reply.body, Catch::Contains("image_url is only supported by certain models"));
    }
    SECTION("a wrong method is 405 and an unknown path 404, both in OpenAI's shape") {
        IncomingRequest get{"GET", "/v1/chat/completions", "", "", "", std::nullopt, "", 1};
        auto r405 = rig.provider.handle(get);
        CHECK(status_of(r405) == 405);
        CHECK_THAT(r405.body, Catch::Contains("Invalid method for URL (GET /v1/chat/completions)"));
        IncomingRequest nowhere{"POST", "/v1/nowhere", "", "", "", std::nullopt, "", 1};
        auto r404 = rig.provider.handle(nowhere);
        CHECK(status_of(r404) == 404);
        CHECK_THAT(r404.body, Catch::Contains("Invalid URL (POST /v1/nowhere)"));
    }
    SECTION("a max_tokens beyond the cap is 400") {
        auto reply = rig.chat(
            R"({"model":"gpt-4o-mini","max_tokens":99999999,"messages":[{"role":"user","content":"x"}]})");
        CHECK(status_of(reply) == 400);
    }
}

TEST_CASE("an API key, when configured, is required and checked", "[provider][auth]") {
    ProviderConfig config;
    config.api_key = "sk-test";
    Rig rig(config);
    CHECK(status_of(rig.chat(kHello)) == 401);
    IncomingRequest in{"POST", "/v1/chat/completions", kHello, "Bearer sk-test",
                       "",     std::nullopt,           "",     1};
    CHECK(status_of(rig.provider.handle(in)) == 200);
}

TEST_CASE("x-ratelimit headers agree with the request bucket, and an empty bucket answers 429",
          "[provider][ratelimit]") {
    ProviderConfig config;
    config.rate_limits = {3, 0};
    Rig rig(config);
    auto first = rig.chat(kHello);
    CHECK(header(first, "x-ratelimit-limit-requests") == "3");
    CHECK(header(first, "x-ratelimit-remaining-requests") == "2");
    CHECK(header(first, "x-ratelimit-reset-requests") == "20s");
    CHECK(header(rig.chat(kHello), "x-ratelimit-remaining-requests") == "1");
    CHECK(header(rig.chat(kHello), "x-ratelimit-remaining-requests") == "0");
    auto limited = rig.chat(kHello);
    CHECK(status_of(limited) == 429);
    CHECK(header(limited, "retry-after") == "20");
    auto body = boost::json::parse(limited.body).as_object();
    CHECK(body.at("error").as_object().at("type").as_string() == "requests");
    CHECK(body.at("error").as_object().at("code").as_string() == "rate_limit_exceeded");
    rig.clock.advance(20s);
    CHECK(status_of(rig.chat(kHello)) == 200);
}

TEST_CASE("the provider carries out the Plan the fault model chose", "[provider][plan]") {
    Rig rig;
    faults::Plan plan;
    rig.provider.set_planner([&](const PlanQuery&) { return plan; });

    SECTION("a rejection with retry headers") {
        plan.add(faults::Rejection{.status = 503,
                                   .message = "Server busy, please try again later.",
                                   .retry_after = 2s,
                                   .retry_after_ms = 1500ms,
                                   .should_retry = true});
        plan.applied = {"busy"};
        auto reply = rig.chat(kHello);
        CHECK(status_of(reply) == 503);
        CHECK(header(reply, "retry-after") == "2");
        CHECK(header(reply, "retry-after-ms") == "1500");
        CHECK(header(reply, "x-should-retry") == "true");
        CHECK_THAT(reply.body, Catch::Contains("Server busy, please try again later."));
        CHECK(reply.attempt.fault == "busy");
    }
    SECTION("an HTML 502 page as proxies send it") {
        plan.add(faults::Rejection{.status = 502, .html = true});
        plan.applied = {"malformed"};
        auto reply = rig.chat(kHello);
        CHECK(status_of(reply) == 502);
        CHECK(header(reply, "content-type") == "text/html");
        CHECK_THAT(reply.body, Catch::Contains("<title>502 Bad Gateway</title>"));
    }
    SECTION("a reset instead of an answer") {
        plan.add(faults::Reset{});
        plan.applied = {"outage"};
        auto reply = rig.chat(kHello);
        CHECK(reply.connection == faults::ConnectionAction::reset);
        CHECK(reply.head.empty());
    }
    SECTION("a stream that stalls after N tokens") {
        plan.add(faults::Stall{.after_tokens = 3, .keepalive = true});
        plan.applied = {"stall"};
        auto reply = rig.chat(
            R"({"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"x"}]})");
        int tokens = 0;
        for (const auto& f : reply.frames) tokens += f.tokens;
        CHECK(tokens == 3);
        CHECK(reply.stream_end == Reply::StreamEnd::stall_keepalive);
        CHECK(reply.keepalive_bytes == ": keep-alive\n\n");
    }
    SECTION("a stream that ends with an in-band error") {
        plan.add(
            faults::StreamFailure{.after_tokens = 2, .error = faults::Rejection{.status = 500}});
        plan.applied = {"stream_error"};
        auto reply = rig.chat(
            R"({"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"x"}]})");
        CHECK_THAT(reply.frames.back().bytes, Catch::StartsWith("data: {\"error\":"));
        CHECK(reply.stream_end == Reply::StreamEnd::clean);
    }
    SECTION("a stream without its [DONE]") {
        plan.add(faults::Malform{faults::Malformed::missing_done});
        plan.applied = {"malformed"};
        auto reply = rig.chat(
            R"({"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"x"}]})");
        CHECK(reply.frames.back().bytes != "data: [DONE]\n\n");
    }
    SECTION("an answer that ignores the image") {
        plan.add(faults::Ignore{faults::Ignored::images});
        plan.applied = {"feature_loss"};
        std::string body =
            R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":[{"type":"text","text":"what?"},{"type":"image_url","image_url":{"url":"https://x/cat.png"}}]}]})";
        auto reply = rig.chat(body);
        CHECK(status_of(reply) == 200);
        auto text = boost::json::parse(reply.body)
                        .at("choices")
                        .as_array()[0]
                        .at("message")
                        .at("content")
                        .as_string();
        auto request = std::get<ChatRequest>(rig.provider.dialect().parse_chat(body));
        CHECK(verify_answer(std::string(text), request) == Verdict::image_ignored);
    }
}

TEST_CASE("finished attempts land in the journal and the metrics", "[provider][journal]") {
    Rig rig;
    rig.clock.jump_to(90s);
    IncomingRequest in{"POST", "/v1/chat/completions", kHello, "", "", 2, "", 7};
    auto reply = rig.provider.handle(in);
    reply.attempt.outcome = "complete";
    rig.provider.finish(std::move(reply.attempt));
    auto records = rig.journal.since(0);
    REQUIRE(records.size() == 1);
    CHECK(records[0].at == 90s);
    CHECK(records[0].retry_count == 2);
    CHECK(records[0].connection == 7);
    CHECK(records[0].status == 200);
    CHECK(records[0].model == "gpt-4o-mini");
    CHECK(records[0].completion_tokens > 0);
    CHECK(rig.metrics.value(metric::attempts,
                            {{"provider", "openai"}, {"status", "200"}, {"fault", ""}}) == 1);
    CHECK_THAT(rig.metrics.render(),
               Catch::Contains(
                   "brownout_attempts_total{provider=\"openai\",status=\"200\",fault=\"\"} 1"));
}

TEST_CASE("a histogram renders as Prometheus reads it, cumulative, with its largest beside it",
          "[metrics]") {
    Metrics metrics;
    auto& h = metrics.histogram(metric::send_lateness, {{"provider", "openai"}});
    for (Histogram::Span span : {50us, 3000us, 5000us, 20'000'000us}) h.observe(span);
    auto snap = h.snapshot();
    CHECK(snap.count() == 4);
    CHECK(snap.max == 20s);
    CHECK(Histogram::kBounds[4] == 2ms);
    CHECK(snap.above(4) == 3);
    CHECK(snap.above(5) == 1);  // a bound holds what equals it (5 ms)
    CHECK(snap.above(Histogram::kBounds.size() - 1) == 1);
    CHECK(Histogram::bound_within(5ms) == 5);
    CHECK(Histogram::bound_within(4999us) == 4);
    CHECK(Histogram::bound_within(1us) == 0);  // under every bound: the smallest
    auto text = metrics.render();
    CHECK_THAT(text, Catch::Contains("# TYPE brownout_send_lateness_seconds histogram\n"));
    for (const char* line :
         {"brownout_send_lateness_seconds_bucket{provider=\"openai\",le=\"0.0001\"} 1\n",
          "brownout_send_lateness_seconds_bucket{provider=\"openai\",le=\"0.002\"} 1\n",
          "brownout_send_lateness_seconds_bucket{provider=\"openai\",le=\"0.005\"} 3\n",
          "brownout_send_lateness_seconds_bucket{provider=\"openai\",le=\"10\"} 3\n",
          "brownout_send_lateness_seconds_bucket{provider=\"openai\",le=\"+Inf\"} 4\n",
          "brownout_send_lateness_seconds_sum{provider=\"openai\"} 20.00805\n",
          "brownout_send_lateness_seconds_count{provider=\"openai\"} 4\n",
          "# TYPE brownout_send_lateness_max_seconds gauge\n",
          "brownout_send_lateness_max_seconds{provider=\"openai\"} 20\n"})
        CHECK_THAT(text, Catch::Contains(line));
}

TEST_CASE("a journal with a window keeps the newest attempts and says which is the oldest",
          "[journal]") {
    AttemptJournal window(3);
    for (int i = 0; i < 5; ++i) {
        Attempt a;
        a.seq = window.next_seq();
        window.record(std::move(a));
    }
    auto kept = window.since(0);
    REQUIRE(kept.size() == 3);
    CHECK(kept.front().seq == 3);
    CHECK(window.oldest() == 3);
    AttemptJournal all;  // the harness's: keeps everything
    for (int i = 0; i < 5; ++i) {
        Attempt a;
        a.seq = all.next_seq();
        all.record(std::move(a));
    }
    CHECK(all.size() == 5);
    CHECK(all.oldest() == 1);

    // Many more than the window, finishing out of order in pairs (2, 1, 4, 3, ...): the newest
    // three by seq are kept, in order, however often the dropped ones are cleared away.
    AttemptJournal busy(3);
    for (std::uint64_t i = 1; i <= 100; i += 2) {
        for (std::uint64_t seq : {i + 1, i}) {
            Attempt a;
            a.seq = seq;
            busy.record(std::move(a));
        }
        REQUIRE(busy.size() == std::min<std::size_t>(3, i + 1));
    }
    auto newest = busy.since(0);
    REQUIRE(newest.size() == 3);
    CHECK(newest[0].seq == 98);
    CHECK(newest[1].seq == 99);
    CHECK(newest[2].seq == 100);
    CHECK(busy.since(98).size() == 2);
    CHECK(busy.oldest() == 98);

    // A journal told to keep nothing still hands each record to its sink (a run keeps its own).
    AttemptJournal none;
    std::vector<std::uint64_t> seen;
    none.restart([&](const Attempt& a) { seen.push_back(a.seq); }, 0);
    for (int i = 0; i < 3; ++i) {
        Attempt a;
        a.seq = none.next_seq();
        none.record(std::move(a));
    }
    CHECK(none.size() == 0);
    CHECK(seen == std::vector<std::uint64_t>{1, 2, 3});
}

TEST_CASE("a 429 with Retry-After throttles that client until the wait is over",
          "[provider][throttle]") {
    Rig rig;
    int calls = 0;
    // The fault model rejects the first request only; everything after it is the throttle's doing.
    rig.provider.set_planner([&](const PlanQuery&) {
        faults::Plan plan;
        if (calls++ == 0) {
            plan.add(faults::Rejection{.status = 429, .retry_after = 20s});
            plan.applied.emplace_back("busy");
        }
        return plan;
    });
    auto send = [&](const std::string& key, const std::string& peer) {
        IncomingRequest in{
            "POST", "/v1/chat/completions", kHello, key.empty() ? "" : "Bearer " + key,
            "",     std::nullopt,           "",     1};
        in.peer = peer;
        auto reply = rig.provider.handle(in);
        rig.provider.finish(Attempt(reply.attempt));  // the reply is returned whole
        return reply;
    };
    CHECK(status_of(send("k1", "127.0.0.1")) == 429);
    SECTION("an early retry from the same key is rejected again with the time that remains") {
        rig.clock.advance(5s);
        auto again = send("k1", "127.0.0.2");  // another address, the same key
        CHECK(status_of(again) == 429);
        CHECK(header(again, "retry-after") == "15");
        CHECK(again.attempt.fault == "throttled");
        CHECK(again.attempt.retry_after == 15s);
        CHECK(calls == 1);  // the fault model was not even asked
        SECTION("another key is not held to it") {
            CHECK(status_of(send("k2", "127.0.0.1")) == 200);
        }
    }
    SECTION("a retry within a tenth of the wait of its end passes") {
        rig.clock.advance(18500ms);
        CHECK(status_of(send("k1", "127.0.0.1")) == 200);
    }
    SECTION("a retry after the wait passes") {
        rig.clock.advance(20s);
        CHECK(status_of(send("k1", "127.0.0.1")) == 200);
    }
}

TEST_CASE(
    "without a key the client is its address, and enforce_retry_after = false turns the throttle "
    "off",
    "[provider][throttle]") {
    Rig rig;
    bool enforce = true;
    rig.provider.set_planner([&](const PlanQuery& q) {
        faults::Plan plan;
        if (q.now == Duration::zero()) {
            plan.add(faults::Rejection{
                .status = 429, .retry_after = 20s, .enforce_retry_after = enforce});
            plan.applied.emplace_back("busy");
        }
        return plan;
    });
    auto send = [&](const std::string& peer) {
        IncomingRequest in{"POST", "/v1/chat/completions", kHello, "", "", std::nullopt, "", 1};
        in.peer = peer;
        return status_of(rig.provider.handle(in));
    };
    SECTION("enforced") {
        CHECK(send("10.1.1.1") == 429);
        rig.clock.advance(1s);
        CHECK(send("10.1.1.1") == 429);
        CHECK(send("10.1.1.2") == 200);
    }
    SECTION("not enforced") {
        enforce = false;
        CHECK(send("10.1.1.1") == 429);
        rig.clock.advance(1s);
        CHECK(send("10.1.1.1") == 200);
    }
}

namespace {

ProviderConfig recovering_provider() {
    auto s = harness::load_scenario_text(R"(
[scenario]
name = "ramp"
duration = "1h"
[[providers]]
id = "p"
models = ["gpt-4o-mini"]
capacity = { concurrency = 4, queue = 8 }
  [[providers.phases]]
  start = "0s"
  end = "10m"
  fault = "recovery"
  failures = { from = 0.0, to = 0.0 }
  capacity = { from = 0.25, to = 1.0 }
)",
                                         "ramp.toml");
    return s.providers.front();
}

}  // namespace

TEST_CASE(
    "a queue held back by a recovery ramp gets its slots as the ramp rises, from scheduled "
    "reviews alone",
    "[provider][capacity]") {
    Rig rig(recovering_provider());
    int resumed = 0;
    CHECK(rig.provider.admit([&] { ++resumed; }) == Provider::Admission::now);  // 4 × 0.25 = 1
    for (int i = 0; i < 3; ++i)
        CHECK(rig.provider.admit([&] { ++resumed; }) == Provider::Admission::queued);
    CHECK(rig.provider.load().limit == 1);
    // Nobody releases a slot: only the timeline can open more. 2 slots at 10m × 1/3 = 3m20s.
    rig.clock.advance(3min + 19s);
    CHECK(resumed == 0);
    rig.clock.advance(1s);
    CHECK(resumed == 1);
    rig.clock.advance(10min);
    CHECK(resumed == 3);
    CHECK(rig.provider.load().in_service == 4);
    CHECK(rig.clock.pending() == 0);  // nothing more to look at: no review runs idle
}

TEST_CASE("abandoned work keeps its slot until it would have finished", "[provider][capacity]") {
    ProviderConfig config;
    config.capacity = {1, 1, true, 0};
    Rig rig(config);
    int resumed = 0;
    CHECK(rig.provider.admit([] {}) == Provider::Admission::now);
    CHECK(rig.provider.admit([&] { ++resumed; }) == Provider::Admission::queued);
    rig.provider.release(30s);  // the client left; the backend generates 30 s more
    rig.clock.advance(29s);
    CHECK(resumed == 0);
    rig.clock.advance(1s);
    CHECK(resumed == 1);
}

TEST_CASE("a jump past the end of a recovery ramp lets the queue in at the next review",
          "[provider][capacity]") {
    Rig rig(recovering_provider());
    int resumed = 0;
    for (int i = 0; i < 4; ++i) rig.provider.admit([&] { ++resumed; });
    CHECK(resumed == 0);
    rig.clock.jump_to(20min);
    rig.clock.advance(1s);
    CHECK(resumed == 3);
    CHECK(rig.provider.load().limit == 4);
}

TEST_CASE(
    "a stream on a socket keeps its tokens and makes each token's frame as it is sent: "
    "the stream reads back whole and verified",
    "[provider][sse]") {
    for (auto kind : {wire::DialectKind::openai, wire::DialectKind::anthropic}) {
        Rig rig(speaking(kind, 12));
        const std::string body =
            R"({"model":"m","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"caf\u00e9 \"hi\""}]})";
        IncomingRequest in{
            "POST", std::string(rig.provider.dialect().chat_path()), body, "", "", std::nullopt, "",
            1};
        auto reply = rig.provider.handle(in);
        REQUIRE(reply.streaming);
        REQUIRE(reply.token_form);
        int made = 0;
        std::string stream;
        bool after = false;  // past the token frames, which come together
        for (const auto& f : reply.frames) {
            if (f.token >= 0) {
                CHECK_FALSE(after);
                CHECK(f.token == made++);  // each piece in turn
                CHECK(f.bytes.empty());
                CHECK(f.tokens == 1);
            } else {
                after = after || made > 0;
                CHECK_FALSE(f.bytes.empty());
            }
            reply.append_frame(f, stream);
        }
        CHECK(made == 12);
        CHECK(after);  // the stream's end after them
        auto read = rig.provider.dialect().read_answer(true, stream, true);
        CHECK_FALSE(read.broken);
        auto request = std::get<wire::ChatRequest>(rig.provider.dialect().parse_chat(body));
        CHECK(wire::verify_answer(read.text, request) == wire::Verdict::ok);
    }
}

TEST_CASE("a truncated stream ends with half of the next event in the provider's own dialect",
          "[provider][sse]") {
    for (auto kind : {wire::DialectKind::openai, wire::DialectKind::anthropic}) {
        Rig rig(speaking(kind, 10));
        rig.provider.set_planner([](const PlanQuery&) {
            faults::Plan plan;
            plan.add(faults::Malform{faults::Malformed::truncated_sse});
            return plan;
        });
        auto body =
            kind == wire::DialectKind::anthropic
                ? std::string(
                      R"({"model":"m","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hi"}]})")
                : std::string(
                      R"({"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]})");
        IncomingRequest in{
            "POST", std::string(rig.provider.dialect().chat_path()), body, "", "", std::nullopt, "",
            1};
        auto reply = rig.provider.handle(in);
        REQUIRE(reply.streaming);
        CHECK(reply.stream_end == Reply::StreamEnd::cut);
        const auto& last = reply.frames.back().bytes;
        if (kind == wire::DialectKind::anthropic) {
            CHECK(last.rfind("event: content_block_delta", 0) == 0);  // not an OpenAI chunk
        } else {
            CHECK(last.rfind("data: {", 0) == 0);
            CHECK(last.find("chat.completion.chunk") != std::string::npos);
        }
        CHECK(last.find("\n\n") == std::string::npos);  // half an event
    }
}

TEST_CASE("a key in the query (Gemini's ?key=) is read like one in a header", "[provider]") {
    CHECK(query_parameter("/v1beta/models/m:generateContent?key=abc", "key") == "abc");
    CHECK(query_parameter("/v1beta/models/m:streamGenerateContent?alt=sse&key=k2", "key") == "k2");
    CHECK(query_parameter("/v1beta/models/m:generateContent?alt=sse", "key").empty());
    CHECK(query_parameter("/v1beta/models/m:generateContent", "key").empty());
    CHECK(query_parameter("/x?keys=1&key=", "key").empty());
    CHECK(mock::request_api_key("a", "g", "/p?key=q") == "a");
    CHECK(mock::request_api_key("", "g", "/p?key=q") == "g");
    CHECK(mock::request_api_key("", "", "/p?key=q") == "q");
}

TEST_CASE("in process, an answer is what the client reads only where no fault touches its bytes",
          "[provider][plan][typed]") {
    // IncomingRequest::reads (the simulator's transport): a whole answer comes as Reply::read or
    // frames' reads, an error as Reply::error_read; a fault that cuts, holds or spoils the bytes
    // leaves them as bytes, for the client half to read as it would on a socket.
    Rig rig;
    faults::Plan plan;
    rig.provider.set_planner([&](const PlanQuery&) { return plan; });
    const std::string stream =
        R"({"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"x"}]})";
    auto handle = [&](const std::string& body, bool reads) {
        IncomingRequest in{"POST", "/v1/chat/completions", body, "", "", std::nullopt, "", 1};
        in.reads = reads;
        return rig.provider.handle(in);
    };
    auto as_reads = [](const Reply& r) {
        if (r.streaming) {
            return r.read.has_value() && !r.frames.empty() &&
                   std::all_of(r.frames.begin(), r.frames.end(),
                               [](const PacedFrame& f) { return f.bytes.empty(); });
        }
        return r.read.has_value() && r.body.empty();
    };
    auto as_bytes = [](const Reply& r) {
        if (r.streaming) {
            return !r.read && !r.frames.empty() &&
                   std::any_of(r.frames.begin(), r.frames.end(),
                               [](const PacedFrame& f) { return !f.bytes.empty(); });
        }
        return !r.read && !r.body.empty();
    };

    for (const auto& body : {kHello, stream}) {
        plan = {};
        CHECK(as_reads(handle(body, true)));
        CHECK(as_bytes(handle(body, false)));  // a socket gets bytes, and nothing else
    }
    std::vector<faults::Effect> spoiling = {
        faults::Stall{.after_tokens = 2},
        faults::Cut{.after_tokens = 2},
        faults::Cut{.after_bytes = 40},
        faults::StreamFailure{.after_tokens = 2, .error = faults::Rejection{.status = 500}},
        faults::Malform{faults::Malformed::invalid_json},
        faults::Malform{faults::Malformed::truncated_sse},
        faults::Malform{faults::Malformed::missing_done},
        faults::Hold{.wait = 2s, .interval = 1s},
    };
    for (std::size_t i = 0; i < spoiling.size(); ++i) {
        for (const auto& body : {kHello, stream}) {
            INFO("effect " << i << (body == stream ? ", streamed" : ""));
            plan = {};
            plan.add(spoiling[i]);
            CHECK(as_bytes(handle(body, true)));
        }
    }
    plan = {};
    plan.add(faults::Rejection{.status = 503, .message = "Server busy"});
    auto error = handle(kHello, true);
    CHECK(error.error_read != nullptr);
    CHECK(error.body.empty());
    auto on_socket = handle(kHello, false);
    CHECK_FALSE(on_socket.error_read);
    CHECK_THAT(on_socket.body, Catch::Contains("Server busy"));
}

TEST_CASE("in process, an error's read: the same kept from the one before as worded anew",
          "[provider][plan][typed]") {
    // A plain status error read in process is kept for the next one of the same status, model
    // and wording (Provider::known_status_error_read): each in a row is what a provider that
    // never saw the one before reads, and a change of any of them is read anew.
    const std::vector<faults::Rejection> rejections = {
        {.status = 503},
        {.status = 503},
        {.status = 503, .error_type = "overloaded_error"},
        {.status = 503, .error_type = "overloaded_error"},
        {.status = 503, .code = "server_busy"},
        {.status = 503, .message = "Server busy"},
        {.status = 429},
        {.status = 429, .retry_after = 2s, .enforce_retry_after = false},  // no throttle after
        {.status = 400, .error_type = "invalid_request_error"},
        {.status = 500},
        {.status = 503},
    };
    for (auto vendor : {wire::Vendor::openai, wire::Vendor::deepseek, wire::Vendor::anthropic}) {
        ProviderConfig config;
        if (vendor == wire::Vendor::anthropic) {
            config.dialect = wire::DialectKind::anthropic;
            config.models = {"claude-3-5-haiku-latest"};
        }
        config.vendor = vendor;
        const std::string body =
            vendor == wire::Vendor::anthropic
                ? R"({"model":"claude-3-5-haiku-latest","max_tokens":64,"messages":[{"role":"user","content":"x"}]})"
                : kHello;
        const std::string path =
            vendor == wire::Vendor::anthropic ? "/v1/messages" : "/v1/chat/completions";
        Rig kept(config);
        faults::Plan plan;
        kept.provider.set_planner([&](const PlanQuery&) { return plan; });
        std::shared_ptr<const wire::ReadError> before;
        for (std::size_t i = 0; i < rejections.size(); ++i) {
            INFO("vendor " << static_cast<int>(vendor) << ", rejection " << i);
            Rig fresh(config);
            fresh.provider.set_planner([&](const PlanQuery&) { return plan; });
            plan = {};
            plan.add(rejections[i]);
            IncomingRequest in{"POST", path, body, "", "", std::nullopt, "", 1};
            in.reads = true;
            auto got = kept.provider.handle(in);
            auto want = fresh.provider.handle(in);
            REQUIRE(got.error_read != nullptr);
            REQUIRE(want.error_read != nullptr);
            CHECK(got.error_read->status == want.error_read->status);
            CHECK(got.error_read->type == want.error_read->type);
            CHECK(got.error_read->code == want.error_read->code);
            CHECK(got.error_read->klass == want.error_read->klass);
            CHECK(got.error_read->retry_seconds == want.error_read->retry_seconds);
            // The same as the one before it (1 and 3): one read, shared.
            if (i == 1 || i == 3) CHECK(got.error_read == before);
            if (i == 2 || i == 4) CHECK(got.error_read != before);
            before = got.error_read;
            CHECK(got.fields.status == want.fields.status);
            CHECK(got.fields.length == want.fields.length);
            CHECK(got.fields.extra == want.fields.extra);
            CHECK(got.body == want.body);
        }
    }
}

TEST_CASE("in process, a reply's headers are read by name from its fields as from its written head",
          "[provider][typed]") {
    // Provider::HeadReader (the simulator's transport) and render_head (a socket) read one set of
    // fields: every header of the written head, by name, is what the reader finds — the first of
    // that name — and a name the head does not carry is found empty.
    auto lines_of = [](const std::string& head) {
        std::vector<std::pair<std::string, std::string>> lines;
        for (std::size_t at = head.find("\r\n"); at + 4 <= head.size();
             at = head.find("\r\n", at + 2)) {
            auto line = head.substr(at + 2, head.find("\r\n", at + 2) - at - 2);
            if (line.empty()) break;
            auto colon = line.find(": ");
            lines.emplace_back(line.substr(0, colon), line.substr(colon + 2));
        }
        return lines;
    };
    auto same = [&](const Provider& provider, const Reply& reply) {
        REQUIRE_FALSE(reply.head.empty());
        auto undated = [](std::string head) {  // the second may turn between the two writings
            auto at = head.find("\r\ndate: ");
            return at == std::string::npos ? head : head.erase(at, head.find("\r\n", at + 2) - at);
        };
        CHECK(undated(reply.head) == undated(provider.render_head(reply)));
        CHECK(status_of(reply) == reply.fields.status);
        const Provider::HeadReader read(provider, reply);
        auto lines = lines_of(reply.head);
        CHECK(lines.size() >= 5);
        for (const auto& line : lines) {
            const std::string& name = line.first;  // not a binding: clang cannot capture those
            INFO(name);
            if (name == "date") {
                CHECK(read(name).size() == line.second.size());  // the second may have turned
                continue;
            }
            CHECK(read(name) == header(reply, name));  // the first of that name
        }
        for (std::string_view absent : {"retry", "x-nothing", "HTTP/1.1", ""})
            CHECK(read(absent).empty());
        // Read all at once (the simulator's way), each name reads as it does alone; the head's
        // names, absent ones and a client's retry hints mixed, some twice.
        std::vector<std::string_view> names = {"retry-after-ms", "x-nothing",    "retry-after",
                                               "x-should-retry", "content-type", "date"};
        for (const auto& line : lines) names.push_back(line.first);
        names.emplace_back("retry-after");
        std::vector<std::string_view> values(names.size(), "stale");
        read.read(provider.head_query(names), values);
        for (std::size_t i = 0; i < names.size(); ++i) {
            INFO(names[i]);
            if (names[i] == "date") {
                CHECK(values[i].size() == read(names[i]).size());
                continue;
            }
            CHECK(values[i] == read(names[i]));
            CHECK(values[i] == header(reply, std::string(names[i])));  // the written head's
        }
    };
    for (auto dialect :
         {DialectKind::openai, DialectKind::anthropic, DialectKind::gemini, DialectKind::ollama}) {
        INFO(to_string(dialect));
        ProviderConfig config;
        config.dialect = dialect;
        config.rate_limits = {100, 0};  // x-ratelimit headers after the provider's name
        Rig rig(config);
        faults::Plan plan;
        rig.provider.set_planner([&](const PlanQuery&) { return plan; });
        auto handle = [&](bool stream, bool reads) {
            // The request as this dialect's own clients send it.
            auto request = rig.provider.dialect().render_chat(
                {.model = "gpt-4o-mini", .prompt = "x", .stream = stream}, "");
            IncomingRequest in{
                request.method, request.path, request.body, "", "", std::nullopt, "", 1};
            in.reads = reads;
            return rig.provider.handle(in);
        };
        std::vector<faults::Effect> effects = {
            faults::Rejection{.status = 503, .message = "Server busy"},
            faults::Rejection{
                .status = 429,
                .retry_after = 7s,
                .retry_after_ms = 7250ms,
                .should_retry = false,
                .enforce_retry_after = false},  // no throttle: the next effects are reached
            faults::Rejection{.status = 502, .html = true},
            faults::Hold{.wait = 2s, .interval = 1s},
        };
        for (bool stream : {false, true}) {
            plan = {};
            same(rig.provider, handle(stream, false));
            for (std::size_t i = 0; i < effects.size(); ++i) {
                INFO("effect " << i << (stream ? ", streamed" : ""));
                plan = {};
                plan.add(effects[i]);
                auto on_socket = handle(stream, false);
                same(rig.provider, on_socket);
                auto in_process = handle(stream, true);
                CHECK(in_process.head.empty());  // read by name, never written
                CHECK(in_process.fields.status == on_socket.fields.status);
            }
        }
        IncomingRequest bad{
            "POST", std::string(rig.provider.dialect().chat_path()), "{", "", "", std::nullopt, "",
            1};
        same(rig.provider, rig.provider.handle(bad));  // the dialect's error for a bad body
        IncomingRequest models{"GET", "/v1/models", "", "", "", std::nullopt, "", 1};
        if (dialect == DialectKind::openai) same(rig.provider, rig.provider.handle(models));
    }
    // A head longer than the reader keeps in place, with a name twice: still the first of it.
    Rig rig;
    Reply longer;
    longer.fields = {.status = 429, .content_type = "application/json", .length = 0};
    for (int i = 0; i < 40; ++i)
        longer.fields.extra.emplace_back(fmt::format("x-filler-{}", i), fmt::format("{}", i));
    longer.fields.limits = {{"retry-after", "3"}, {"x-filler-0", "again"}};
    longer.head = rig.provider.render_head(longer);
    same(rig.provider, longer);
    CHECK(Provider::HeadReader(rig.provider, longer)("retry-after") == "3");
    CHECK(Provider::HeadReader(rig.provider, longer)("x-filler-0") == "0");
}

TEST_CASE(
    "in process, an attempt no one reads the text of has none; its request id is made "
    "where a head names it",
    "[provider][typed][journal]") {
    // A simulated run journals into a sink that keeps numbers only (AttemptJournal::keeps_text):
    // its attempts carry no method, path, model or request id. A head read by name still names the
    // id a socket's attempt of the same seq is given, and a journal that is read gets them all.
    auto request = [](bool reads) {
        IncomingRequest in{"POST", "/v1/chat/completions?x=1", kHello, "", "", std::nullopt, "", 1};
        in.reads = reads;
        return in;
    };
    Rig socket;
    Reply on_socket = socket.provider.handle(request(false));
    const std::string id = on_socket.attempt.request_id;
    REQUIRE(id.size() == 36);
    CHECK(header(on_socket, "x-request-id") == id);

    Rig unread;
    std::vector<Attempt> seen;
    unread.journal.restart([&](const Attempt& a) { seen.push_back(a); }, 0,
                           /*sink_reads_text=*/false);
    CHECK_FALSE(unread.journal.keeps_text());
    Reply in_process = unread.provider.handle(request(true));
    CHECK(in_process.attempt.request_id.empty());
    CHECK(in_process.attempt.method.empty());
    CHECK(in_process.attempt.path.empty());
    CHECK(in_process.attempt.model.empty());
    CHECK(Provider::HeadReader(unread.provider, in_process)("x-request-id") == id);
    unread.provider.finish(in_process, "complete", 1s, 0);
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].status == 200);
    CHECK(seen[0].request_id.empty());

    // A journal that keeps records, or a sink that reads the text: the attempt has it.
    for (bool keeps : {true, false}) {
        Rig read;
        seen.clear();
        read.journal.restart([&](const Attempt& a) { seen.push_back(a); }, keeps ? SIZE_MAX : 0,
                             /*sink_reads_text=*/!keeps);
        CHECK(read.journal.keeps_text());
        Reply r = read.provider.handle(request(true));
        CHECK(r.attempt.method == "POST");
        CHECK(r.attempt.path == "/v1/chat/completions");
        CHECK(r.attempt.model == on_socket.attempt.model);
        CHECK_FALSE(r.attempt.model.empty());
        CHECK(r.attempt.request_id == id);
        read.provider.finish(r, "complete", 1s, 0);
        REQUIRE(seen.size() == 1);
        CHECK(seen[0].request_id == id);
    }
}

TEST_CASE("a head's fields set anew are those of a head assigned anew", "[provider]") {
    HeadFields used{.status = 429,
                    .content_type = "text/html",
                    .length = 12,
                    .processing = std::chrono::milliseconds(40),
                    .extra = {{"retry-after", "3"}},
                    .limits = {{"x-ratelimit-limit-requests", "60"}}};
    HeadFields fresh = used;
    fresh.set(200, "application/json", 0, std::nullopt, {{"x-should-retry", "true"}});
    HeadFields assigned = used;
    assigned = {.status = 200,
                .content_type = "application/json",
                .length = 0,
                .extra = {{"x-should-retry", "true"}}};
    CHECK(fresh == assigned);
    CHECK(fresh.limits.empty());
    fresh.set(503, "text/plain");
    CHECK((fresh.status == 503 && !fresh.length && fresh.extra.empty()));
}
