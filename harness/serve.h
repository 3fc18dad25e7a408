#pragma once
// `brownout serve`: a scenario's provider fleet on loopback until SIGINT or SIGTERM.

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "harness/scenario.h"

namespace brownout::harness {

// Server limits given on the command line (name as in [server], value as typed).
using LimitFlags = std::vector<std::pair<std::string, std::string>>;
// Sets each; throws brownout::Error naming the flag ("--max-streams: ...") on a bad value.
void apply_limit_flags(mock::ServerLimits& limits, const LimitFlags& flags);

struct ServeOptions {
    std::string host = "127.0.0.1";
    unsigned short port =
        8080;  // first provider; the others take the following ports (0: any free port)
    std::optional<double> time_scale;
    Duration start_at{};
    // Unix time at which scenario time 0 was (or is) on the wall: every replica started with the
    // same epoch follows one timeline, whenever it starts (DESIGN §8). Overrides start_at.
    std::optional<std::int64_t> epoch_unix;
    std::string ready_file;
    int threads = 1;
    LimitFlags limits;
    std::string control_token;  // from BROWNOUT_CONTROL_TOKEN: required by the control API, which
                                // then also serves non-loopback peers
};

// Blocks until SIGINT/SIGTERM, then shuts the fleet down cleanly. Returns the exit code.
int serve(const Scenario& scenario, const ServeOptions& options, std::ostream& log);

// Writes `content` to `path` atomically (temporary file, then rename).
void write_file_atomically(const std::string& path, const std::string& content);
// The whole file; throws brownout::Error ("PATH: cannot read it").
std::string read_text_file(const std::string& path);

}  // namespace brownout::harness
