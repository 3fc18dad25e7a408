// The one scheduler every timer goes through: a virtual one driven step by step, and the real one
// on a scaled, pausable, jumpable clock.

#include "core/scheduler.h"

#include <array>
#include <catch2/catch.hpp>
#include <functional>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "core/random.h"
#include "core/real_scheduler.h"
#include "core/token_bucket.h"

using namespace brownout;
using namespace std::chrono_literals;

TEST_CASE("a virtual scheduler runs timers in time order, ties in the order they were set",
          "[core][scheduler]") {
    VirtualScheduler s;
    std::vector<std::string> ran;
    s.after(2s, [&] { ran.push_back("b@2s"); });
    s.at(1s, [&] { ran.push_back("a@1s"); });
    s.after(2s, [&] { ran.push_back("c@2s"); });
    s.at(5s, [&] { ran.push_back("d@5s"); });
    s.advance(2s);
    CHECK(ran == std::vector<std::string>{"a@1s", "b@2s", "c@2s"});
    CHECK(s.now() == 2s);
    s.run();
    CHECK(ran.back() == "d@5s");
    CHECK(s.now() == 5s);
    CHECK(s.pending() == 0);
}

TEST_CASE("timers set with no delay keep their place among the others due then",
          "[core][scheduler]") {
    // after(0) timers wait in a queue of their own beside the heap (Scheduler::now_): the order
    // is still one heap's, by due time and then the order set, through cancels and jumps.
    VirtualScheduler s;
    std::vector<std::string> ran;
    auto note = [&](std::string what) { return [&ran, what] { ran.push_back(what); }; };
    s.at(1s, note("a@1s"));
    s.after(0s, note("now-1"));
    auto cancelled = s.after(0s, note("cancelled"));
    s.after(1s, [&] {
        ran.push_back("b@1s");
        s.after(0s, note("hop from b"));  // due at 1 s, after c@1s set before it
        s.after(-1s, note("hop from b, negative"));
    });
    s.at(1s, note("c@1s"));
    s.after(0s, note("now-2"));
    CHECK(s.cancel(cancelled));
    s.advance(0s);
    CHECK(ran == std::vector<std::string>{"now-1", "now-2"});
    s.run();
    CHECK(ran == std::vector<std::string>{"now-1", "now-2", "a@1s", "b@1s", "c@1s", "hop from b",
                                          "hop from b, negative"});
    // A jump rebuilds the order with every timer: the queued ones keep their turn.
    ran.clear();
    s.after(0s, note("queued before the jump"));
    s.at(s.now() + 5s, note("at +5s"));
    s.jump_to(s.now() + 10s);  // past the `at` timer: now due 5 s ago, before the queued one
    s.after(0s, note("queued after the jump"));
    s.run();
    CHECK(ran ==
          std::vector<std::string>{"at +5s", "queued before the jump", "queued after the jump"});
    CHECK(s.pending() == 0);
}

TEST_CASE("whichever queue a timer waits in, timers run by due time, then in the order set",
          "[core][scheduler]") {
    // Timers wait in a heap or in one of two queues kept in order (Scheduler::now_, late_):
    // deadlines set `at` a scenario time in order of it, some cancelled, among delays drawn at
    // random, hops of no delay, timers set in a place taken before others were set, timers that
    // tasks set as they run, and jumps of the timeline. Whatever queue each went to, what runs
    // between two jumps is in order of (running due, order set or place taken), and every timer
    // not cancelled runs once.
    for (std::uint64_t seed : {1, 2, 3}) {
        VirtualScheduler s;
        RandomStream rng(seed);
        struct Ran {
            Duration due;
            int order;
            int jumps;  // how many jumps before it ran
        };
        std::vector<Ran> ran;
        std::set<int> waiting;
        int next_order = 0;
        int jumps = 0;
        auto record = [&](Duration due, int order) {
            ran.push_back({due, order, jumps});
            waiting.erase(order);
        };
        auto cancel_maybe = [&](Scheduler::TimerId id, int order) {
            // Cancelled later (a deadline a user met), or left to run.
            if (!rng.chance(0.4)) return;
            s.after(from_seconds(rng.uniform(0, 3)), [&s, &waiting, id, order] {
                if (s.cancel(id)) waiting.erase(order);
            });
        };
        std::function<void(Duration)> set = [&](Duration delay) {
            int order = next_order++;
            Duration due = s.running() + std::max(delay, Duration::zero());
            waiting.insert(order);
            auto id = s.after(delay, [&, due, order] {
                CHECK(s.running() == due);
                record(due, order);
                if (rng.chance(0.3)) set(from_seconds(rng.uniform(0, 2)));
                if (rng.chance(0.2)) set(Duration::zero());
            });
            cancel_maybe(id, order);
        };
        auto set_at = [&](Duration when) {  // due at a scenario time: it moves with a jump
            int order = next_order++;
            waiting.insert(order);
            auto id =
                s.at(when, [&, when, order] { record(when - (s.now() - s.running()), order); });
            cancel_maybe(id, order);
        };
        for (int i = 0; i < 500; ++i) {
            set_at(s.now() - s.running() + from_seconds(2.0 + 0.01 * i));  // in order of due time
            if (rng.chance(0.5)) set(from_seconds(rng.uniform(0, 4)));
            if (rng.chance(0.3)) set(Duration::zero());
            if (rng.chance(0.2)) {  // a place taken, a timer set, then one in the place
                // Past the deadlines: the timer set goes in late_, and the one in the place (due
                // with it, set before it) may not follow it there.
                auto place = s.take_place();
                int order = next_order++;
                set(from_seconds(3));
                Duration due = s.running() + from_seconds(3);
                waiting.insert(order);
                s.after(
                    from_seconds(3), [&, due, order] { record(due, order); }, place);
            }
            if (i % 100 == 50) {  // a jump, forward or back
                s.jump_to(s.now() + from_seconds(rng.uniform(-1, 1)));
                ++jumps;
            }
            s.advance(from_seconds(rng.uniform(0, 0.02)));
        }
        s.run();
        CHECK(waiting.empty());
        CHECK(s.pending() == 0);
        REQUIRE(ran.size() > 500);
        CHECK(jumps > 0);
        for (std::size_t i = 1; i < ran.size(); ++i) {
            if (ran[i].jumps != ran[i - 1].jumps) continue;
            INFO("seed " << seed << ", run " << i);
            CHECK(std::tie(ran[i - 1].due, ran[i - 1].order) < std::tie(ran[i].due, ran[i].order));
        }
    }
}

TEST_CASE("a timer set in a place taken earlier runs as if it had been set then",
          "[core][scheduler]") {
    VirtualScheduler s;
    std::vector<std::string> ran;
    auto note = [&](std::string what) { return [&ran, what] { ran.push_back(what); }; };
    auto place = s.take_place();
    s.take_place();  // a place taken and never used sets nothing
    s.after(1s, note("second"));
    s.after(0s, note("hop"));
    s.after(1s, note("first, set third"), place);
    s.after(1s, note("third"));
    CHECK(s.pending() == 4);
    s.run();
    CHECK(ran == std::vector<std::string>{"hop", "first, set third", "second", "third"});
}

TEST_CASE("a timer set by a task runs in the same run, and a cancelled one never runs",
          "[core][scheduler]") {
    VirtualScheduler s;
    int chained = 0;
    std::function<void()> again = [&] {
        if (++chained < 3) s.after(10ms, again);
    };
    s.after(10ms, again);
    bool cancelled_ran = false;
    auto id = s.after(15ms, [&] { cancelled_ran = true; });
    CHECK(s.cancel(id));
    CHECK_FALSE(s.cancel(id));
    s.run();
    CHECK(chained == 3);
    CHECK(s.now() == 30ms);
    CHECK_FALSE(cancelled_ran);
}

TEST_CASE(
    "a jump fires the `at` timers it passes and makes them wait when it goes back; "
    "`after` timers keep their running time",
    "[core][scheduler]") {
    VirtualScheduler s;
    std::vector<std::string> ran;
    s.at(1h, [&] { ran.push_back("phase boundary at 1h"); });
    s.after(10s, [&] { ran.push_back("token after 10s"); });

    SECTION("forward") {
        s.jump_to(2h);
        s.advance(0s);
        CHECK(ran == std::vector<std::string>{"phase boundary at 1h"});
        s.advance(10s);
        CHECK(ran.back() == "token after 10s");
        CHECK(s.now() == 2h + 10s);
        CHECK(s.running() == 10s);
    }
    SECTION("back") {
        s.advance(5s);
        s.jump_to(-1h);  // an hour before the start: the boundary is two hours away
        s.advance(5s);
        CHECK(ran == std::vector<std::string>{"token after 10s"});
        s.advance(2h - 5s - 1ms);  // from -59m55s to a millisecond before 1h
        CHECK(ran.size() == 1);
        s.advance(1ms);
        CHECK(ran.back() == "phase boundary at 1h");
    }
}

TEST_CASE("drop_all drops every timer without running it, and one set by a task it destroys",
          "[core][scheduler]") {
    VirtualScheduler s;
    int ran = 0;
    bool gave_back = false;
    // What a task holds gives something back when destroyed, and that sets a timer (as a slot
    // lease does: the provider admits the next queued call).
    struct GivesBack {
        GivesBack(VirtualScheduler& s, int& ran, bool& gave_back)
            : s(&s), ran(&ran), gave_back(&gave_back) {}
        GivesBack(const GivesBack&) = delete;
        GivesBack& operator=(const GivesBack&) = delete;
        ~GivesBack() {
            *gave_back = true;
            s->after(0s, [r = ran] { ++*r; });
        }
        VirtualScheduler* s;
        int* ran;
        bool* gave_back;
    };
    auto held = std::make_shared<GivesBack>(s, ran, gave_back);
    s.after(5s, [held, &ran] { ++ran; });
    s.at(1h, [&ran] { ++ran; });
    held.reset();
    REQUIRE(s.pending() == 2);
    s.drop_all();
    CHECK(gave_back);
    CHECK(s.pending() == 0);
    s.run();
    CHECK(ran == 0);
}

TEST_CASE("a token bucket keeps refilling after the clock jumps back", "[core][scheduler]") {
    TokenBucket bucket(60, 1min);  // one token a second
    CHECK(bucket.try_take(60, 2h));
    CHECK_FALSE(bucket.try_take(1, 2h));
    // Back to 1h: an hour behind its last look. It must not wait for 2h to come round again.
    CHECK_FALSE(bucket.try_take(1, 1h));
    CHECK(bucket.try_take(5, 1h + 5s));
    CHECK(bucket.time_until(1, 1h + 5s) == 1s);
}

namespace {

// A real scheduler on its own io_context thread.
struct RealRig {
    std::shared_ptr<ScaledClock> clock;
    boost::asio::io_context ioc;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{
        ioc.get_executor()};
    RealScheduler scheduler;
    std::thread thread;
    explicit RealRig(double scale)
        : clock(std::make_shared<ScaledClock>(scale)), scheduler(ioc, clock) {
        thread = std::thread([this] { ioc.run(); });
    }
    ~RealRig() {
        scheduler.stop();
        work.reset();
        ioc.stop();
        thread.join();
    }
};

}  // namespace

TEST_CASE("a real scheduler fires on scaled wall time", "[core][scheduler]") {
    std::promise<Duration> fired;  // before the rig: a late task must find it alive
    RealRig rig(100.0);
    auto start = std::chrono::steady_clock::now();
    rig.scheduler.after(5s, [&] { fired.set_value(rig.scheduler.running()); });  // 50 ms of wall
    auto future = fired.get_future();
    REQUIRE(future.wait_for(5s) == std::future_status::ready);
    CHECK(future.get() >= 5s - 20ms);  // within the batching window (200 µs of wall)
    CHECK(std::chrono::steady_clock::now() - start >= 49ms);
}

TEST_CASE(
    "timers already due, from the strand's queue: a real scheduler runs a chain of hops set with "
    "no delay in order while an hour-long timer is armed, and a timer set from another thread "
    "afterwards still wakes it",
    "[core][scheduler]") {
    constexpr int kHops = 10000;
    // Declared before the rig, so a late task finds them alive whatever the test's outcome.
    std::promise<std::vector<int>> done;
    std::promise<void> woken;
    std::vector<int> order;
    std::function<void(int)> hop;
    RealRig rig(1.0);
    rig.scheduler.after(1h, [] {});
    // Each hop sets the next with no delay, and every hundredth one a second hop beside it. None
    // may wait for the hour-long timer that is armed: the chain ends within seconds or not at all.
    hop = [&](int i) {
        order.push_back(i);
        if (i == kHops) return done.set_value(order);
        if (i % 100 == 0)
            rig.scheduler.after(Duration::zero(), [&order, i] { order.push_back(-i); });
        rig.scheduler.after(Duration::zero(), [&hop, i] { hop(i + 1); });
    };
    rig.scheduler.after(Duration::zero(), [&hop] { hop(1); });
    auto future = done.get_future();
    REQUIRE(future.wait_for(10s) == std::future_status::ready);
    auto ran = future.get();
    // In the order set: the side hop of i was set before hop i + 1.
    std::vector<int> expected;
    for (int i = 1; i <= kHops; ++i) {
        expected.push_back(i);
        if (i % 100 == 0 && i < kHops) expected.push_back(-i);
    }
    CHECK(ran == expected);
    // After the posted rounds the Asio timer still serves a timer ahead of now.
    rig.scheduler.after(50ms, [&woken] { woken.set_value(); });
    CHECK(woken.get_future().wait_for(10s) == std::future_status::ready);
}

TEST_CASE(
    "a real scheduler holds its timers while the clock is paused, and a jump past an "
    "`at` timer fires it at once",
    "[core][scheduler]") {
    std::promise<void> token, boundary;
    RealRig rig(1.0);
    rig.clock->pause();
    rig.scheduler.after(10ms, [&] { token.set_value(); });
    rig.scheduler.at(1h, [&] { boundary.set_value(); });
    CHECK(token.get_future().wait_for(100ms) == std::future_status::timeout);
    rig.clock->resume();
    rig.clock->jump_to(2h);
    CHECK(boundary.get_future().wait_for(5s) == std::future_status::ready);
}

namespace {

// Counts its live copies, so a test sees every one destroyed exactly once.
struct Counted {
    int* live;
    int* calls;
    std::array<char, 8> pad{};
    explicit Counted(int* l, int* c) : live(l), calls(c) { ++*live; }
    Counted(const Counted& o) : live(o.live), calls(o.calls), pad(o.pad) { ++*live; }
    Counted(Counted&& o) noexcept : live(o.live), calls(o.calls), pad(o.pad) { ++*live; }
    Counted& operator=(const Counted&) = delete;
    Counted& operator=(Counted&&) = delete;
    ~Counted() { --*live; }
    void operator()() const { ++*calls; }
};

// A task whose destruction sets another timer, as a task holding a capacity slot gives it back.
struct SetsTimer {
    Scheduler* s;
    bool armed = true;
    explicit SetsTimer(Scheduler* sch) : s(sch) {}
    SetsTimer(SetsTimer&& o) noexcept : s(o.s), armed(std::exchange(o.armed, false)) {}
    SetsTimer(const SetsTimer&) = delete;
    SetsTimer& operator=(const SetsTimer&) = delete;
    SetsTimer& operator=(SetsTimer&&) = delete;
    ~SetsTimer() {
        if (armed) s->after(1s, [] {});
    }
    void operator()() const {}
};

// The same, too big to be kept in place.
struct Large : Counted {
    using Counted::Counted;
    std::array<char, InlineTask::kInline> more{};
};

}  // namespace

TEST_CASE("a task runs what it was given, in place or on the heap, and destroys it once",
          "[core][scheduler]") {
    int live = 0, calls = 0;
    {
        InlineTask small(Counted(&live, &calls));
        InlineTask large(Large(&live, &calls));
        CHECK(live == 2);  // the temporaries are gone, one copy each is kept
        small();
        large();
        CHECK(calls == 2);
        InlineTask moved(std::move(small));
        InlineTask moved_large(std::move(large));
        CHECK(live == 2);
        CHECK_FALSE(small);  // NOLINT(bugprone-use-after-move): a moved-from task is empty
        CHECK_FALSE(large);  // NOLINT(bugprone-use-after-move)
        moved();
        moved_large();
        CHECK(calls == 4);
        moved = nullptr;
        CHECK(live == 1);
        moved = std::move(moved_large);
        CHECK(live == 1);
        moved();
        CHECK(calls == 5);
    }
    CHECK(live == 0);

    // A callable that can only be moved, and one whose state changes as it runs.
    auto owned = std::make_unique<int>(41);
    InlineTask only_moved([p = std::move(owned), &calls] { calls += *p; });
    only_moved();
    CHECK(calls == 46);
    int n = 0;
    InlineTask counting([k = 0, &n]() mutable { n = ++k; });
    counting();
    counting();
    CHECK(n == 2);
}

TEST_CASE("a function with arguments hands them on, a move-only one unmoved until taken",
          "[core][scheduler]") {
    // What a transport hands an attempt's result to (Transport::Done): taken by rvalue reference.
    std::string kept;
    InlineFunction<void(std::string &&)> keep([&kept](std::string&& s) { kept = std::move(s); });
    std::string result(40, 'x');  // past the short-string room: a move leaves it empty
    keep(std::move(result));
    CHECK(kept == std::string(40, 'x'));
    CHECK(result.empty());  // NOLINT(bugprone-use-after-move): it was taken, once
    // One that only looks: the argument is handed on as a reference, not moved from.
    std::string looked_at(40, 'y');
    InlineFunction<void(std::string &&)> look([&kept](const std::string& s) { kept = s; });
    look(std::move(looked_at));
    CHECK(looked_at == std::string(40, 'y'));  // NOLINT(bugprone-use-after-move): not taken

    // A value returned, from in place and from the heap.
    InlineFunction<int(int, int)> add([](int a, int b) { return a + b; });
    CHECK(add(2, 3) == 5);
    std::array<char, 64> big{};
    big[0] = 7;
    InlineFunction<int(int)> from_heap([big](int a) { return a * big[0]; });
    CHECK(from_heap(6) == 42);
    InlineFunction<int(int)> moved(std::move(from_heap));
    CHECK(moved(2) == 14);
    CHECK_FALSE(from_heap);  // NOLINT(bugprone-use-after-move): a moved-from function is empty

    // A callable whose result a void function drops, as std::function drops it.
    int set = 0;
    InlineTask drops([&set] { return set = 3; });
    drops();
    CHECK(set == 3);
    // An empty std::function or a null pointer makes an empty one, as std::function does.
    CHECK_FALSE(InlineTask(std::function<void()>()));
    CHECK_FALSE(InlineTask(static_cast<void (*)()>(nullptr)));
    CHECK(InlineTask(std::function<void()>([] {})));
}

TEST_CASE("a cancelled timer's task may set another timer as it is destroyed",
          "[core][scheduler]") {
    // What a task holds may set another timer when it is destroyed (a slot given back). A
    // virtual scheduler takes no lock; a real one must not hold its lock then (below).
    VirtualScheduler s;
    auto id = s.after(5s, SetsTimer(&s));
    CHECK(s.pending() == 1);
    CHECK(s.cancel(id));
    CHECK(s.pending() == 1);  // the one its destruction set
    s.run();
    CHECK(s.pending() == 0);
}

TEST_CASE("a real scheduler destroys a cancelled timer's task outside its lock",
          "[core][scheduler]") {
    RealRig rig(1.0);
    auto id = rig.scheduler.after(1h, SetsTimer(&rig.scheduler));
    // Destroyed under the lock, the task's own after() would wait for that lock for ever (the
    // test's time limit ends it).
    CHECK(rig.scheduler.cancel(id));
    CHECK(rig.scheduler.pending() == 1);
    rig.scheduler.drop_all();
    CHECK(rig.scheduler.pending() == 0);
}
