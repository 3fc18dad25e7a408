#pragma once
// One injected scheduler: every "now" and every timer in scenario time goes through it, so the
// same provider, capacity, runner and policy code runs on real sockets in scaled wall time
// (RealScheduler, core/real_scheduler.h) or on a virtual clock as fast as the CPU allows
// (VirtualScheduler, below).
//
//   running time ──(+ offset, moved by a jump)──▶ scenario time (now)
//
// Two axes. Scenario time is where the timeline is: phases, rate buckets and the status page
// read it, and a jump (the control API) moves it. Running time is how much scenario time has
// actually passed: it stops while paused and ignores jumps, so durations measured on it (an
// attempt's, a stream's pacing) stay true. A timer set `at` a scenario time fires when the
// timeline reaches it — a jump past it fires it at once, a jump back makes it wait again; a
// timer set `after` a span waits that much running time, whatever jumps happen meanwhile.

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <queue>
#include <vector>

#include "core/clock.h"
#include "core/inline_task.h"
#include "core/lock_when.h"

namespace brownout {

class Scheduler : public Clock {
public:
    using Task = InlineTask;
    using TimerId = std::uint64_t;

    // How much scenario time has passed while running (no jumps, no pauses).
    virtual Duration running() const = 0;

    // Runs `task` when scenario time reaches `when` (at once if it already has).
    TimerId at(Duration when, Task task);
    // A place in the order of timers set, taken for a timer that may not be needed: set with it,
    // the timer runs among those due at its time as if it had been set when the place was taken.
    // (A client's timeout, known to be needed only after the provider has set a timer of its own.)
    using Place = std::uint64_t;
    Place take_place();
    // Runs `task` once `span` of running time has passed. `place`: taken (take_place()) at this
    // same running time; 0: the next.
    TimerId after(Duration span, Task task, Place place = 0);
    // False when the timer has already run or was cancelled.
    bool cancel(TimerId id);
    std::size_t pending() const;
    // Whether other threads set and cancel its timers (a real scheduler, reached from a fleet's
    // threads). What a virtual scheduler runs is driven by the one thread that runs it.
    bool threaded() const { return threaded_; }
    // Drops every pending timer without running it. A task destroyed may set another timer
    // (what it held gives something back): dropped too, until none is left.
    void drop_all();
    // Ends the run: a real scheduler drops its pending timers, a virtual one returns from run().
    virtual void stop() = 0;

protected:
    // `threaded`: other threads set and cancel timers (a real scheduler, reached from a fleet's
    // threads), so every call takes the lock; a virtual scheduler is run by one thread and takes
    // none.
    explicit Scheduler(bool threaded) : threaded_(threaded) {}

    // Scenario time minus running time: what jumps have added.
    virtual Duration offset() const = 0;
    // The earliest timer may now be earlier than the one armed (called without the lock held).
    virtual void earliest_changed() {}

    // Removes up to `most` timers due at or before `running_now` and returns them, earliest
    // first (ties in order of id: the order set, or the place taken).
    std::vector<Task> take_due(Duration running_now, std::size_t most = SIZE_MAX);
    // The earliest timer, moved into `task` (empty beforehand), with the running time it was
    // due at, if it is due at or before `limit` (any time without one); false otherwise. One
    // event at a time, under one lock, without a list for it and with one move of its task (the
    // simulator's loop).
    bool take_next(std::optional<Duration> limit, Duration& due, Task& task);
    std::optional<Duration> next_due() const;  // running time of the earliest timer
    // After a jump: timers set `at` a scenario time move on the running axis.
    void rebase();

private:
    // A timer's id is its sequence number (ids grow, so equal due times keep the order they were
    // set in, or their places were taken: take_place()) above its slot in `timers_` (kSlotBits
    // bits): cancel() and the heap find a timer by its slot, without a hash table or a node of its
    // own, and a slot's next timer has another id, so an id that has run or was cancelled is known
    // as such.
    static constexpr int kSlotBits = 24;
    static constexpr TimerId kSlotMask = (TimerId{1} << kSlotBits) - 1;
    struct Timer {
        TimerId id = 0;  // 0: the slot is free
        Duration running_due{};
        std::optional<Duration> scenario_due;  // set for `at` timers
        Task task;
    };
    struct Entry {
        Duration running_due;
        TimerId id;
        bool operator>(const Entry& o) const {
            return running_due != o.running_due ? running_due > o.running_due : id > o.id;
        }
    };
    // `now`: set with no delay (after(0)), so that it may go in the queue of those. `place`: the
    // timer's place in the order (take_place()); 0: the next.
    TimerId add(Duration running_due, std::optional<Duration> scenario_due, Task&& task,
                bool now = false, Place place = 0);
    // The live timer of that id; null when it has run or was cancelled.
    Timer* live(TimerId id) const;
    // Gives its slot back; its task is moved out first by whoever runs it.
    void free_slot(Timer& timer);
    // Pops the entries of the heap and of the queues whose timer was cancelled or moved.
    void drop_stale() const;
    // Under the lock, after drop_stale() and with a timer left: the earliest entry (the heap's
    // or a queue's).
    const Entry& top() const;
    bool no_entries() const { return heap_.empty() && now_.empty() && late_.empty(); }
    // That timer's task moved into `into` (empty beforehand), and its slot given back.
    void take_top(Task& into);
    // Under the lock: the earliest timer due at or before `running_now`, removed into `into`
    // (empty beforehand); false when none is due.
    bool pop_due(Duration running_now, Task& into);

    const bool threaded_;
    mutable std::mutex mutex_;
    TimerId next_sequence_ = 1;
    mutable std::vector<Timer> timers_;  // by slot
    std::vector<std::size_t> free_slots_;
    std::size_t live_count_ = 0;
    mutable std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap_;
    // Timers set with no delay (a third of the simulator's: the hops that keep a result from
    // reaching its caller inside the call that made it), in the order set. Each is due at the
    // running time it was set, so they come in order of (due, id), as the heap gives its own:
    // taking the earliest of the fronts is the order of one heap, without a climb to the top
    // and back down for each. A timer that would not come after the last one queued goes to the
    // heap instead, so the queue stays in order: one set while another thread's later one is
    // queued, or one in a place taken before the last was set.
    mutable std::deque<Entry> now_;
    // Timers with a delay, set due no earlier than the last one queued here: in order of (due,
    // id) as now_ is, and taken the same way. They are mostly each user's deadline (set at its
    // arrival, so in arrival order, and cancelled when it ends): the heap holds what comes out of
    // order, and an entry cancelled here leaves when it reaches the front, without a climb down
    // the heap. Whatever a timer goes into, the order taken is that of one heap.
    mutable std::deque<Entry> late_;
};

// Time moves only when told: tests drive it step by step, and the simulator runs it to the end
// as fast as the CPU allows. Single-threaded: tasks run inside advance() / run(), and only the
// thread that runs it may set or cancel a timer (it takes no lock).
class VirtualScheduler final : public Scheduler {
public:
    explicit VirtualScheduler(double time_scale = 1.0, Duration start = Duration::zero())
        : Scheduler(false), scale_(time_scale > 0 ? time_scale : 1.0), offset_(start) {}

    Duration now() const override { return running_ + offset_; }
    Duration running() const override { return running_; }
    double time_scale() const override { return scale_; }

    // Runs every timer due within the next `span` of running time, in order, and moves there.
    void advance(Duration span);
    // Runs timers until none is left, or until `limit` of running time, or until stop().
    void run(std::optional<Duration> limit = std::nullopt);
    void stop() override { stopped_ = true; }
    // Moves the timeline (running time does not move): the control API's jump.
    void jump_to(Duration at);

protected:
    Duration offset() const override { return offset_; }

private:
    double scale_;
    Duration running_{};
    Duration offset_;
    bool stopped_ = false;
};

}  // namespace brownout
