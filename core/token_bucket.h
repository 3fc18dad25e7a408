#pragma once
// A token bucket over scenario time: `capacity` tokens, refilled linearly so that an empty
// bucket is full again after `refill_period`. Pure: the caller passes `now`.

#include <algorithm>

#include "core/duration.h"

namespace brownout {

class TokenBucket {
public:
    TokenBucket(double capacity, Duration refill_period)
        : capacity_(capacity), period_(refill_period), level_(capacity) {}

    double capacity() const { return capacity_; }

    double available(Duration now) {
        refill(now);
        return level_;
    }

    bool try_take(double n, Duration now) {
        refill(now);
        if (level_ < n) return false;
        level_ -= n;
        return true;
    }

    // Scenario time until the bucket is full again (what x-ratelimit-reset-* reports).
    Duration time_to_full(Duration now) {
        refill(now);
        return from_seconds((capacity_ - level_) / rate_per_second());
    }

    // Scenario time until `n` tokens are available.
    Duration time_until(double n, Duration now) {
        refill(now);
        if (level_ >= n) return Duration::zero();
        return from_seconds((std::min(n, capacity_) - level_) / rate_per_second());
    }

private:
    double rate_per_second() const {
        double period = to_seconds(period_);
        return period > 0 ? capacity_ / period : 1e300;
    }
    void refill(Duration now) {
        // A jump back in time (the control API) refills nothing and restarts the count from
        // there; waiting for time to catch up with the old `last_` would freeze the bucket.
        if (now > last_)
            level_ = std::min(capacity_, level_ + to_seconds(now - last_) * rate_per_second());
        last_ = now;
    }

    double capacity_;
    Duration period_;
    double level_;
    Duration last_{Duration::zero()};
};

}  // namespace brownout
