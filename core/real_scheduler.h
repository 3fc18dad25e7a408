#pragma once
// The scheduler of a real-socket run: timers on a shared ScaledClock (scaled, pausable, jumpable),
// carried out on an Asio io_context. One Asio timer serves every timer of the scheduler: it wakes
// at the earliest due and runs everything due within the next `kWindow` too, so a thousand
// streams pacing tokens wake the thread at most 1/kWindow times a second (a timer per stream
// spent most of the CPU in context switches; see bench/README.md). Tasks run on the scheduler's
// strand; a task that touches another strand's state dispatches there itself.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <memory>

#include "core/scheduler.h"

namespace brownout {

class RealScheduler final : public Scheduler {
public:
    static constexpr auto kWindow = std::chrono::microseconds(200);

    RealScheduler(boost::asio::io_context& ioc, std::shared_ptr<ScaledClock> clock);
    ~RealScheduler() override;
    RealScheduler(const RealScheduler&) = delete;
    RealScheduler& operator=(const RealScheduler&) = delete;

    Duration now() const override { return clock_->now(); }
    Duration running() const override { return clock_->running(); }
    double time_scale() const override { return clock_->time_scale(); }
    ScaledClock& clock() { return *clock_; }

    // Drops every pending timer and stops (the owner's shutdown; pending tasks may own
    // sessions, and nothing may outlive its fleet).
    void stop() override;

protected:
    Duration offset() const override { return clock_->offset(); }
    void earliest_changed() override;

private:
    void arm();
    void fire();

    std::shared_ptr<ScaledClock> clock_;
    boost::asio::strand<boost::asio::io_context::executor_type> strand_;
    boost::asio::steady_timer timer_;
    std::uint64_t subscription_ = 0;
    std::mutex armed_mutex_;
    std::optional<Duration> armed_;  // running time the Asio timer is set for
    bool stopped_ = false;
    // Alive while the scheduler is: posted work checks it before touching the scheduler.
    std::shared_ptr<RealScheduler*> alive_;
};

}  // namespace brownout
