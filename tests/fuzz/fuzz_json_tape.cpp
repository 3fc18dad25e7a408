// libFuzzer target: the in-place JSON reader against Boost.JSON. Whatever text the tape takes,
// Boost.JSON must take too and read the same (tests/support/json_tape_check.h).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tests/support/json_tape_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto result = brownout::test::against_boost(text);
    if (result != "declined" && !result.empty()) std::abort();
    return 0;
}
