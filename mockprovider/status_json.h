#pragma once
// The status page as Atlassian Statuspage v2 JSON (reference/wire-formats.md §5).

#include <optional>
#include <string>
#include <string_view>

#include "faults/status_page.h"

namespace brownout::mock {

struct PageInfo {
    std::string id;
    std::string name;
    std::string url;
    std::int64_t epoch_unix = 0;  // unix time at scenario time zero
};

// Renders `path` (status.json, summary.json, components.json, incidents/unresolved.json,
// incidents.json under /api/v2/); nullopt for an unknown path.
std::optional<std::string> render_status_page(std::string_view path,
                                              const faults::StatusSnapshot& snap,
                                              const PageInfo& page);

// ISO 8601 with milliseconds ("2026-11-29T17:02:03.000Z") for a scenario time.
std::string iso_time(std::int64_t epoch_unix, Duration at);

}  // namespace brownout::mock
