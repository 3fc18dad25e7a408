#pragma once
// Where a fault acts:
//
//   client ──request──▶ mock provider ──facts──▶ Engine::decide(now) ──▶ each active phase's Fault
//                            ▲                                                   │ apply(ctx, out)
//                            └─────── Plan: effects (Rejection · Reset · Stall · Cut · ...) ◀┘
//
// A Fault is one kind of misbehaviour with its parameters, read from a phase table. Faults are
// pure: they take `now` and a random stream and return effect values (faults/plan.h), which the
// provider carries out in one place. Rejecting faults are asked first (the first that hits wins);
// modifiers then compose on whatever is left.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/duration.h"
#include "core/random.h"
#include "faults/plan.h"
#include "faults/rate.h"

namespace brownout {
class TableReader;
}

namespace brownout::faults {

// What a provider knows about a request before deciding.
struct RequestFacts {
    std::string_view model;
    bool stream = false;
    int image_count = 0;
    bool wants_tools = false;
    int prompt_tokens = 0;
    int max_tokens = 0;  // requested, or the provider's typical answer size
};

// 0 → 1 across a phase `span_seconds` long, `elapsed` into it (a phase without length: 0).
inline double phase_progress(Duration elapsed, double span_seconds) {
    if (span_seconds <= 0) return 0.0;
    return std::clamp(to_seconds(elapsed) / span_seconds, 0.0, 1.0);
}

struct Context {
    Duration now{};
    Duration elapsed{};       // since the phase started
    double span_seconds = 0;  // the phase's length (open-ended: to the scenario's end; 0: none)
    const RequestFacts& request;
    RandomStream& rng;
    std::uint64_t phase_seed = 0;  // the phase's own draws: a rate's spells

    // 0 → 1 across the phase. Worked out only when asked: a fixed share never needs it.
    double progress() const { return phase_progress(elapsed, span_seconds); }
    // The share `rate` gives at this point of the phase.
    double share(const Rate& rate) const {
        return rate.is_fixed() ? rate.from : rate.ramp(progress());
    }
    // Whether `rate` hits this request: a draw of its own, or the outcome of the spell it falls in.
    bool hits(const Rate& rate) {
        return rate.spell > Duration::zero() ? spell_hits(rate) : rng.chance(share(rate));
    }
    // The chance that `rate` hits this request, as the scorer asks it: the share, or, where the
    // rate has spells, 0 or 1, for this spell's outcome is already decided.
    double hit_share(const Rate& rate) const {
        if (rate.spell <= Duration::zero()) return share(rate);
        return spell_hits(rate) ? 1.0 : 0.0;
    }
    // A spell's outcome: one draw for the whole spell, against the share at its middle, so that
    // a ramp does not turn a spell over halfway and the spells' mean follows the ramp.
    bool spell_hits(const Rate& rate) const {
        auto index = elapsed / rate.spell;
        Duration middle = index * rate.spell + rate.spell / 2;
        double at_middle = rate.at(phase_progress(middle, span_seconds));
        auto draw =
            RandomStream(hash_combine(phase_seed ^ kSpellSalt, static_cast<std::uint64_t>(index)))
                .uniform();
        return draw < at_middle;
    }
    static constexpr std::uint64_t kSpellSalt = 0x5be11'5be11ULL;
};

// Component status on a Statuspage, worst last.
enum class ComponentStatus { operational, degraded_performance, partial_outage, major_outage };
std::string_view to_string(ComponentStatus s);

class Fault {
public:
    enum class Stage { reject, modify };
    virtual ~Fault() = default;

    // A string literal: Plan::applied keeps it as a string_view, past the fault's life.
    virtual std::string_view kind() const = 0;
    virtual Stage stage() const = 0;
    // Adds this fault's effects to `out` if it hits this request; returns whether it hit.
    virtual bool apply(Context& ctx, Effects& out) = 0;

    // Share of the provider's capacity left while the phase is active (1: untouched).
    virtual double capacity_factor(double /*progress*/, Duration /*elapsed*/) const { return 1.0; }
    // How the status page should show the phase's components.
    virtual ComponentStatus status_effect(double progress, Duration elapsed) const = 0;
    // The share of requests like this one the fault rejects at this moment — what the scorer
    // uses to tell whether any healthy path existed. Modifiers reject nothing.
    virtual double reject_share(const Context& /*ctx*/) const { return 0.0; }
    // The share reject_share() draws, where it can have spells (the engine looks past a spell's
    // end for the scorer); null: none.
    virtual const Rate* rejecting_rate() const { return nullptr; }
    // Features the fault takes away ("vision"), for mapping to status page components.
    virtual std::vector<std::string> lost_features() const { return {}; }
};

// Reads the fault-specific keys of a phase table; the registry maps a `fault = "…"` name to one.
using FaultParser = std::unique_ptr<Fault> (*)(TableReader& phase);
std::vector<std::string> fault_kinds();
FaultParser find_fault_parser(std::string_view kind);

// Shared reading of an error answer's fields (busy, outage, recovery, flapping): `status`,
// `message`, and the retry hints `retry_after`, `retry_after_ms`, `should_retry`.
Rejection read_rejection(TableReader& t, int default_status);
ComponentStatus status_for_share(double failure_share);

}  // namespace brownout::faults
