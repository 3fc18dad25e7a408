// Micro benchmarks of the wire code: what each answer costs the mock before any I/O.
//   ./build/release/bench/bench_wire

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "core/real_scheduler.h"
#include "core/scheduler.h"
#include "core/toml_reader.h"
#include "faults/engine.h"
#include "mockprovider/idle_deadlines.h"
#include "mockprovider/provider.h"
#include "wire/answer.h"
#include "wire/dialect.h"

using namespace brownout;
using namespace brownout::mock;
using namespace brownout::wire;

namespace {

const std::string kBody =
    R"({"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},)"
    R"({"role":"user","content":"Summarise the incident report in two sentences."}]})";

ChatRequest parsed(const Dialect& d, const std::string& body) {
    return std::get<ChatRequest>(d.parse_chat(body));
}

void BM_ParseOpenAiRequest(benchmark::State& state) {
    auto d = make_dialect(DialectKind::openai, Vendor::openai);
    for (auto _ : state) benchmark::DoNotOptimize(d->parse_chat(kBody));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kBody.size()));
}
BENCHMARK(BM_ParseOpenAiRequest);

void BM_GenerateAnswer(benchmark::State& state) {
    auto d = make_dialect(DialectKind::openai, Vendor::openai);
    auto req = parsed(*d, kBody);
    for (auto _ : state)
        benchmark::DoNotOptimize(generate_answer(1, req, {32, 32}, true, "chatcmpl-1", 1));
}
BENCHMARK(BM_GenerateAnswer);

// Building a non-streaming response body: OpenAI and Anthropic.
void BM_CompletionBody(benchmark::State& state) {
    auto kind = state.range(0) == 0 ? DialectKind::openai : DialectKind::anthropic;
    auto d = make_dialect(kind, kind == DialectKind::openai ? Vendor::openai : Vendor::anthropic);
    auto req = parsed(*make_dialect(DialectKind::openai, Vendor::openai), kBody);
    auto c = generate_answer(1, req, {32, 32}, true, "chatcmpl-1", 1);
    for (auto _ : state) benchmark::DoNotOptimize(d->completion_body(c));
    state.SetLabel(kind == DialectKind::openai ? "openai" : "anthropic");
}
BENCHMARK(BM_CompletionBody)->Arg(0)->Arg(1);

// Encoding a whole answer as SSE frames; reported per chunk.
void BM_EncodeSseChunks(benchmark::State& state) {
    auto kind = state.range(0) == 0 ? DialectKind::openai : DialectKind::anthropic;
    auto d = make_dialect(kind, kind == DialectKind::openai ? Vendor::openai : Vendor::anthropic);
    auto req = parsed(*make_dialect(DialectKind::openai, Vendor::openai), kBody);
    req.stream = true;
    req.include_usage = true;
    auto c = generate_answer(1, req, {64, 64}, true, "chatcmpl-1", 1);
    std::size_t frames = 0;
    for (auto _ : state) {
        auto f = d->stream_frames(c, req);
        frames += f.size();
        benchmark::DoNotOptimize(f);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(frames));
    state.SetLabel(kind == DialectKind::openai ? "openai, items = chunks"
                                               : "anthropic, items = events");
}
BENCHMARK(BM_EncodeSseChunks)->Arg(0)->Arg(1);

// The whole request → Reply path of a provider (parse, plan, answer, head), no sockets.
void provider_handle(benchmark::State& state, Scheduler& clock, bool threaded) {
    AttemptJournal journal(1024, threaded);
    Metrics metrics;
    ProviderConfig config;
    config.answer = {32, 32};
    Provider provider(config, clock, journal, metrics);
    IncomingRequest in{"POST", "/v1/chat/completions", kBody, "", "", std::nullopt, "", 1};
    for (auto _ : state) {
        Reply r = provider.handle(in);
        r.attempt.outcome = "complete";
        provider.finish(std::move(r.attempt));
        benchmark::DoNotOptimize(r.body);
    }
}
// On a virtual scheduler, as the simulator has it: its one thread takes no locks.
void BM_ProviderHandle(benchmark::State& state) {
    VirtualScheduler clock;
    provider_handle(state, clock, false);
}
BENCHMARK(BM_ProviderHandle);
// On a real scheduler, as `serve`'s fleet has it (issue 13's figure): the provider's and the
// journal's locks, and the wall clock read for "now".
void BM_ProviderHandleServed(benchmark::State& state) {
    boost::asio::io_context ioc;
    RealScheduler clock(ioc, std::make_shared<ScaledClock>());
    provider_handle(state, clock, true);
}
BENCHMARK(BM_ProviderHandleServed);

}  // namespace

namespace {

// Engine::decide() with ten overlapping phases active (target: under 200 ns a decision).
void BM_EngineDecideTenPhases(benchmark::State& state) {
    std::string toml;
    const char* kinds[] = {"latency", "stall", "disconnect", "malformed", "stream_error"};
    for (int i = 0; i < 10; ++i) {
        toml += fmt::format("[[phases]]\nstart = \"{}m\"\nfault = \"{}\"\nrate = 0.05\n", i,
                            kinds[i % 5]);
    }
    // The last phase rejects a share: the engine walks all ten for most requests.
    toml += "[[phases]]\nstart = \"0s\"\nfault = \"busy\"\nrate = 0.1\n";
    auto table = parse_toml_text(toml, "bench.toml");
    TableReader root(table, "", std::make_shared<const std::string>("bench.toml"));
    faults::Engine engine(faults::read_phases(root), 1, "p", std::chrono::hours(1));
    faults::RequestFacts facts{"gpt-4o-mini", true, 0, false, 20, 64};
    Duration now = std::chrono::minutes(30);
    for (auto _ : state) {
        benchmark::DoNotOptimize(engine.decide(now, facts));
    }
}
BENCHMARK(BM_EngineDecideTenPhases);

}  // namespace

// serve's idle sweep at 12,000 connections, none of them idle (10,000 streams and the plain
// requests beside them in bench/stream_load.sh at TPS=5), each connection's state in a room of
// its own as a session's is. Arg 0: as it was until 2026-12-04 — every session locked and a
// handler posted to it, which looks at its idle flag on the io_context; Arg 1: one pass over
// the table of deadlines (mockprovider/idle_deadlines.h), visiting none.
namespace {
struct SweptSession {
    bool idle = false;
    std::array<char, 4000> rest{};  // a session's buffers and state, apart from the next one's
    brownout::mock::IdleDeadlines<SweptSession>::Place place;
};
}  // namespace

static void BM_IdleSweep(benchmark::State& state) {
    constexpr int kConnections = 12'000;
    boost::asio::io_context ioc(1);
    brownout::mock::IdleDeadlines<SweptSession> table;
    std::vector<std::shared_ptr<SweptSession>> sessions;
    std::vector<std::weak_ptr<SweptSession>> weak;
    for (int i = 0; i < kConnections; ++i) {
        sessions.push_back(std::make_shared<SweptSession>());
        sessions.back()->place = table.take(sessions.back());
        sessions.back()->place.never();  // busy
        weak.push_back(sessions.back());
    }
    std::size_t closed = 0;
    for (auto _ : state) {
        auto now = std::chrono::steady_clock::now();
        if (state.range(0) == 0) {
            std::erase_if(weak, [](const std::weak_ptr<SweptSession>& w) { return w.expired(); });
            std::vector<std::shared_ptr<SweptSession>> live;
            for (auto& w : weak) {
                if (auto s = w.lock()) live.push_back(std::move(s));
            }
            for (auto& s : live) {
                boost::asio::post(ioc, [s, &closed] { closed += s->idle ? 1 : 0; });
            }
            ioc.restart();
            ioc.run();
        } else {
            for (auto& s : table.due(now)) closed += s->idle ? 1 : 0;
        }
    }
    benchmark::DoNotOptimize(closed);
    state.counters["connections"] = kConnections;
}
BENCHMARK(BM_IdleSweep)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

// What measuring the server's own lateness costs a frame (mockprovider/metrics.h, Histogram):
// one observation, of lateness spread as a loaded server's is (most under 100 µs, a few up to
// 20 ms). Run with --benchmark_filter=SendLateness/threads:2 to see two threads on one provider.
static void BM_SendLateness(benchmark::State& state) {
    static brownout::mock::Histogram histogram;
    std::array<std::chrono::nanoseconds, 8> lateness{
        std::chrono::nanoseconds(0),      std::chrono::nanoseconds(0),
        std::chrono::nanoseconds(30'000), std::chrono::nanoseconds(0),
        std::chrono::nanoseconds(80'000), std::chrono::nanoseconds(450'000),
        std::chrono::nanoseconds(0),      std::chrono::nanoseconds(20'000'000)};
    std::size_t i = 0;
    for (auto _ : state) histogram.observe(lateness[i++ % lateness.size()]);
    benchmark::DoNotOptimize(histogram.snapshot().count());
}
BENCHMARK(BM_SendLateness)->Threads(1)->Threads(2);
