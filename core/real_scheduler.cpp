#include "core/real_scheduler.h"

#include <boost/asio/post.hpp>

namespace brownout {

namespace asio = boost::asio;

RealScheduler::RealScheduler(asio::io_context& ioc, std::shared_ptr<ScaledClock> clock)
    : Scheduler(true),
      clock_(std::move(clock)),
      strand_(asio::make_strand(ioc)),
      timer_(strand_),
      alive_(std::make_shared<RealScheduler*>(this)) {
    // A jump moves `at` timers on the running axis; pause and resume move the wall instant of
    // every timer.
    subscription_ = clock_->subscribe([weak = std::weak_ptr<RealScheduler*>(alive_), this] {
        if (weak.expired()) return;
        rebase();
        asio::post(strand_, [weak, this] {
            if (auto self = weak.lock()) {
                std::lock_guard lock(armed_mutex_);
                armed_.reset();  // re-arm whatever was armed: its wall instant moved
            }
            if (!weak.expired()) arm();
        });
    });
}

RealScheduler::~RealScheduler() {
    clock_->unsubscribe(subscription_);
    alive_.reset();
}

void RealScheduler::stop() {
    {
        std::lock_guard lock(armed_mutex_);
        stopped_ = true;
    }
    drop_all();
    asio::post(strand_, [weak = std::weak_ptr<RealScheduler*>(alive_), this] {
        if (!weak.expired()) timer_.cancel();
    });
}

void RealScheduler::earliest_changed() {
    auto due = next_due();
    if (!due) return;
    {
        std::lock_guard lock(armed_mutex_);
        if (stopped_ || (armed_ && *armed_ <= *due)) return;
        armed_ = *due;  // claimed here so that a burst of earlier timers posts one arm()
    }
    asio::post(strand_, [weak = std::weak_ptr<RealScheduler*>(alive_), this] {
        if (!weak.expired()) arm();
    });
}

void RealScheduler::arm() {
    std::optional<Duration> due;
    {
        // The earliest timer read and claimed under one lock: a timer another thread sets in
        // between finds the claim and posts its own arm() if it is earlier (earliest_changed()),
        // instead of finding the last round's claim and being left for a later timer's wake-up.
        std::lock_guard lock(armed_mutex_);
        if (stopped_) return;
        due = next_due();
        armed_ = due;
    }
    if (!due) return;
    auto wall = clock_->wall_at(*due);
    if (wall == std::chrono::steady_clock::time_point::max()) {
        std::lock_guard lock(armed_mutex_);
        armed_.reset();  // paused: resume() re-arms
        return;
    }
    if (wall <= std::chrono::steady_clock::now()) {
        // Due already (a hop set with no delay, or what the last round's tasks ran past): run it
        // from the strand's queue, after the handlers waiting there. Through the Asio timer it
        // cost a round of the reactor: two timerfd_settime calls (set to fire at once, then
        // re-armed after firing) and an epoll_wait, 1.5 system calls an attempt in a harness run.
        asio::post(strand_, [weak = std::weak_ptr<RealScheduler*>(alive_), this] {
            if (!weak.expired()) fire();
        });
        return;
    }
    timer_.expires_at(wall);
    timer_.async_wait(
        [weak = std::weak_ptr<RealScheduler*>(alive_), this](boost::system::error_code ec) {
            if (ec || weak.expired()) return;
            fire();
        });
}

void RealScheduler::fire() {
    {
        std::lock_guard lock(armed_mutex_);
        if (stopped_) return;  // a round posted before stop() runs nothing set after it
    }
    auto horizon = running() + std::chrono::duration_cast<Duration>(kWindow * time_scale());
    for (auto& task : take_due(horizon)) task();
    arm();
}

}  // namespace brownout
