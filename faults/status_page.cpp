#include "faults/status_page.h"

#include <algorithm>
#include <cctype>

#include "core/text.h"

namespace brownout::faults {
namespace {

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// Components a phase touches: the override, else those named after a lost feature, else the
// first component (the API).
std::vector<std::string> affected(const Engine::Phase& p, const StatusPageConfig& config) {
    if (!p.spec.status_page.components.empty()) return p.spec.status_page.components;
    std::vector<std::string> out;
    for (const auto& feature : p.fault->lost_features()) {
        std::vector<std::string> words =
            feature == "vision"  ? std::vector<std::string>{"image", "vision"}
            : feature == "tools" ? std::vector<std::string>{"tool", "function"}
                                 : std::vector<std::string>{"stream"};
        for (const auto& c : config.components) {
            for (const auto& w : words) {
                if (lower(c).find(w) != std::string::npos &&
                    std::find(out.begin(), out.end(), c) == out.end())
                    out.push_back(c);
            }
        }
    }
    if (out.empty() && !config.components.empty()) out.push_back(config.components.front());
    return out;
}

std::string impact_for(ComponentStatus s) {
    switch (s) {
        case ComponentStatus::major_outage:
            return "critical";
        case ComponentStatus::partial_outage:
            return "major";
        case ComponentStatus::degraded_performance:
            return "minor";
        case ComponentStatus::operational:
            return "none";
    }
    return "none";
}

}  // namespace

StatusSnapshot status_at(const Engine& engine, const StatusPageConfig& config, Duration now) {
    StatusSnapshot snap;
    Duration seen = now - config.lag;  // the page shows the world as it was `lag` ago
    for (const auto& name : config.components)
        snap.components.push_back({name, ComponentStatus::operational, Duration::zero()});

    for (const auto& p : engine.phases()) {
        const auto& spec = p.spec;
        if (!spec.status_page.visible || seen < spec.start) continue;
        auto components = affected(p, config);
        Duration published = spec.start + config.lag;
        bool over = spec.end && seen >= *spec.end;
        if (!over) {
            ComponentStatus status = spec.status_page.status.value_or(
                p.fault->status_effect(engine.progress(p, seen), seen - spec.start));
            for (auto& c : snap.components) {
                if (std::find(components.begin(), components.end(), c.name) == components.end())
                    continue;
                if (status > c.status) c.status = status;
                c.updated_at = std::max(c.updated_at, published);
            }
        }

        IncidentView incident;
        incident.id = to_hex(hash64(spec.name + std::to_string(spec.start.count()), 0x57a7), 12);
        incident.name = spec.status_page.title.empty() ? spec.name : spec.status_page.title;
        incident.components = components;
        ComponentStatus worst = spec.status_page.status.value_or(p.fault->status_effect(
            engine.progress(p, std::min(seen, spec.end.value_or(seen))), Duration::zero()));
        incident.impact = impact_for(std::max(worst, ComponentStatus::degraded_performance));
        incident.created_at = published;
        std::string affected_list;
        for (const auto& c : components) affected_list += (affected_list.empty() ? "" : ", ") + c;
        incident.updates.push_back(
            {"investigating", published,
             "We are investigating elevated error rates affecting " + affected_list + ".",
             components});
        // Engineers identify the cause a while after they start investigating.
        Duration identified = published + std::max<Duration>(config.lag, std::chrono::minutes(5));
        if (seen + config.lag >= identified && (!spec.end || identified < *spec.end + config.lag)) {
            incident.updates.push_back(
                {"identified", identified,
                 "The issue has been identified and a fix is being implemented.", components});
        }
        if (spec.end && seen >= *spec.end) {
            Duration monitoring = *spec.end + config.lag;
            incident.monitoring_at = monitoring;
            incident.updates.push_back(
                {"monitoring", monitoring,
                 "A fix has been implemented and we are monitoring the results.", components});
            Duration resolved =
                monitoring + spec.status_page.resolved_after.value_or(
                                 std::max<Duration>(config.lag, std::chrono::minutes(10)));
            if (now >= resolved) {
                incident.resolved_at = resolved;
                incident.updates.push_back(
                    {"resolved", resolved, "This incident has been resolved.", components});
            }
        }
        incident.status = incident.updates.back().status;
        incident.updated_at = incident.updates.back().at;
        std::reverse(incident.updates.begin(), incident.updates.end());
        snap.updated_at = std::max(snap.updated_at, incident.updated_at);
        snap.incidents.push_back(std::move(incident));
    }
    std::sort(snap.incidents.begin(), snap.incidents.end(),
              [](const auto& a, const auto& b) { return a.created_at > b.created_at; });

    ComponentStatus worst = ComponentStatus::operational;
    for (const auto& c : snap.components) worst = std::max(worst, c.status);
    switch (worst) {
        case ComponentStatus::operational:
            snap.indicator = "none";
            snap.description = "All Systems Operational";
            break;
        case ComponentStatus::degraded_performance:
            snap.indicator = "minor";
            snap.description = "Partially Degraded Service";
            break;
        case ComponentStatus::partial_outage:
            snap.indicator = "major";
            snap.description = "Partial System Outage";
            break;
        case ComponentStatus::major_outage:
            snap.indicator = "critical";
            snap.description = "Major System Outage";
            break;
    }
    return snap;
}

}  // namespace brownout::faults
