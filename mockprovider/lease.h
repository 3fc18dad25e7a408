#pragma once
// What an attempt holds while it is carried out — a place under the server's stream cap, a count
// in a gauge, a capacity slot (SlotLease, provider.h) — taken when it is granted and given back
// when its holder lets go or is destroyed, never by hand. A lease is a std::unique_ptr whose
// deleter gives the thing back: it moves with its holder and is given back once.

#include <cstddef>
#include <memory>

namespace brownout::mock {

// One in a counter (an atomic gauge or count) for as long as it is held.
template <class Counter>
class CountLease {
public:
    CountLease() = default;
    explicit CountLease(Counter& counter) : counter_(&counter) { counter.fetch_add(1); }
    // A place under `cap` (0: no cap), or an empty lease when the counter is already at it.
    static CountLease under(Counter& counter, std::size_t cap) {
        CountLease lease;
        if (static_cast<std::size_t>(counter.fetch_add(1)) >= cap && cap != 0) {
            counter.fetch_sub(1);
            return lease;
        }
        lease.counter_.reset(&counter);
        return lease;
    }

    void reset() { counter_.reset(); }
    bool held() const { return counter_ != nullptr; }

private:
    struct GiveBack {
        void operator()(Counter* counter) const { counter->fetch_sub(1); }
    };
    std::unique_ptr<Counter, GiveBack> counter_;
};

}  // namespace brownout::mock
