#pragma once
// The control API under /_brownout/ (DESIGN §4): read state and the journal, inject or clear
// fault phases, move the clock. Bound to loopback; with a token, non-loopback peers may use it.

#include <string>
#include <string_view>

#include "mockprovider/provider.h"

namespace brownout::mock {

struct ControlResult {
    int status = 200;
    std::string body;  // JSON
};

struct ControlAccess {
    std::string token;  // empty: loopback peers only, no token needed
};

ControlResult handle_control(Provider& provider, const IncomingRequest& request,
                             const ControlAccess& access);

// Compares without an early exit, so response time does not reveal how much of a token matched.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace brownout::mock
