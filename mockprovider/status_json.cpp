#include "mockprovider/status_json.h"

#include <fmt/format.h>

#include "core/random.h"
#include "core/text.h"

namespace brownout::mock {
namespace {

std::string page_json(const PageInfo& page, const faults::StatusSnapshot& snap) {
    return fmt::format(
        "{{\"id\":{},\"name\":{},\"url\":{},\"time_zone\":\"Etc/UTC\",\"updated_at\":\"{}\"}}",
        json_string(page.id), json_string(page.name), json_string(page.url),
        iso_time(page.epoch_unix, snap.updated_at));
}

std::string component_id(const PageInfo& page, const std::string& name) {
    return to_hex(hash64(name, hash64(page.id)), 12);
}

std::string component_json(const PageInfo& page, const faults::ComponentView& c, int position) {
    return fmt::format(
        "{{\"id\":\"{}\",\"name\":{},\"status\":\"{}\",\"created_at\":\"{}\",\"updated_at\":\"{}\","
        "\"position\":{},"
        "\"description\":null,\"showcase\":true,\"start_date\":null,\"group_id\":null,\"page_id\":{"
        "},\"group\":false,"
        "\"only_show_if_degraded\":false}}",
        component_id(page, c.name), json_string(c.name), faults::to_string(c.status),
        iso_time(page.epoch_unix, -std::chrono::hours(24 * 365)),
        iso_time(page.epoch_unix, c.updated_at), position, json_string(page.id));
}

std::string components_json(const PageInfo& page, const faults::StatusSnapshot& snap) {
    std::string out = "[";
    for (std::size_t i = 0; i < snap.components.size(); ++i) {
        if (i > 0) out += ",";
        out += component_json(page, snap.components[i], static_cast<int>(i) + 1);
    }
    return out + "]";
}

std::string incident_json(const PageInfo& page, const faults::IncidentView& inc,
                          const faults::StatusSnapshot& snap) {
    std::string updates = "[";
    for (std::size_t i = 0; i < inc.updates.size(); ++i) {
        const auto& u = inc.updates[i];
        if (i > 0) updates += ",";
        std::string affected = "[";
        for (std::size_t k = 0; k < u.components.size(); ++k) {
            if (k > 0) affected += ",";
            affected += fmt::format(
                "{{\"code\":\"{}\",\"name\":{},\"old_status\":\"operational\",\"new_status\":\"{}"
                "\"}}",
                component_id(page, u.components[k]), json_string(u.components[k]),
                u.status == "resolved" ? "operational" : "major_outage");
        }
        affected += "]";
        std::string at = iso_time(page.epoch_unix, u.at);
        updates += fmt::format(
            "{{\"id\":\"{}\",\"status\":\"{}\",\"body\":{},\"incident_id\":\"{}\",\"created_at\":"
            "\"{}\",\"updated_at\":\"{}\","
            "\"display_at\":\"{}\",\"affected_components\":{},\"deliver_notifications\":true,"
            "\"custom_tweet\":null,\"tweet_id\":null}}",
            to_hex(hash64(inc.id + u.status), 12), u.status, json_string(u.body), inc.id, at, at,
            at, affected);
    }
    updates += "]";
    std::string components = "[";
    int position = 0;
    for (const auto& c : snap.components) {
        for (const auto& name : inc.components) {
            if (name != c.name) continue;
            if (position > 0) components += ",";
            components += component_json(page, c, ++position);
        }
    }
    components += "]";
    auto opt_time = [&](const std::optional<Duration>& t) {
        return t ? fmt::format("\"{}\"", iso_time(page.epoch_unix, *t)) : std::string("null");
    };
    return fmt::format(
        "{{\"id\":\"{}\",\"name\":{},\"status\":\"{}\",\"created_at\":\"{}\",\"updated_at\":\"{}\","
        "\"monitoring_at\":{},"
        "\"resolved_at\":{},\"impact\":\"{}\",\"shortlink\":\"https://stspg.io/"
        "{}\",\"started_at\":\"{}\",\"page_id\":{},"
        "\"incident_updates\":{},\"components\":{}}}",
        inc.id, json_string(inc.name), inc.status, iso_time(page.epoch_unix, inc.created_at),
        iso_time(page.epoch_unix, inc.updated_at), opt_time(inc.monitoring_at),
        opt_time(inc.resolved_at), inc.impact, inc.id.substr(0, 7),
        iso_time(page.epoch_unix, inc.created_at), json_string(page.id), updates, components);
}

std::string incidents_json(const PageInfo& page, const faults::StatusSnapshot& snap,
                           bool unresolved_only) {
    std::string out = "[";
    bool first = true;
    for (const auto& inc : snap.incidents) {
        if (unresolved_only && inc.status == "resolved") continue;
        if (!first) out += ",";
        first = false;
        out += incident_json(page, inc, snap);
    }
    return out + "]";
}

}  // namespace

std::string iso_time(std::int64_t epoch_unix, Duration at) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at).count();
    std::int64_t total_ms = epoch_unix * 1000 + ms;
    return fmt::format("{}.{:03d}Z", utc_date_time(total_ms / 1000),
                       static_cast<int>(((total_ms % 1000) + 1000) % 1000));
}

std::optional<std::string> render_status_page(std::string_view path,
                                              const faults::StatusSnapshot& snap,
                                              const PageInfo& page) {
    std::string status = fmt::format("{{\"indicator\":\"{}\",\"description\":\"{}\"}}",
                                     snap.indicator, snap.description);
    std::string p = page_json(page, snap);
    if (path == "/api/v2/status.json")
        return fmt::format("{{\"page\":{},\"status\":{}}}", p, status);
    if (path == "/api/v2/components.json")
        return fmt::format("{{\"page\":{},\"components\":{}}}", p, components_json(page, snap));
    if (path == "/api/v2/incidents/unresolved.json")
        return fmt::format("{{\"page\":{},\"incidents\":{}}}", p, incidents_json(page, snap, true));
    if (path == "/api/v2/incidents.json")
        return fmt::format("{{\"page\":{},\"incidents\":{}}}", p,
                           incidents_json(page, snap, false));
    if (path == "/api/v2/scheduled-maintenances/upcoming.json" ||
        path == "/api/v2/scheduled-maintenances/active.json" ||
        path == "/api/v2/scheduled-maintenances.json") {
        return fmt::format("{{\"page\":{},\"scheduled_maintenances\":[]}}", p);
    }
    if (path == "/api/v2/summary.json") {
        return fmt::format(
            "{{\"page\":{},\"components\":{},\"incidents\":{},\"scheduled_maintenances\":[],"
            "\"status\":{}}}",
            p, components_json(page, snap), incidents_json(page, snap, true), status);
    }
    return std::nullopt;
}

}  // namespace brownout::mock
