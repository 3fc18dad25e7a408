#pragma once
// A share of requests hit by a fault: fixed, or ramped across the phase; drawn for each request,
// or once for each spell of the phase, so that every request of a spell meets the same outcome.
//   rate = 0.3
//   rate = { from = 0.3, to = 1.0, curve = "linear" }      # linear | exponential | step
//   rate = { from = 0.4, to = 0.8, spell = "2m" }          # failing in runs, not at random

#include <string>

#include "core/duration.h"

namespace brownout {
class TableReader;
}

namespace brownout::faults {

struct Rate {
    enum class Curve { linear, exponential, step };
    double from = 1.0;
    double to = 1.0;
    Curve curve = Curve::linear;
    int steps = 4;
    // Zero: each request is drawn on its own. Otherwise the phase is cut into spells this long
    // from its start, and each spell is drawn once: a provider that fails in runs, as an
    // overloaded one does, where a client's immediate retries meet the same answer.
    Duration spell{};

    static Rate fixed(double v) { return Rate{v, v}; }
    bool is_fixed() const { return from == to; }  // the same share across the whole phase
    double at(double progress) const {            // progress in [0,1]
        return is_fixed() ? from : ramp(progress);
    }
    double ramp(double progress) const;
};

// Reads `key` (a number in [0,1] or a {from, to, curve, steps} table); `fallback` when absent.
Rate read_rate(TableReader& t, const std::string& key, Rate fallback);

}  // namespace brownout::faults
