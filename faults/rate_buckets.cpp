#include "faults/rate_buckets.h"

#include <algorithm>

namespace brownout::faults {

RateBuckets::RateBuckets(long requests_per_minute, long tokens_per_minute) {
    if (requests_per_minute > 0)
        requests_.emplace(static_cast<double>(requests_per_minute), std::chrono::minutes(1));
    if (tokens_per_minute > 0)
        tokens_.emplace(static_cast<double>(tokens_per_minute), std::chrono::minutes(1));
}

std::optional<Rejection> RateBuckets::admit(double tokens, Duration now) {
    if (tokens_) tokens = std::min(tokens, tokens_->capacity());
    bool requests_ok = !requests_ || requests_->available(now) >= 1;
    bool tokens_ok = !tokens_ || tokens_->available(now) >= tokens;
    if (requests_ok && tokens_ok) {
        if (requests_) requests_->try_take(1, now);
        if (tokens_) tokens_->try_take(tokens, now);
        return std::nullopt;
    }
    TokenBucket& empty = requests_ok ? *tokens_ : *requests_;
    Rejection r;
    r.status = 429;
    r.rate_limit_on_tokens = requests_ok;
    r.rate_limit_value = static_cast<long>(empty.capacity());
    r.rate_limit_used = static_cast<long>(empty.capacity() - empty.available(now));
    r.retry_after = empty.time_until(requests_ok ? tokens : 1, now);
    return r;
}

LimitSnapshot RateBuckets::snapshot(Duration now) {
    LimitSnapshot snap;
    if (requests_) {
        snap.requests_limit = static_cast<long>(requests_->capacity());
        snap.requests_remaining = static_cast<long>(requests_->available(now));
        snap.requests_reset = requests_->time_to_full(now);
    }
    if (tokens_) {
        snap.tokens_limit = static_cast<long>(tokens_->capacity());
        snap.tokens_remaining = static_cast<long>(tokens_->available(now));
        snap.tokens_reset = tokens_->time_to_full(now);
    }
    return snap;
}

}  // namespace brownout::faults
