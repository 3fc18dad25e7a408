#pragma once
// Every metric the scorer computes, declared once: its name (report.json, `[[expect]] metric =
// "…"`), how it prints and what it means. The scorer writes these names, the scenario loader
// accepts them in expectations, and the terminal table, JSON, JUnit and HTML reports read them.

#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace brownout::harness {
// A metric with nothing to measure (no request in its phase, no outage to mitigate) is NaN.
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace brownout::harness

namespace brownout::harness::metric {

// NOLINTBEGIN(readability-identifier-naming): the names are the metrics' own spelling
inline constexpr std::string_view availability = "availability";
inline constexpr std::string_view degraded_answers = "degraded_answers";
inline constexpr std::string_view graceful_degradation = "graceful_degradation";
inline constexpr std::string_view wrong_answers = "wrong_answers";
inline constexpr std::string_view hung = "hung";
inline constexpr std::string_view latency_p50 = "latency_p50";
inline constexpr std::string_view latency_p95 = "latency_p95";
inline constexpr std::string_view latency_p99 = "latency_p99";
inline constexpr std::string_view latency_max = "latency_max";
inline constexpr std::string_view wait_p50 = "wait_p50";
inline constexpr std::string_view wait_p99 = "wait_p99";
inline constexpr std::string_view retry_amplification = "retry_amplification";
inline constexpr std::string_view retry_after_violations = "retry_after_violations";
inline constexpr std::string_view retry_after_compliance = "retry_after_compliance";
inline constexpr std::string_view time_to_mitigate = "time_to_mitigate";
inline constexpr std::string_view time_to_recover = "time_to_recover";
inline constexpr std::string_view herd_factor = "herd_factor";
inline constexpr std::string_view metastable = "metastable";
inline constexpr std::string_view cost = "cost";
inline constexpr std::string_view score = "score";
inline constexpr std::string_view requests = "requests";
// NOLINTEND(readability-identifier-naming)

enum class Format { percent, percent_coarse, seconds, factor, dollars, flag, count };

struct Info {
    std::string_view name;
    Format format;
    std::string_view meaning;
};

// In the order expectations list them.
const std::vector<Info>& all();
const std::vector<std::string>& names();
// "–" for NaN (not measurable in that phase).
std::string format(std::string_view name, double value);

}  // namespace brownout::harness::metric
