#pragma once
// What an attempt holds while it is carried out — a place under the server's stream cap, a count
// in a gauge, a capacity slot (SlotLease, provider.h) — taken when it is granted and given back
// when its holder lets go or is destroyed, never by hand. A lease moves with its holder and is
// given back once.

#include <cstddef>
#include <utility>

namespace brownout::mock {

// One in a counter (an atomic gauge or count) for as long as it is held.
template <class Counter>
class CountLease {
public:
    CountLease() = default;
    explicit CountLease(Counter& counter) : counter_(&counter) { counter_->fetch_add(1); }
    // A place under `cap` (0: no cap), or an empty lease when the counter is already at it.
    static CountLease under(Counter& counter, std::size_t cap) {
        CountLease lease;
        if (static_cast<std::size_t>(counter.fetch_add(1)) >= cap && cap != 0) {
            counter.fetch_sub(1);
            return lease;
        }
        lease.counter_ = &counter;
        return lease;
    }
    CountLease(CountLease&& other) noexcept : counter_(std::exchange(other.counter_, nullptr)) {}
    CountLease& operator=(CountLease&& other) noexcept {
        if (this != &other) {
            reset();
            counter_ = std::exchange(other.counter_, nullptr);
        }
        return *this;
    }
    CountLease(const CountLease&) = delete;
    CountLease& operator=(const CountLease&) = delete;
    ~CountLease() { reset(); }

    void reset() {
        if (counter_ != nullptr) std::exchange(counter_, nullptr)->fetch_sub(1);
    }
    bool held() const { return counter_ != nullptr; }

private:
    Counter* counter_ = nullptr;
};

}  // namespace brownout::mock
