#include "faults/plan.h"

namespace brownout::faults {

std::string Plan::label() const {
    std::string out;
    for (const auto& name : applied) {
        if (!out.empty()) out += '+';
        out += name;
    }
    return out;
}

}  // namespace brownout::faults
