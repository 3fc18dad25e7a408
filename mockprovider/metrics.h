#pragma once
// Counters declared once and exported at GET /metrics in the Prometheus text format.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace brownout::mock {

class Metrics {
public:
    using Labels = std::vector<std::pair<std::string, std::string>>;
    using Series = std::atomic<double>;

    // A stable handle to one series: hot paths look it up once and add without locking.
    Series& series(const std::string& name, const Labels& labels);
    void add(const std::string& name, const Labels& labels, double value = 1.0) {
        series(name, labels).fetch_add(value);
    }
    double value(const std::string& name, const Labels& labels) const;

    // Prometheus text exposition (version 0.0.4).
    std::string render() const;

private:
    struct Family {
        std::string help;
        std::string type;
        std::map<std::string, std::unique_ptr<Series>> series;  // rendered label set → value
    };
    static std::string render_labels(const Labels& labels);

    mutable std::mutex mutex_;
    std::map<std::string, Family> families_;
};

// The metric names and their help texts; the only place they are spelled. Lower case, so that
// they read like the Prometheus names they stand for (metric::attempts).
// NOLINTBEGIN(readability-identifier-naming)
namespace metric {
inline constexpr const char* attempts = "brownout_attempts_total";
inline constexpr const char* tokens = "brownout_tokens_total";
inline constexpr const char* active_streams = "brownout_active_streams";
inline constexpr const char* in_flight = "brownout_requests_in_flight";
inline constexpr const char* connections = "brownout_connections_total";
inline constexpr const char* bad_requests = "brownout_bad_requests_total";
inline constexpr const char* refused_connections = "brownout_refused_connections_total";
}  // namespace metric
// NOLINTEND(readability-identifier-naming)

}  // namespace brownout::mock
