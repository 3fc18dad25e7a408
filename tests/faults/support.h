#pragma once
// Shared by the fault tests (tests/faults/*_test.cpp): an engine from a TOML timeline, requests,
// and the share of requests a timeline rejects.

#include <string>
#include <vector>

#include "core/toml_reader.h"
#include "faults/engine.h"

namespace brownout::faults::testing {

using namespace std::chrono_literals;

inline std::vector<PhaseSpec> phases(const std::string& toml) {
    static std::vector<toml::table>
        keep;  // PhaseSpecs copy their tables; the reader needs one alive meanwhile
    keep.push_back(parse_toml_text(toml, "t.toml"));
    TableReader root(keep.back(), "", std::make_shared<const std::string>("t.toml"));
    return read_phases(root, "phases");
}

inline Engine engine(const std::string& toml, Duration horizon = 1h, std::uint64_t seed = 42) {
    return Engine(phases(toml), seed, "p", horizon);
}

inline RequestFacts chat() {
    return RequestFacts{"m", false, 0, false, 10, 50};
}
inline RequestFacts stream() {
    return RequestFacts{"m", true, 0, false, 10, 50};
}

// Share of `n` requests at `now` that the engine rejects.
inline double reject_share(Engine& e, Duration now, int n = 4000) {
    int hit = 0;
    for (int i = 0; i < n; ++i) {
        hit += e.decide(now, chat()).ends_request();
    }
    return hit / double(n);
}

// The last effect of kind E in a plan, or nothing.
template <class E>
std::optional<E> effect(const Plan& plan) {
    const E* e = plan.find<E>();
    return e ? std::optional<E>(*e) : std::nullopt;
}

inline std::string error_of(const std::string& toml) {
    try {
        phases(toml);
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace brownout::faults::testing

// For the test files that include this, and only for them: the names they test by.
using namespace brownout;
using namespace brownout::faults;
using namespace brownout::faults::testing;
using namespace std::chrono_literals;
