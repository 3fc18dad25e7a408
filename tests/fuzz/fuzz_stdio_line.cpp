// libFuzzer target: the stdio protocol's result-line parser.
#include <cstdint>
#include <string_view>

#include "harness/stdio_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    (void)brownout::harness::parse_stdio_line(
        std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
