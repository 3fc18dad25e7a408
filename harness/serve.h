#pragma once
// `brownout serve`: a scenario's provider fleet on loopback until SIGINT or SIGTERM.

#include <iosfwd>
#include <optional>
#include <string>

#include "harness/scenario.h"

namespace brownout::harness {

struct ServeOptions {
    std::string host = "127.0.0.1";
    unsigned short port = 8080;  // first provider; the others take the following ports (0: any free port)
    std::optional<double> time_scale;
    Duration start_at{};
    std::string ready_file;
    int threads = 1;
};

// Blocks until SIGINT/SIGTERM, then shuts the fleet down cleanly. Returns the exit code.
int serve(const Scenario& scenario, const ServeOptions& options, std::ostream& log);

// Writes `content` to `path` atomically (temporary file, then rename).
void write_file_atomically(const std::string& path, const std::string& content);

}  // namespace brownout::harness
