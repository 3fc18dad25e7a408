#include "harness/inprocess_transport.h"

#include <catch2/catch.hpp>
#include <optional>

using namespace brownout;
using namespace brownout::harness;
using namespace std::chrono_literals;

namespace {

// One provider in process streaming an answer of ten tokens, one every 100 ms after a TTFT of
// 100 ms and no jitter: token frame k (from 1) goes out at 100 ms + k × 100 ms.
struct StreamRig {
    VirtualScheduler clock;
    mock::AttemptJournal journal;
    mock::Metrics metrics;
    mock::Provider provider;
    InProcessTransport transport;
    std::optional<AttemptResult> result;
    Duration result_at{};

    StreamRig()
        : provider(config(), clock, journal, metrics),
          transport(clock, {&provider},
                    {ProviderAddress{"openai", "", 0, wire::DialectKind::openai, "gpt-4o-mini"}}) {}

    static mock::ProviderConfig config() {
        mock::ProviderConfig c;
        c.latency = {100ms, 10, 0.0};
        c.answer = {10, 10};
        return c;
    }

    std::uint64_t send(Duration timeout) {
        UserRequest r;
        r.kind = RequestKind::stream;
        r.prompt_words = 8;
        request.emplace(ChatToSend{outgoing_chat(r, "gpt-4o-mini")});
        return transport.send_chat(0, *request, timeout, [this](AttemptResult a) {
            result = std::move(a);
            result_at = clock.running();
        });
    }

    mock::Attempt attempt() const {
        REQUIRE(journal.size() == 1);
        return journal.since(0).front();
    }

    std::optional<ChatToSend> request;
};

}  // namespace

TEST_CASE("in process, a stream ends after its last frame's gap, every token sent",
          "[transport][sim]") {
    StreamRig rig;
    rig.send(10s);
    // A timeout the answer certainly comes before (1.1 s and no network, against 10 s) sets no
    // timer: only the hop that carries the reply out is pending.
    CHECK(rig.clock.pending() == 1);
    rig.clock.run();
    REQUIRE(rig.result);
    CHECK(rig.result->kind == AttemptResult::Kind::answer);
    auto a = rig.attempt();
    CHECK(a.outcome == "complete");
    CHECK(a.completion_tokens == 10);
    CHECK(a.duration == 100ms + 10 * 100ms);
    CHECK(rig.result_at == 100ms + 10 * 100ms);
}

TEST_CASE(
    "in process, a client that leaves mid-stream has the frames sent before it left, and "
    "the server notices at its next write",
    "[transport][sim]") {
    SECTION("its timeout") {
        StreamRig rig;
        rig.send(450ms);  // token frames at 200, 300 and 400 ms are out; the next is due at 500
        CHECK(rig.clock.pending() == 2);  // the hop and the timeout
        rig.clock.run();
        REQUIRE(rig.result);
        CHECK(rig.result->kind == AttemptResult::Kind::broken_stream);
        CHECK(rig.result_at == 450ms);
        auto a = rig.attempt();
        CHECK(a.outcome == "client_closed");
        CHECK(a.completion_tokens == 3);
        CHECK(a.duration == 500ms);
    }
    SECTION("abandoned by its stack") {
        StreamRig rig;
        auto handle = rig.send(10s);
        rig.clock.after(720ms, [&] { rig.transport.abandon(handle); });
        rig.clock.run();
        CHECK_FALSE(rig.result);  // an abandoned attempt calls nobody back
        auto a = rig.attempt();
        CHECK(a.outcome == "client_closed");
        CHECK(a.completion_tokens == 6);  // 200 … 700 ms
        CHECK(a.duration == 800ms);
    }
    SECTION("at the very instant the head went out: noticed at the first token's time") {
        StreamRig rig;
        auto handle = rig.send(10s);
        // Set after the head's timer, due with it (100 ms): runs right after the head is written.
        rig.clock.after(50ms,
                        [&] { rig.clock.after(50ms, [&] { rig.transport.abandon(handle); }); });
        rig.clock.run();
        auto a = rig.attempt();
        CHECK(a.outcome == "client_closed");
        CHECK(a.completion_tokens == 0);
        CHECK(a.duration == 200ms);  // the head's prelude went out with it; token 1 was next
    }
    SECTION("before the first token") {
        StreamRig rig;
        rig.send(150ms);  // the head is out at 100 ms, the first token due at 200
        rig.clock.run();
        REQUIRE(rig.result);
        CHECK(rig.result->kind == AttemptResult::Kind::broken_stream);
        auto a = rig.attempt();
        CHECK(a.outcome == "client_closed");
        CHECK(a.completion_tokens == 0);
        CHECK(a.duration == 200ms);
    }
}
