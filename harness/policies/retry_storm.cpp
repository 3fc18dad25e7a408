#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "harness/policies/policy.h"

namespace brownout::harness {
namespace {

using Kind = AttemptResult::Kind;

// ── retry-storm: the anti-pattern — retry at once, many times, on anything ──────────────────
class RetryStorm final : public Policy {
    struct Run final : PolicyRun {
        int attempts_left;
        Duration timeout;
        Step next(Duration, const AttemptResult*) override {
            if (attempts_left-- <= 0) return give_up();
            return attempt(0, timeout);
        }
    };
    int max_retries_;
    Duration timeout_;

public:
    RetryStorm(const PolicyParams& params, int max_retries, Duration timeout)
        : Policy(params.checks_finish_reason()), max_retries_(max_retries), timeout_(timeout) {}
    std::unique_ptr<PolicyRun> begin(const UserRequest&, Duration) override {
        auto r = std::make_unique<Run>();
        r->attempts_left = max_retries_ + 1;
        r->timeout = timeout_;
        return r;
    }
};

}  // namespace

const std::vector<PolicyKey>& retry_storm_keys() {
    static const std::vector<PolicyKey> keys = {max_retries_key(), attempt_timeout_key()};
    return keys;
}

std::unique_ptr<Policy> make_retry_storm(const PolicyParams& params,
                                         const std::vector<ProviderTraits>&, std::uint64_t,
                                         Duration) {
    Duration timeout = params.attempt_timeout > Duration::zero() ? params.attempt_timeout
                                                                 : std::chrono::seconds(10);
    return std::make_unique<RetryStorm>(params, params.max_retries < 0 ? 10 : params.max_retries,
                                        timeout);
}

}  // namespace brownout::harness
