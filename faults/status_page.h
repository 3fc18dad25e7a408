#pragma once
// The status page a provider publishes, derived from its timeline and published `lag` late —
// as real pages trail real impact by 5–25 minutes (reference/wire-formats.md §6.7). Pure: the
// snapshot is a function of the phases and `now`. mockprovider renders it as Statuspage v2 JSON.

#include <optional>
#include <string>
#include <vector>

#include "faults/engine.h"

namespace brownout::faults {

struct StatusPageConfig {
    std::vector<std::string> components = {"API"};
    Duration lag{};
};

struct ComponentView {
    std::string name;
    ComponentStatus status = ComponentStatus::operational;
    Duration updated_at{};
};

struct IncidentUpdate {
    std::string status;  // investigating | identified | monitoring | resolved
    Duration at{};
    std::string body;
    std::vector<std::string> components;
};

struct IncidentView {
    std::string id;
    std::string name;
    std::string status;
    std::string impact;  // none | minor | major | critical
    Duration created_at{};
    Duration updated_at{};
    std::optional<Duration> monitoring_at;
    std::optional<Duration> resolved_at;
    std::vector<IncidentUpdate> updates;  // newest first
    std::vector<std::string> components;
};

struct StatusSnapshot {
    std::vector<ComponentView> components;
    std::vector<IncidentView> incidents;  // every incident published by now, newest first
    std::string indicator;                // none | minor | major | critical
    std::string description;
    Duration updated_at{};
};

StatusSnapshot status_at(const Engine& engine, const StatusPageConfig& config, Duration now);

}  // namespace brownout::faults
