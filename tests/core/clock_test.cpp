#include "core/clock.h"

#include <catch2/catch.hpp>
#include <thread>

using namespace brownout;
using namespace std::chrono_literals;

TEST_CASE("a scaled clock runs time_scale times faster than the wall", "[core][clock]") {
    ScaledClock clock(360.0);
    auto before = clock.now();
    std::this_thread::sleep_for(50ms);
    auto elapsed = clock.now() - before;
    // 50 ms of wall time is 18 s of scenario time at 360×; sleeping may overshoot, never
    // undershoot.
    CHECK(elapsed >= 18s);
    CHECK(elapsed < 18s * 10);
    CHECK(clock.to_wall(1h) == 10s);
}

TEST_CASE("a scaled clock can start mid-scenario, jump, pause and resume", "[core][clock]") {
    ScaledClock clock(1.0, 2h);
    CHECK(clock.now() >= 2h);
    CHECK(clock.now() < 2h + 1s);
    clock.jump_to(30min);
    CHECK(clock.now() < 31min);
    clock.pause();
    auto frozen = clock.now();
    std::this_thread::sleep_for(20ms);
    CHECK(clock.now() == frozen);
    CHECK(clock.paused());
    clock.resume();
    std::this_thread::sleep_for(20ms);
    CHECK(clock.now() > frozen);
}

TEST_CASE("a manual clock moves only when told", "[core][clock]") {
    ManualClock clock;
    CHECK(clock.now() == 0s);
    clock.advance(90s);
    CHECK(clock.now() == 90s);
    clock.set(1h);
    CHECK(clock.now() == 1h);
}
