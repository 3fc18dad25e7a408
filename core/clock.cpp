#include "core/clock.h"

namespace brownout {

std::chrono::nanoseconds Clock::to_wall(Duration scenario) const {
    double scale = time_scale();
    if (scale <= 0) return scenario;
    return std::chrono::nanoseconds(
        static_cast<std::chrono::nanoseconds::rep>(static_cast<double>(scenario.count()) / scale));
}

ScaledClock::ScaledClock(double time_scale, Duration start_at)
    : scale_(time_scale > 0 ? time_scale : 1.0), anchor_wall_(Steady::now()), offset_(start_at) {}

Duration ScaledClock::running_locked() const {
    if (paused_) return anchor_running_;
    auto wall = Steady::now() - anchor_wall_;
    return anchor_running_ +
           Duration(static_cast<Duration::rep>(static_cast<double>(wall.count()) * scale_));
}

Duration ScaledClock::now() const {
    std::lock_guard lock(mutex_);
    return running_locked() + offset_;
}

Duration ScaledClock::running() const {
    std::lock_guard lock(mutex_);
    return running_locked();
}

Duration ScaledClock::offset() const {
    std::lock_guard lock(mutex_);
    return offset_;
}

std::chrono::steady_clock::time_point ScaledClock::wall_at(Duration running_time) const {
    std::lock_guard lock(mutex_);
    if (paused_) return Steady::time_point::max();
    auto ahead = running_time - anchor_running_;
    return anchor_wall_ + std::chrono::nanoseconds(static_cast<std::chrono::nanoseconds::rep>(
                              static_cast<double>(ahead.count()) / scale_));
}

void ScaledClock::jump_to(Duration at) {
    {
        std::lock_guard lock(mutex_);
        offset_ = at - running_locked();
    }
    notify();
}

void ScaledClock::pause() {
    {
        std::lock_guard lock(mutex_);
        if (paused_) return;
        anchor_running_ = running_locked();
        paused_ = true;
    }
    notify();
}

void ScaledClock::resume() {
    {
        std::lock_guard lock(mutex_);
        if (!paused_) return;
        anchor_wall_ = Steady::now();
        paused_ = false;
    }
    notify();
}

bool ScaledClock::paused() const {
    std::lock_guard lock(mutex_);
    return paused_;
}

std::uint64_t ScaledClock::subscribe(std::function<void()> changed) {
    std::lock_guard lock(listeners_mutex_);
    auto id = next_listener_++;
    listeners_.emplace(id, std::move(changed));
    return id;
}

void ScaledClock::unsubscribe(std::uint64_t id) {
    std::lock_guard lock(listeners_mutex_);
    listeners_.erase(id);
}

void ScaledClock::notify() {
    std::lock_guard lock(listeners_mutex_);
    for (auto& [id, changed] : listeners_) changed();
}

}  // namespace brownout
