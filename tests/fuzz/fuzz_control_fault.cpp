// libFuzzer target: the control API's phase parser (JSON) and the x-brownout-fault header parser,
// and an engine deciding with whatever they accept.
#include <cstdint>
#include <string>

#include "core/error.h"
#include "faults/engine.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace brownout;
    std::string text(reinterpret_cast<const char*>(data), size);
    faults::RequestFacts facts{"m", true, 1, true, 10, 50};
    auto exercise = [&](const faults::PhaseSpec& spec) {
        faults::Engine engine({spec}, 1, "p", std::chrono::hours(1));
        for (auto at : {spec.start, spec.start + std::chrono::minutes(1)}) {
            (void)engine.decide(at, facts);
            (void)engine.capacity_factor(at);
            (void)engine.reject_probability(at, facts);
        }
    };
    try {
        exercise(faults::phase_from_json(text, std::chrono::minutes(5)));
    } catch (const Error&) {
    }
    try {
        exercise(faults::phase_from_header(text));
    } catch (const Error&) {
    }
    return 0;
}
