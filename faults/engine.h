#pragma once
// The fault engine of one provider: which phases are active at `now`, and the Plan for a
// request. Pure logic — `now` is passed in; every random choice comes from a stream derived
// from (seed, provider, phase, request sequence number), so the same scenario, seed and
// sequence of requests give the same decisions.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/random.h"
#include "faults/timeline.h"

namespace brownout::faults {

struct ActivePhase {
    std::string name;
    std::string fault;
    Duration start{};
    std::optional<Duration> end;
    bool injected = false;
    double progress = 0;
};

class Engine {
public:
    Engine(std::vector<PhaseSpec> phases, std::uint64_t seed, std::string provider,
           Duration horizon);
    // Its steps point into its own phases: moved, never copied.
    Engine(Engine&&) = default;
    Engine& operator=(Engine&&) = default;
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;
    ~Engine() = default;

    // The Plan for one request. `forced` is an x-brownout-fault phase for this request alone.
    Plan decide(Duration now, const RequestFacts& request, const PhaseSpec* forced = nullptr);

    // The share of such requests the active phases reject at `now` (1: no way through).
    double reject_probability(Duration now, const RequestFacts& request) const;
    // reject_probability at `from`, or less where a spelled phase that applies then starts a
    // spell before `until` that would let the request through: a request that a spell rejects
    // could be answered in the next one within its deadline. Every other phase keeps its share
    // at `from`: no phase's end, nor a phase starting later, is looked past (as before spells).
    double reject_probability_within(Duration from, Duration until,
                                     const RequestFacts& request) const;
    // Share of capacity left at `now` (the lowest any active phase allows).
    double capacity_factor(Duration now) const;
    // Whether an outage with mode "refuse" is active: the port must not accept connections.
    bool refusing(Duration now) const;
    // The first phase start or end after `now` (none: nothing changes any more). What is active
    // changes only there; ramps within a phase change continuously.
    std::optional<Duration> next_boundary(Duration now) const;

    // Runtime control: a phase posted to the control API, and clearing all of those.
    void inject(PhaseSpec phase);
    std::size_t clear_injected();

    std::vector<ActivePhase> active(Duration now) const;
    struct Phase {
        PhaseSpec spec;
        std::unique_ptr<Fault> fault;
        bool injected = false;
        std::uint64_t stream_id = 0;
        Fault::Stage stage = Fault::Stage::modify;
        // Fixed when the phase is made, so that a decision computes only what changes with the
        // request: the base of its random streams (seed and phase), and its length in seconds
        // (0: a phase without length, whose progress stays 0).
        std::uint64_t rng_base = 0;
        double span_seconds = 0;
    };
    const std::vector<Phase>& phases() const { return phases_; }
    Duration horizon() const { return horizon_; }
    // 0 → 1 across the phase (open-ended phases: across the horizon).
    double progress(const Phase& p, Duration now) const;
    std::uint64_t decisions() const { return seq_; }

private:
    Phase make_phase(PhaseSpec spec, bool injected, std::uint64_t stream_id) const;
    // The share of such requests phase `p` rejects at `t` (reject_probability's factor).
    static double reject_share_at(const Phase& p, Duration t, const RequestFacts& request);
    // A fault hit the request: names it in the plan; returns whether the effects it added
    // (from `before` on) end the request.
    static bool hit(const Fault& fault, Plan& plan, std::size_t before);

    // What a decision reads of a phase, kept together, in the order a decision asks them: the
    // rejecting phases first (the first that hits wins), then the modifiers, each in scenario
    // order. Made again whenever phases_ changes.
    struct Step {
        Duration start{};
        Duration end{};         // Duration::max(): until the scenario ends
        HashCombiner rng_base;  // the phase's random streams, by request; base(): its spells'
        double span_seconds = 0;
        Fault* fault = nullptr;
        const std::vector<std::string>* models = nullptr;  // null: every model

        // PhaseSpec::applies from the step's copy of the phase's times and a pointer to its
        // model list (null: every model).
        bool applies(Duration now, std::string_view model) const {
            if (now < start || now >= end) return false;
            return models == nullptr || covers(*models, model);
        }
    };
    void make_steps();

    std::vector<Phase> phases_;
    std::vector<Step> steps_;
    // The phases that may refuse connections (may_refuse_connections), which refusing() asks
    // at every attempt; made again with steps_.
    std::vector<const Phase*> may_refuse_;
    std::uint64_t seed_;
    std::string provider_;
    Duration horizon_;
    std::uint64_t seq_ = 0;
};

// Whether an outage fault refuses connections (defined beside the outage kind).
bool refuses_connections(const Fault& fault, double progress);
// Whether it may, at any progress (an outage).
bool may_refuse_connections(const Fault& fault);

}  // namespace brownout::faults
