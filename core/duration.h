#pragma once
// Durations at the edges of brownout are strings ("1h30m", "250ms", "1.5s"); inside they are
// std::chrono. All scenario time is kept in nanoseconds so that time_scale division stays exact.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace brownout {

using Duration = std::chrono::nanoseconds;

// Parses a Go-style duration: a sequence of <number><unit> with units h, m, s, ms, us, ns
// ("1h30m", "250ms", "1.5s", "0"). Returns nullopt on anything else, including negatives.
std::optional<Duration> parse_duration(std::string_view text);

// Formats the way Go's time.Duration.String() does ("6m0s", "12ms", "1h2m3s"), which is the
// form OpenAI uses in x-ratelimit-reset-* headers.
std::string format_go_duration(Duration d);

// A short human form for reports and logs ("1h30m", "250ms", "2.5s").
std::string format_duration(Duration d);

inline double to_seconds(Duration d) {
    return std::chrono::duration<double>(d).count();
}
inline Duration from_seconds(double s) {
    return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s));
}

}  // namespace brownout
