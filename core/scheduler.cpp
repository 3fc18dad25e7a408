#include "core/scheduler.h"

#include "core/error.h"

namespace brownout {

Scheduler::TimerId Scheduler::at(Duration when, Task task) {
    auto id = add(when - offset(), when, std::move(task));
    earliest_changed();
    return id;
}

Scheduler::Place Scheduler::take_place() {
    LockWhen lock(threaded_, mutex_);
    return next_sequence_++;
}

Scheduler::TimerId Scheduler::after(Duration span, Task task, Place place) {
    auto id = add(running() + std::max(span, Duration::zero()), std::nullopt, std::move(task),
                  span <= Duration::zero(), place);
    earliest_changed();
    return id;
}

Scheduler::TimerId Scheduler::add(Duration running_due, std::optional<Duration> scenario_due,
                                  Task&& task, bool now, Place place) {
    LockWhen lock(threaded_, mutex_);
    std::size_t slot = 0;
    if (!free_slots_.empty()) {
        slot = free_slots_.back();
        free_slots_.pop_back();
    } else {
        slot = timers_.size();
        if (slot > kSlotMask) throw Error("scheduler: more than 16 million timers pending at once");
        timers_.emplace_back();
    }
    TimerId id = ((place != 0 ? place : next_sequence_++) << kSlotBits) | slot;
    Timer& timer = timers_[slot];  // filled in place: a task is moved once, into its slot
    timer.id = id;
    timer.running_due = running_due;
    timer.scenario_due = scenario_due;
    timer.task = std::move(task);
    ++live_count_;
    // After the last of a queue, by due time and then id (a timer in a place taken earlier has
    // an earlier id).
    const Entry entry{running_due, id};
    auto in_order = [&entry](const std::deque<Entry>& queue) {
        return queue.empty() || entry > queue.back();
    };
    if (now && in_order(now_))
        now_.push_back(entry);
    else if (!now && in_order(late_))
        late_.push_back(entry);
    else
        heap_.push(entry);
    return id;
}

Scheduler::Timer* Scheduler::live(TimerId id) const {
    std::size_t slot = id & kSlotMask;
    if (id == 0 || slot >= timers_.size() || timers_[slot].id != id) return nullptr;
    return &timers_[slot];
}

void Scheduler::free_slot(Timer& timer) {
    free_slots_.push_back(timer.id & kSlotMask);
    timer.id = 0;
    timer.task = nullptr;
    --live_count_;
}

bool Scheduler::cancel(TimerId id) {
    LockWhen lock(threaded_, mutex_);
    Timer* timer = live(id);
    if (timer == nullptr) return false;  // most often: it has run (no task to destroy)
    Task task = std::move(timer->task);
    free_slot(*timer);
    lock.unlock();  // the task is destroyed after: what it holds may set a timer
    return true;
}

std::size_t Scheduler::pending() const {
    LockWhen lock(threaded_, mutex_);
    return live_count_;
}

void Scheduler::drop_all() {
    // take_due destroys nothing under the lock: a task destroyed here may set a timer.
    while (!take_due(Duration::max()).empty()) {
    }
}

void Scheduler::drop_stale() const {
    auto stale = [this](const Entry& e) {
        const Timer* timer = live(e.id);
        return timer == nullptr || timer->running_due != e.running_due;
    };
    while (!heap_.empty() && stale(heap_.top())) heap_.pop();
    for (auto* queue : {&now_, &late_}) {
        while (!queue->empty() && stale(queue->front())) queue->pop_front();
    }
}

const Scheduler::Entry& Scheduler::top() const {
    const Entry* earliest = heap_.empty() ? nullptr : &heap_.top();
    for (const auto* queue : {&now_, &late_}) {
        if (!queue->empty() && (earliest == nullptr || *earliest > queue->front()))
            earliest = &queue->front();
    }
    return *earliest;
}

void Scheduler::take_top(Task& into) {
    Timer* timer = live(top().id);
    if (!now_.empty() && now_.front().id == timer->id)
        now_.pop_front();
    else if (!late_.empty() && late_.front().id == timer->id)
        late_.pop_front();
    else
        heap_.pop();
    into = std::move(timer->task);
    free_slot(*timer);
}

bool Scheduler::pop_due(Duration running_now, Task& into) {
    drop_stale();
    if (no_entries() || top().running_due > running_now) return false;
    take_top(into);
    return true;
}

std::vector<Scheduler::Task> Scheduler::take_due(Duration running_now, std::size_t most) {
    std::vector<Task> due;
    LockWhen lock(threaded_, mutex_);
    Task task;
    while (due.size() < most && pop_due(running_now, task)) due.push_back(std::move(task));
    return due;
}

bool Scheduler::take_next(std::optional<Duration> limit, Duration& due, Task& task) {
    LockWhen lock(threaded_, mutex_);
    drop_stale();
    if (no_entries()) return false;
    due = top().running_due;
    if (limit && due > *limit) return false;
    take_top(task);
    return true;
}

std::optional<Duration> Scheduler::next_due() const {
    LockWhen lock(threaded_, mutex_);
    drop_stale();
    if (no_entries()) return std::nullopt;
    return top().running_due;
}

void Scheduler::rebase() {
    Duration shift = offset();
    {
        LockWhen lock(threaded_, mutex_);
        decltype(heap_) fresh;  // every timer, the queued ones too
        now_.clear();
        late_.clear();
        for (auto& timer : timers_) {
            if (timer.id == 0) continue;
            if (timer.scenario_due) timer.running_due = *timer.scenario_due - shift;
            fresh.push({timer.running_due, timer.id});
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
    Duration due{};
    Task task;
    while (!stopped_ && take_next(limit, due, task)) {
        running_ = std::max(running_, due);
        task();          // one at a time: a task may stop()
        task = nullptr;  // what it holds goes before the next is taken (it may set a timer)
    }
}

void VirtualScheduler::jump_to(Duration at) {
    offset_ = at - running_;
    rebase();
}

}  // namespace brownout
