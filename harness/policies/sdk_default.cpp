#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "harness/policies/policy.h"

namespace brownout::harness {
namespace {

using Kind = AttemptResult::Kind;

// ── sdk-default: what the official OpenAI SDKs do (reference/wire-formats.md §2.1) ─────────
// Two retries; x-should-retry first, then 408/409/429/5xx and connection errors; Retry-After
// honoured when 0 < wait ≤ 60 s, else 0.5 s × 2^n capped at 8 s with (0.75, 1] jitter; never
// a retry once a stream has started.
class SdkDefault final : public Policy {
    struct Run final : PolicyRun {
        SdkDefault* p;
        int retries_left;
        int retries_done = 0;
        RandomStream rng;
        bool waiting = false;
        Run(SdkDefault* owner, std::uint64_t seed)
            : p(owner), retries_left(owner->max_retries_), rng(seed) {}

        static bool retryable(const AttemptResult& r) {
            if (r.kind == Kind::broken_stream || r.kind == Kind::answer) return false;
            if (r.should_retry) return *r.should_retry;
            if (r.kind != Kind::http_error) return true;  // connection errors and timeouts
            return r.status == 408 || r.status == 409 || r.status == 429 || r.status >= 500;
        }
        Step next(Duration, const AttemptResult* last) override {
            if (last == nullptr) return attempt(0, p->timeout_);
            if (waiting) {
                waiting = false;
                return attempt(0, p->timeout_);
            }
            if (retries_left <= 0 || !retryable(*last)) return give_up();
            --retries_left;
            Duration delay;
            if (p->honor_retry_after_ && last->retry_after &&
                *last->retry_after > Duration::zero() &&
                *last->retry_after <= std::chrono::seconds(60)) {
                delay = *last->retry_after;
            } else {
                double seconds =
                    std::min(0.5 * std::pow(2.0, retries_done), 8.0) * (1.0 - 0.25 * rng.uniform());
                delay = from_seconds(seconds);
            }
            ++retries_done;
            waiting = true;
            return wait(delay);
        }
    };
    int max_retries_;
    Duration timeout_;
    std::uint64_t seed_;
    bool honor_retry_after_;
    std::uint64_t n_ = 0;

public:
    SdkDefault(const PolicyParams& params, int max_retries, Duration timeout, std::uint64_t seed)
        : Policy(params.checks_finish_reason()),
          max_retries_(max_retries),
          timeout_(timeout),
          seed_(seed),
          honor_retry_after_(params.honor_retry_after) {}
    std::unique_ptr<PolicyRun> begin(const UserRequest& r, Duration) override {
        return std::make_unique<Run>(this, hash_combine(seed_, r.id + (++n_ << 32)));
    }
};

}  // namespace

const std::vector<PolicyKey>& sdk_default_keys() {
    static const std::vector<PolicyKey> keys = {max_retries_key(), attempt_timeout_key(),
                                                honor_retry_after_key()};
    return keys;
}

std::unique_ptr<Policy> make_sdk_default(const PolicyParams& params,
                                         const std::vector<ProviderTraits>&, std::uint64_t seed,
                                         Duration) {
    Duration timeout = params.attempt_timeout > Duration::zero() ? params.attempt_timeout
                                                                 : std::chrono::minutes(10);
    return std::make_unique<SdkDefault>(params, params.max_retries < 0 ? 2 : params.max_retries,
                                        timeout, seed);
}

}  // namespace brownout::harness
