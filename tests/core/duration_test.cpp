#include "core/duration.h"

#include <catch2/catch.hpp>

using namespace brownout;
using namespace std::chrono_literals;

TEST_CASE("durations parse in the Go style used by scenarios", "[core][duration]") {
    CHECK(parse_duration("1h30m") == 90min);
    CHECK(parse_duration("250ms") == 250ms);
    CHECK(parse_duration("1.5s") == 1500ms);
    CHECK(parse_duration("2h3m4s") == 2h + 3min + 4s);
    CHECK(parse_duration("0") == 0s);
    CHECK(parse_duration("10us") == 10us);
    CHECK(parse_duration("7ns") == 7ns);
}

TEST_CASE("malformed durations are refused, not guessed", "[core][duration]") {
    for (const char* bad : {"", "5", "fast", "1x", "-1s", "1.2.3s", "s", "1h30", ".s"}) {
        INFO(bad);
        CHECK_FALSE(parse_duration(bad).has_value());
    }
}

TEST_CASE("durations format like Go's time.Duration for x-ratelimit-reset headers",
          "[core][duration]") {
    CHECK(format_go_duration(6min) == "6m0s");
    CHECK(format_go_duration(12ms) == "12ms");
    CHECK(format_go_duration(1h + 2min + 3s) == "1h2m3s");
    CHECK(format_go_duration(1500ms) == "1.5s");
    CHECK(format_go_duration(0s) == "0s");
}

TEST_CASE("durations format compactly for people", "[core][duration]") {
    CHECK(format_duration(90min) == "1h30m");
    CHECK(format_duration(250ms) == "250ms");
    CHECK(format_duration(6h) == "6h");
    CHECK(format_duration(2500ms) == "2.5s");
}
