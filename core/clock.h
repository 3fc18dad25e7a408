#pragma once
// Scenario time. Everything that depends on time takes a Clock& (or a `now` value) so that a
// real-socket run, a test on a manual clock and a future simulator share the same logic.
//
//   wall time ──(× time_scale, + start offset, paused?)──▶ scenario time

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

#include "core/duration.h"

namespace brownout {

class Clock {
public:
    virtual ~Clock() = default;
    // Scenario time elapsed since the scenario started.
    virtual Duration now() const = 0;
    // How many scenario seconds pass per wall second.
    virtual double time_scale() const = 0;

    // Converts a span of scenario time into the wall time a timer must wait for it.
    std::chrono::nanoseconds to_wall(Duration scenario) const;
};

// Follows std::chrono::steady_clock, scaled. Jump, pause and resume serve the control API.
// Two axes (core/scheduler.h): running time, which stops while paused and ignores jumps, and
// scenario time = running time + what jumps added.
class ScaledClock final : public Clock {
public:
    explicit ScaledClock(double time_scale = 1.0, Duration start_at = Duration::zero());

    Duration now() const override;
    double time_scale() const override { return scale_; }
    Duration running() const;
    Duration offset() const;
    // The wall instant at which running time reaches `running_time` (max() while paused).
    std::chrono::steady_clock::time_point wall_at(Duration running_time) const;

    void jump_to(Duration at);
    void pause();
    void resume();
    bool paused() const;

    // Schedulers on this clock re-arm their timers when it jumps, pauses or resumes. `changed`
    // runs on the thread that moved the clock, without the clock's lock held.
    std::uint64_t subscribe(std::function<void()> changed);
    void unsubscribe(std::uint64_t id);

private:
    using Steady = std::chrono::steady_clock;
    Duration running_locked() const;
    void notify();

    mutable std::mutex mutex_;
    double scale_;
    Steady::time_point anchor_wall_;
    Duration anchor_running_{};
    Duration offset_;
    bool paused_ = false;
    std::mutex listeners_mutex_;
    std::uint64_t next_listener_ = 1;
    std::map<std::uint64_t, std::function<void()>> listeners_;
};

// For tests: time moves only when told to.
class ManualClock final : public Clock {
public:
    explicit ManualClock(Duration start = Duration::zero(), double time_scale = 1.0)
        : now_(start.count()), scale_(time_scale) {}
    Duration now() const override { return Duration(now_.load()); }
    double time_scale() const override { return scale_; }
    void advance(Duration d) { now_ += d.count(); }
    void set(Duration at) { now_ = at.count(); }

private:
    std::atomic<Duration::rep> now_;
    double scale_;
};

}  // namespace brownout
