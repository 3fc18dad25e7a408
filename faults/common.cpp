// Pieces several fault kinds share, and the registry of kinds.

#include <fmt/format.h>

#include "core/text.h"
#include "core/toml_reader.h"
#include "faults/fault.h"
#include "faults/keys.h"

namespace brownout::faults {

std::unique_ptr<Fault> parse_outage(TableReader&);
const TableSpec& outage_spec();
std::unique_ptr<Fault> parse_busy(TableReader&);
const TableSpec& busy_spec();
std::unique_ptr<Fault> parse_rate_limit(TableReader&);
const TableSpec& rate_limit_spec();
std::unique_ptr<Fault> parse_latency(TableReader&);
const TableSpec& latency_spec();
std::unique_ptr<Fault> parse_stall(TableReader&);
const TableSpec& stall_spec();
std::unique_ptr<Fault> parse_disconnect(TableReader&);
const TableSpec& disconnect_spec();
std::unique_ptr<Fault> parse_malformed(TableReader&);
const TableSpec& malformed_spec();
std::unique_ptr<Fault> parse_stream_error(TableReader&);
const TableSpec& stream_error_spec();
std::unique_ptr<Fault> parse_feature_loss(TableReader&);
const TableSpec& feature_loss_spec();
std::unique_ptr<Fault> parse_recovery(TableReader&);
const TableSpec& recovery_spec();
std::unique_ptr<Fault> parse_flapping(TableReader&);
const TableSpec& flapping_spec();
std::unique_ptr<Fault> parse_hold(TableReader&);
const TableSpec& hold_spec();

namespace {
struct Entry {
    const char* name;
    FaultParser parse;
    const TableSpec& (*spec)();  // its keys (faults/keys.h)
};
constexpr Entry kRegistry[] = {
    {"outage", parse_outage, outage_spec},
    {"busy", parse_busy, busy_spec},
    {"rate_limit", parse_rate_limit, rate_limit_spec},
    {"latency", parse_latency, latency_spec},
    {"stall", parse_stall, stall_spec},
    {"disconnect", parse_disconnect, disconnect_spec},
    {"malformed", parse_malformed, malformed_spec},
    {"stream_error", parse_stream_error, stream_error_spec},
    {"feature_loss", parse_feature_loss, feature_loss_spec},
    {"recovery", parse_recovery, recovery_spec},
    {"flapping", parse_flapping, flapping_spec},
    {"hold", parse_hold, hold_spec},
};
}  // namespace

std::vector<std::string> fault_kinds() {
    std::vector<std::string> out;
    for (const auto& e : kRegistry) out.emplace_back(e.name);
    return out;
}

const TableSpec* find_fault_spec(std::string_view kind) {
    for (const auto& e : kRegistry) {
        if (kind == e.name) return &e.spec();
    }
    return nullptr;
}

TableSpec kind_spec(const std::string& kind, std::string doc, std::vector<KeySpec> own) {
    TableSpec s{fmt::format("phase (fault = \"{}\")", kind), std::move(doc), phase_keys()};
    for (auto& k : own) s.keys.push_back(std::move(k));
    return s;
}

std::vector<KeySpec> rejection_keys(int default_status) {
    return {
        {"status",
         KeyType::integer,
         fmt::format("the error's HTTP status (default {})", default_status),
         {},
         400,
         599},
        {"message", KeyType::string, "the error's message (default: the dialect's own wording)"},
        {"retry_after",
         KeyType::any,
         "Retry-After: a duration (\"2s\", scenario time) or an HTTP-date",
         {},
         {},
         {},
         nullptr,
         false,
         R"({"type":"string"})"},
        {"retry_after_ms", KeyType::number, "retry-after-ms, in scenario milliseconds", {}, 0},
        {"should_retry", KeyType::boolean, "x-should-retry"},
        {"enforce_retry_after", KeyType::boolean,
         "reject a retry that comes before the announced wait again (default: yes for a 429)"},
    };
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
