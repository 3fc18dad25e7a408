#pragma once
// Counters declared once and exported at GET /metrics in the Prometheus text format.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace brownout::mock {

// Durations counted by upper bound, as a Prometheus histogram in seconds: a hot path observes
// without a lock (an add to its bucket's count and to the sum, and the largest kept), GET
// /metrics renders the counts cumulative. Kept in whole nanoseconds, so a bound compares exactly
// (the sum wraps past 292 years of lateness: ten days of 200,000 sends a second, 50 ms late each).
// The bounds go 1, 2, 5 a decade, from 100 µs to 10 s.
class Histogram {
public:
    using Span = std::chrono::nanoseconds;
    static constexpr std::array<Span, 16> kBounds = {
        Span(100'000),       Span(200'000),       Span(500'000),       Span(1'000'000),
        Span(2'000'000),     Span(5'000'000),     Span(10'000'000),    Span(20'000'000),
        Span(50'000'000),    Span(100'000'000),   Span(200'000'000),   Span(500'000'000),
        Span(1'000'000'000), Span(2'000'000'000), Span(5'000'000'000), Span(10'000'000'000)};
    // The largest bound at most `span`, by its index (the smallest's, 0, when none is).
    static std::size_t bound_within(Span span);

    void observe(Span span);

    struct Snapshot {
        // counts[i]: observations at most kBounds[i] and above the bound before it; the last,
        // above every bound.
        std::array<std::uint64_t, kBounds.size() + 1> counts{};
        Span sum{};
        Span max{};
        std::uint64_t count() const;
        // How many were above kBounds[bound].
        std::uint64_t above(std::size_t bound) const;
    };
    // Each field read on its own: an observation made meanwhile may be in some and not others.
    Snapshot snapshot() const;

private:
    std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> counts_{};
    std::atomic<Span::rep> sum_{0};
    std::atomic<Span::rep> max_{0};
};

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
    // A stable handle to one histogram series (a name declared with type "histogram").
    Histogram& histogram(const std::string& name, const Labels& labels);

    // Prometheus text exposition (version 0.0.4).
    std::string render() const;

private:
    struct Family {
        std::string help;
        std::string type;
        std::map<std::string, std::unique_ptr<Series>> series;  // rendered label set → value
        std::map<std::string, std::unique_ptr<Histogram>> histograms;
    };
    Family& family(const std::string& name);  // under the lock
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
inline constexpr const char* send_lateness = "brownout_send_lateness_seconds";
inline constexpr const char* send_lateness_max = "brownout_send_lateness_max_seconds";
}  // namespace metric
// NOLINTEND(readability-identifier-naming)

}  // namespace brownout::mock
