// How fast the simulator runs (issue 10: at least 1,000,000 simulated provider attempts per
// second on one core on the DeepSeek scenario with the four built-in stacks; the default
// scenario × 100 seeds in under 10 s). Single-threaded: one run is one core.
//
//   build/release/bench/bench_sim --benchmark_min_time=5

#include <benchmark/benchmark.h>

#include "harness/run.h"
#include "harness/scenario.h"
#include "harness/score.h"

using namespace brownout::harness;

namespace {

void run_seeds(benchmark::State& state, const std::string& file, bool score, bool in_turn = false) {
    Scenario scenario = load_scenario(file);
    if (in_turn) keep_expected_digests(std::size_t{1} << 16);
    std::uint64_t seed = scenario.seed;
    std::size_t attempts = 0, requests = 0;
    for (auto _ : state) {
        RunOptions options;
        options.seed = seed++;
        options.virtual_time = true;
        options.stacks_in_turn = in_turn;
        auto run = run_scenario(scenario, options);
        auto windows = phase_windows(run.scenario);
        for (const auto& stack : run.stacks) {
            attempts += stack.attempts.size();
            requests += stack.users.size();
            if (score) benchmark::DoNotOptimize(score_stack(run.scenario, stack, windows));
        }
    }
    state.counters["attempts/s"] =
        benchmark::Counter(static_cast<double>(attempts), benchmark::Counter::kIsRate);
    state.counters["requests/s"] =
        benchmark::Counter(static_cast<double>(requests), benchmark::Counter::kIsRate);
    state.counters["attempts/seed"] =
        benchmark::Counter(static_cast<double>(attempts), benchmark::Counter::kAvgIterations);
}

const std::string kDeepSeek = BROWNOUT_SOURCE_DIR "/scenarios/deepseek-2025-05-08.toml";

// One seed of the DeepSeek incident (six scenario hours), four stacks, scored.
void BM_SimDeepSeek(benchmark::State& state) {
    run_seeds(state, kDeepSeek, true);
}
BENCHMARK(BM_SimDeepSeek)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();

// The same without the scorer: the simulation alone.
void BM_SimDeepSeekUnscored(benchmark::State& state) {
    run_seeds(state, kDeepSeek, false);
}
BENCHMARK(BM_SimDeepSeekUnscored)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();

// The four stacks one after another on this thread, as `brownout sim` runs a seed when it runs
// several at once: one core.
void BM_SimDeepSeekOneCore(benchmark::State& state) {
    run_seeds(state, kDeepSeek, true, true);
}
BENCHMARK(BM_SimDeepSeekOneCore)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();

}  // namespace
