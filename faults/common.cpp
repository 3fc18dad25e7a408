// Pieces several fault kinds share, and the registry of kinds.

#include <fmt/format.h>

#include "core/text.h"
#include "core/toml_reader.h"
#include "faults/fault.h"

namespace brownout::faults {

std::unique_ptr<Fault> parse_outage(TableReader&);
std::unique_ptr<Fault> parse_busy(TableReader&);
std::unique_ptr<Fault> parse_rate_limit(TableReader&);
std::unique_ptr<Fault> parse_latency(TableReader&);
std::unique_ptr<Fault> parse_stall(TableReader&);
std::unique_ptr<Fault> parse_disconnect(TableReader&);
std::unique_ptr<Fault> parse_malformed(TableReader&);
std::unique_ptr<Fault> parse_stream_error(TableReader&);
std::unique_ptr<Fault> parse_feature_loss(TableReader&);
std::unique_ptr<Fault> parse_recovery(TableReader&);
std::unique_ptr<Fault> parse_flapping(TableReader&);
std::unique_ptr<Fault> parse_hold(TableReader&);

namespace {
struct Entry {
    const char* name;
    FaultParser parse;
};
constexpr Entry kRegistry[] = {
    {"outage", parse_outage},
    {"busy", parse_busy},
    {"rate_limit", parse_rate_limit},
    {"latency", parse_latency},
    {"stall", parse_stall},
    {"disconnect", parse_disconnect},
    {"malformed", parse_malformed},
    {"stream_error", parse_stream_error},
    {"feature_loss", parse_feature_loss},
    {"recovery", parse_recovery},
    {"flapping", parse_flapping},
    {"hold", parse_hold},
};
}  // namespace

std::vector<std::string> fault_kinds() {
    std::vector<std::string> out;
    for (const auto& e : kRegistry) out.emplace_back(e.name);
    return out;
}

FaultParser find_fault_parser(std::string_view kind) {
    for (const auto& e : kRegistry) {
        if (kind == e.name) return e.parse;
    }
    return nullptr;
}

std::string_view to_string(ComponentStatus s) {
    switch (s) {
        case ComponentStatus::operational:
            return "operational";
        case ComponentStatus::degraded_performance:
            return "degraded_performance";
        case ComponentStatus::partial_outage:
            return "partial_outage";
        case ComponentStatus::major_outage:
            return "major_outage";
    }
    return "operational";
}

ComponentStatus status_for_share(double failure_share) {
    if (failure_share >= 0.95) return ComponentStatus::major_outage;
    if (failure_share >= 0.3) return ComponentStatus::partial_outage;
    if (failure_share > 0.0) return ComponentStatus::degraded_performance;
    return ComponentStatus::operational;
}

Rejection read_rejection(TableReader& t, int default_status) {
    Rejection r;
    r.status = static_cast<int>(t.integer("status", 400, 599).value_or(default_status));
    r.message = t.string("message", "");
    if (t.has("retry_after")) {
        // A duration ("2s", scenario time) is sent as seconds of wall time; an HTTP-date is
        // sent verbatim, as RFC 9110 allows both.
        const toml::node* n = t.node("retry_after");
        auto s = n->as_string();
        if (!s) t.fail("retry_after", "expected a duration (\"2s\") or an HTTP-date string");
        if (auto d = parse_duration(s->get())) {
            r.retry_after = *d;
        } else if (s->get().size() > 20 && s->get().ends_with("GMT")) {
            r.retry_after_date = s->get();
        } else {
            t.fail("retry_after", fmt::format("\"{}\" is neither a duration (\"2s\") nor an "
                                              "HTTP-date (\"Wed, 21 Oct 2026 07:28:00 GMT\")",
                                              s->get()));
        }
    }
    if (auto ms = t.number("retry_after_ms")) {
        if (*ms < 0) t.fail("retry_after_ms", "must not be negative");
        r.retry_after_ms = from_seconds(*ms / 1000.0);
    }
    if (auto retry = t.boolean("should_retry")) r.should_retry = *retry;
    r.enforce_retry_after = t.boolean("enforce_retry_after");
    return r;
}

}  // namespace brownout::faults
