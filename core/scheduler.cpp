#include "core/scheduler.h"

namespace brownout {

Scheduler::TimerId Scheduler::at(Duration when, Task task) {
    auto id = add(when - offset(), when, std::move(task));
    earliest_changed();
    return id;
}

Scheduler::TimerId Scheduler::after(Duration span, Task task) {
    auto id = add(running() + std::max(span, Duration::zero()), std::nullopt, std::move(task));
    earliest_changed();
    return id;
}

Scheduler::TimerId Scheduler::add(Duration running_due, std::optional<Duration> scenario_due,
                                  Task task) {
    std::lock_guard lock(mutex_);
    TimerId id = next_id_++;
    timers_.emplace(id, Timer{running_due, scenario_due, std::move(task)});
    heap_.push({running_due, id});
    return id;
}

bool Scheduler::cancel(TimerId id) {
    std::lock_guard lock(mutex_);
    return timers_.erase(id) > 0;
}

std::size_t Scheduler::pending() const {
    std::lock_guard lock(mutex_);
    return timers_.size();
}

void Scheduler::drop_all() {
    // take_due destroys nothing under the lock: a task destroyed here may set a timer.
    while (!take_due(Duration::max()).empty()) {
    }
}

void Scheduler::drop_stale() const {
    while (!heap_.empty()) {
        auto it = timers_.find(heap_.top().id);
        if (it != timers_.end() && it->second.running_due == heap_.top().running_due) return;
        heap_.pop();
    }
}

std::optional<Scheduler::Task> Scheduler::pop_due(Duration running_now) {
    drop_stale();
    if (heap_.empty() || heap_.top().running_due > running_now) return std::nullopt;
    auto it = timers_.find(heap_.top().id);
    heap_.pop();
    std::optional<Task> task(std::move(it->second.task));
    timers_.erase(it);
    return task;
}

std::vector<Scheduler::Task> Scheduler::take_due(Duration running_now, std::size_t most) {
    std::vector<Task> due;
    std::lock_guard lock(mutex_);
    while (due.size() < most) {
        auto task = pop_due(running_now);
        if (!task) break;
        due.push_back(std::move(*task));
    }
    return due;
}

std::optional<Scheduler::Task> Scheduler::take_next(Duration running_now) {
    std::lock_guard lock(mutex_);
    return pop_due(running_now);
}

std::optional<Duration> Scheduler::next_due() const {
    std::lock_guard lock(mutex_);
    drop_stale();
    if (heap_.empty()) return std::nullopt;
    return heap_.top().running_due;
}

void Scheduler::rebase() {
    Duration shift = offset();
    {
        std::lock_guard lock(mutex_);
        decltype(heap_) fresh;
        for (auto& [id, timer] : timers_) {
            if (timer.scenario_due) timer.running_due = *timer.scenario_due - shift;
            fresh.push({timer.running_due, id});
        }
        heap_ = std::move(fresh);
    }
    earliest_changed();
}

void VirtualScheduler::advance(Duration span) {
    Duration target = running_ + span;
    run(target);
    if (!stopped_) running_ = std::max(running_, target);
}

void VirtualScheduler::run(std::optional<Duration> limit) {
    stopped_ = false;
    while (!stopped_) {
        auto due = next_due();
        if (!due || (limit && *due > *limit)) break;
        running_ = std::max(running_, *due);
        if (auto task = take_next(running_)) (*task)();  // one at a time: a task may stop()
    }
}

void VirtualScheduler::jump_to(Duration at) {
    offset_ = at - running_;
    rebase();
}

}  // namespace brownout
