#include "harness/metric.h"

#include <fmt/format.h>

#include <cmath>

namespace brownout::harness::metric {

const std::vector<Info>& all() {
    static const std::vector<Info> rows = {
        {availability, Format::percent, "share of requests that received an answer"},
        {degraded_answers, Format::count, "answers served from the stack's cache"},
        {graceful_degradation, Format::percent_coarse,
         "of the requests no provider could serve, the share that got an answer or a fast error"},
        {wrong_answers, Format::count, "answers that failed verification"},
        {hung, Format::count, "requests the stack never finished"},
        {latency_p50, Format::seconds, "median time to an answer"},
        {latency_p95, Format::seconds, "95th percentile time to an answer"},
        {latency_p99, Format::seconds, "99th percentile time to an answer"},
        {latency_max, Format::seconds,
         "the longest time to an answer (for a burst: when the last user was answered)"},
        {wait_p50, Format::seconds,
         "median wait, a request without an answer counting as the deadline"},
        {wait_p99, Format::seconds, "99th percentile wait, the same way"},
        {retry_amplification, Format::factor, "attempts per request"},
        {retry_after_violations, Format::count, "retries sent before an announced wait was over"},
        {retry_after_compliance, Format::percent_coarse,
         "of the retries after an announced wait, the share that waited"},
        {time_to_mitigate, Format::seconds, "from the incident's start until 95% are answered"},
        {time_to_recover, Format::seconds,
         "from the incident's end until answered and failed back to the primary"},
        {herd_factor, Format::factor, "peak primary load in recovery over steady load"},
        {metastable, Format::flag, "goodput still below half of steady long after the trigger"},
        {cost, Format::dollars, "what the answered tokens cost"},
        {score, Format::count, "the weighted score, 0-100"},
        {requests, Format::count, "user requests in the phase"},
    };
    return rows;
}

const std::vector<std::string>& names() {
    static const std::vector<std::string> out = [] {
        std::vector<std::string> n;
        for (const auto& m : all()) n.emplace_back(m.name);
        return n;
    }();
    return out;
}

std::string format(std::string_view name, double value) {
    if (std::isnan(value)) return "–";
    Format f = Format::count;
    for (const auto& m : all()) {
        if (m.name == name) f = m.format;
    }
    switch (f) {
        case Format::percent:
            return fmt::format("{:.2f}%", 100 * value);
        case Format::percent_coarse:
            return fmt::format("{:.1f}%", 100 * value);
        case Format::seconds:
            return fmt::format("{:.1f}s", value);
        case Format::factor:
            return fmt::format("{:.2f}x", value);
        case Format::dollars:
            return fmt::format("${:.4f}", value);
        case Format::flag:
            return value == 1.0 ? "YES" : "no";
        case Format::count:
            break;
    }
    return fmt::format("{:.0f}", value);
}

}  // namespace brownout::harness::metric
