#pragma once
// How the provider reads a Plan: its effects folded into the one answer they describe. This is the
// one place where a plan's effects are carried out; Provider renders the result in the request's
// dialect.
//
//   Plan [Slowdown ×2, Stall 5, Slowdown ×3]  ──shape_of──▶  Shape {ttft ×6, stall after 5}
//
// The rules, for when several faults hit one request: the first rejection, reset or hang is the
// answer (the engine asks no fault after it); slowdowns multiply; ignored parts add up; for every
// other effect the later phase's value is the one carried out.

#include <optional>
#include <string>
#include <utility>

#include "faults/plan.h"

namespace brownout::mock {

struct Shape {
    faults::ConnectionAction connection = faults::ConnectionAction::none;
    // The rejection that is the answer, if any: the plan's own, where it is (the effects
    // outlive their shape), or one the provider adds, where it keeps it.
    const faults::Rejection* reject = nullptr;

    // Modifiers of a normal answer.
    double ttft_factor = 1.0;
    double token_rate_factor = 1.0;
    std::optional<faults::Stall> stall;
    std::optional<int> cut_after_tokens;
    std::optional<int> cut_after_bytes;
    std::optional<faults::StreamFailure> stream_failure;
    faults::Malformed malformed = faults::Malformed::none;
    bool ignore_images = false;
    bool ignore_tools = false;
    bool ignore_stream = false;
    std::string substitute_model;
    std::optional<faults::LimitSnapshot> limits;  // instead of the provider's own headers
    std::optional<faults::Hold> hold;

    // Whether the answer is sent at all (no rejection, reset or hang).
    bool answers() const { return connection == faults::ConnectionAction::none && !reject; }
    // Tokens a stream sends before a stall, a cut or an in-band error stops it (the fewest).
    std::optional<int> stream_stops_after() const;
};

// The shape points at the effects' rejection, and copies the rest of what it keeps: the effects
// must outlive it.
Shape shape_of(const faults::Effects& effects);
// The shape would point into a temporary (const or not: either binds here first).
Shape shape_of(const faults::Effects&& effects) = delete;

}  // namespace brownout::mock
