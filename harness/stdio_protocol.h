#pragma once
// The stdio client protocol's result line (README "Client stacks"):
//   {"id":17,"text":"…","provider":"deepseek"}   or   {"id":17,"error":"…"}

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace brownout::harness {

struct StdioResult {
    std::uint64_t id = 0;
    bool answered = false;  // "text" present; otherwise an error
    std::string text;
    std::string provider;
};

// nullopt for anything that is not a result line (garbage, no numeric id).
std::optional<StdioResult> parse_stdio_line(std::string_view line);
// {"ready":true}: the client has started (`ready_line = true` in its table).
bool is_ready_line(std::string_view line);

}  // namespace brownout::harness
