#pragma once
// A share of requests hit by a fault: fixed, or ramped across the phase.
//   rate = 0.3
//   rate = { from = 0.3, to = 1.0, curve = "linear" }      # linear | exponential | step

#include <string>

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
