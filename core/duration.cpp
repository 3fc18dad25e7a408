#include "core/duration.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>

namespace brownout {
namespace {

std::optional<double> unit_nanoseconds(std::string_view unit) {
    if (unit == "h") return 3600e9;
    if (unit == "m") return 60e9;
    if (unit == "s") return 1e9;
    if (unit == "ms") return 1e6;
    if (unit == "us" || unit == "µs") return 1e3;
    if (unit == "ns") return 1.0;
    return std::nullopt;
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
    if (text.empty()) return std::nullopt;
    if (text == "0") return Duration::zero();
    double total = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t start = i;
        while (i < text.size() && (is_digit(text[i]) || text[i] == '.')) ++i;
        if (i == start) return std::nullopt;
        std::string number(text.substr(start, i - start));
        if (number.find('.') != number.rfind('.') || number == ".") return std::nullopt;
        double value = std::stod(number);
        std::size_t unit_start = i;
        while (i < text.size() && !is_digit(text[i]) && text[i] != '.') ++i;
        auto scale = unit_nanoseconds(text.substr(unit_start, i - unit_start));
        if (!scale) return std::nullopt;
        total += value * *scale;
    }
    if (!std::isfinite(total) || total > 9.0e18) return std::nullopt;
    return Duration(static_cast<std::int64_t>(std::llround(total)));
}

std::string format_go_duration(Duration d) {
    using namespace std::chrono;
    std::int64_t ns = d.count();
    if (ns == 0) return "0s";
    std::string sign = ns < 0 ? "-" : "";
    ns = std::llabs(ns);
    if (ns < 1'000) return fmt::format("{}{}ns", sign, ns);
    if (ns < 1'000'000) return fmt::format("{}{}µs", sign, static_cast<double>(ns) / 1e3);
    if (ns < 1'000'000'000) return fmt::format("{}{}ms", sign, static_cast<double>(ns) / 1e6);
    std::int64_t hours = ns / 3'600'000'000'000;
    ns -= hours * 3'600'000'000'000;
    std::int64_t minutes = ns / 60'000'000'000;
    ns -= minutes * 60'000'000'000;
    double seconds = static_cast<double>(ns) / 1e9;
    std::string out = sign;
    if (hours > 0) out += fmt::format("{}h", hours);
    if (hours > 0 || minutes > 0) out += fmt::format("{}m", minutes);
    out += fmt::format("{}s", seconds);
    return out;
}

std::string format_duration(Duration d) {
    std::int64_t ns = d.count();
    if (ns == 0) return "0s";
    if (ns % 3'600'000'000'000 == 0) return fmt::format("{}h", ns / 3'600'000'000'000);
    if (ns >= 3'600'000'000'000) {
        return fmt::format("{}h{}", ns / 3'600'000'000'000,
                           format_duration(Duration(ns % 3'600'000'000'000)));
    }
    if (ns % 60'000'000'000 == 0) return fmt::format("{}m", ns / 60'000'000'000);
    if (ns >= 60'000'000'000) {
        return fmt::format("{}m{}", ns / 60'000'000'000,
                           format_duration(Duration(ns % 60'000'000'000)));
    }
    if (ns >= 1'000'000'000) return fmt::format("{}s", static_cast<double>(ns) / 1e9);
    if (ns >= 1'000'000) return fmt::format("{}ms", static_cast<double>(ns) / 1e6);
    if (ns >= 1'000) return fmt::format("{}us", static_cast<double>(ns) / 1e3);
    return fmt::format("{}ns", ns);
}

}  // namespace brownout
