#pragma once
// A provider's incident timeline: its phases, read from [[providers.phases]] (or posted as JSON
// to the control API, or named in an x-brownout-fault header) and validated when loaded.

#include <toml++/toml.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/duration.h"
#include "core/error.h"
#include "core/text.h"
#include "faults/fault.h"

namespace brownout {
class TableReader;
}

namespace brownout::faults {

// How a phase shows on the status page; the default derives it from the fault.
struct StatusOverride {
    bool visible = true;                     // false: the page stays green while the API fails
    std::optional<ComponentStatus> status;   // force a component status
    std::vector<std::string> components;     // components affected (default: from the fault)
    std::string title;                       // incident title (default: the phase name)
    std::optional<Duration> resolved_after;  // "monitoring" to "resolved" (default: max(lag, 10m))
};

// `models` names `model`, or names none (a phase for every model).
inline bool covers(const std::vector<std::string>& models, std::string_view model) {
    return models.empty() || contains(models, model);
}

struct PhaseSpec {
    std::string name;
    Duration start{};
    std::optional<Duration> end;      // none: until the scenario ends
    std::string fault;                // the kind
    std::vector<std::string> models;  // empty: every model
    StatusOverride status_page;
    SourceLocation where;
    // The phase's table, kept to build a fresh Fault (with fresh state) for every fleet.
    std::shared_ptr<const toml::table> table;
    std::string key_path;

    bool active(Duration now) const { return now >= start && (!end || now < *end); }
    bool applies(Duration now, std::string_view model) const {
        return active(now) && covers(models, model);
    }
    std::unique_ptr<Fault> make_fault() const;
};

// Reads one phase table; throws brownout::Error naming file, line, column and key.
PhaseSpec read_phase(TableReader& t);
// Reads every [[…phases]] table under `key` of a provider table.
std::vector<PhaseSpec> read_phases(TableReader& provider, const std::string& key = "phases");

// A phase from the x-brownout-fault header: "busy" or "busy;status=429;retry_after=2s".
PhaseSpec phase_from_header(std::string_view header);
// A phase from control-API JSON with the TOML field names ({"fault":"busy","rate":0.5,...}).
PhaseSpec phase_from_json(std::string_view json, Duration now);

}  // namespace brownout::faults
