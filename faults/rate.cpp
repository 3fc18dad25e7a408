#include "faults/rate.h"

#include <algorithm>
#include <cmath>

#include "core/toml_reader.h"
#include "faults/keys.h"

namespace brownout::faults {

double Rate::ramp(double progress) const {
    double p = std::clamp(progress, 0.0, 1.0);
    double shape = p;
    switch (curve) {
        case Curve::linear:
            shape = p;
            break;
        // Slow at first, steep at the end: how caches expiring or a backlog draining look.
        case Curve::exponential:
            shape = (std::exp(4.0 * p) - 1.0) / (std::exp(4.0) - 1.0);
            break;
        case Curve::step: {
            int n = std::max(2, steps);
            shape = std::min(1.0, std::floor(p * n) / (n - 1));
            break;
        }
    }
    return from + (to - from) * shape;
}

KeySpec rate_key(std::string name, std::string doc) {
    static const TableSpec ramp{
        "rate ramp",
        "a share that moves across the phase",
        {{"from", KeyType::number, "at the phase's start", {}, 0, 1},
         {"to", KeyType::number, "at its end", {}, 0, 1},
         {"curve", KeyType::string, "how it moves", {"linear", "exponential", "step"}},
         {"steps", KeyType::integer, "curve = step: how many steps", {}, 2, 100},
         {"spell", KeyType::duration,
          "draw once for each spell this long, not for each request: every request of a spell "
          "meets the same outcome"}}};
    return {std::move(name), KeyType::rate, std::move(doc), {}, 0, 1, &ramp};
}

Rate read_rate(TableReader& t, const std::string& key, Rate fallback) {
    if (!t.has(key)) {
        t.node(key);
        return fallback;
    }
    const toml::node* n = t.node(key);
    if (n->is_table()) {
        auto r = t.table(key);
        Rate rate;
        rate.from = r->number_in("from", 0, 1).value_or(0.0);
        rate.to = r->number_in("to", 0, 1).value_or(1.0);
        auto curve = r->choice("curve", {"linear", "exponential", "step"}).value_or("linear");
        rate.curve = curve == "exponential" ? Rate::Curve::exponential
                     : curve == "step"      ? Rate::Curve::step
                                            : Rate::Curve::linear;
        rate.steps = static_cast<int>(r->integer("steps", 2, 100).value_or(4));
        if (auto spell = r->duration("spell")) {
            if (*spell <= Duration::zero()) r->fail("spell", "must be longer than zero");
            rate.spell = *spell;
        }
        r->finish();
        return rate;
    }
    return Rate::fixed(*t.number_in(key, 0, 1));
}

}  // namespace brownout::faults
