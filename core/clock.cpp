#include "core/clock.h"

namespace brownout {

std::chrono::nanoseconds Clock::to_wall(Duration scenario) const {
    double scale = time_scale();
    if (scale <= 0) return scenario;
    return std::chrono::nanoseconds(
        static_cast<std::chrono::nanoseconds::rep>(static_cast<double>(scenario.count()) / scale));
}

ScaledClock::ScaledClock(double time_scale, Duration start_at)
    : scale_(time_scale > 0 ? time_scale : 1.0),
      anchor_wall_(Steady::now()),
      anchor_scenario_(start_at) {}

Duration ScaledClock::now() const {
    std::lock_guard lock(mutex_);
    if (paused_) return anchor_scenario_;
    auto wall = Steady::now() - anchor_wall_;
    return anchor_scenario_ +
           Duration(static_cast<Duration::rep>(static_cast<double>(wall.count()) * scale_));
}

void ScaledClock::jump_to(Duration at) {
    std::lock_guard lock(mutex_);
    anchor_wall_ = Steady::now();
    anchor_scenario_ = at;
}

void ScaledClock::pause() {
    Duration current = now();
    std::lock_guard lock(mutex_);
    anchor_scenario_ = current;
    paused_ = true;
}

void ScaledClock::resume() {
    std::lock_guard lock(mutex_);
    if (!paused_) return;
    anchor_wall_ = Steady::now();
    paused_ = false;
}

bool ScaledClock::paused() const {
    std::lock_guard lock(mutex_);
    return paused_;
}

}  // namespace brownout
