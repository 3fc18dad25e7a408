// libFuzzer target: the scenario loader on arbitrary TOML text. Errors are fine; crashes,
// hangs and sanitizer reports are not.
#include <cstdint>
#include <string>

#include "core/error.h"
#include "harness/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        brownout::harness::load_scenario_text(
            std::string(reinterpret_cast<const char*>(data), size), "fuzz.toml");
    } catch (const brownout::Error&) {
    }
    return 0;
}
