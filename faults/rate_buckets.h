#pragma once
// Per-minute request and token buckets with the 429 they imply — the one implementation behind
// a provider's own rate limits and the rate_limit fault.

#include <optional>

#include "core/token_bucket.h"
#include "faults/plan.h"

namespace brownout::faults {

class RateBuckets {
public:
    RateBuckets(long requests_per_minute, long tokens_per_minute);  // 0: no such bucket

    // Takes one request and `tokens` (capped at the token bucket's size) when both buckets have
    // room; otherwise returns the 429, with retry_after = when the empty bucket has room.
    std::optional<Rejection> admit(double tokens, Duration now);
    // What x-ratelimit-* / anthropic-ratelimit-* report now.
    LimitSnapshot snapshot(Duration now);

private:
    std::optional<TokenBucket> requests_;
    std::optional<TokenBucket> tokens_;
};

}  // namespace brownout::faults
