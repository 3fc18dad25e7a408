// The registry of stack kinds: a name (`kind = "…"` in a client table) and its factory. Adding a
// kind is one file in this folder and one row below (and its keys in harness/scenario.cpp).

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"
#include "harness/stacks/stack.h"

namespace brownout::harness {
namespace {

struct Entry {
    const char* kind;
    StackFactory make;
};
constexpr Entry kStacks[] = {
    {"builtin", make_builtin_stack},
    {"gateway", make_gateway_stack},
    {"stdio", make_stdio_stack},
};

}  // namespace

const std::vector<std::string>& stack_kinds() {
    static const std::vector<std::string> kinds = [] {
        std::vector<std::string> out;
        for (const auto& e : kStacks) out.emplace_back(e.kind);
        return out;
    }();
    return kinds;
}

std::unique_ptr<Stack> make_stack(StackSetup setup, StackHost& host) {
    for (const auto& e : kStacks) {
        if (setup.client.kind == e.kind) return e.make(std::move(setup), host);
    }
    throw Error(fmt::format("client {}: unknown kind \"{}\" (kinds: {})", setup.client.name,
                            setup.client.kind, fmt::join(stack_kinds(), ", ")));
}

}  // namespace brownout::harness
