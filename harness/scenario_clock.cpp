#include "harness/scenario_clock.h"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>

namespace brownout::harness {

std::optional<std::string> find_libfaketime() {
    if (const char* own = std::getenv("BROWNOUT_LIBFAKETIME"); own && *own) {
        if (std::filesystem::exists(own)) return std::string(own);
        return std::nullopt;
    }
    // Debian's multiarch paths; the MT variant is safe for threaded programs (Node, Python).
    for (const char* candidate :
         {"/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
          "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
          "/usr/lib/faketime/libfaketimeMT.so.1", "/usr/local/lib/faketime/libfaketimeMT.so.1"}) {
        if (std::filesystem::exists(candidate)) return std::string(candidate);
    }
    return std::nullopt;
}

std::map<std::string, std::string> scenario_clock_env(const std::string& libfaketime,
                                                      std::int64_t offset_seconds, double scale) {
    std::string preload = libfaketime;
    if (const char* existing = std::getenv("LD_PRELOAD"); existing && *existing)
        preload += fmt::format(":{}", existing);
    return {
        {"LD_PRELOAD", preload},
        {"FAKETIME", fmt::format("{:+d} x{}", offset_seconds, scale)},
        {"BROWNOUT_CLOCK", "scenario"},
    };
}

}  // namespace brownout::harness
