#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "harness/policies/policy.h"

namespace brownout::harness {
namespace {

using Kind = AttemptResult::Kind;

// ── naive: one provider, one attempt, the SDK's ten-minute timeout ─────────────────────────
class Naive final : public Policy {
    struct Run final : PolicyRun {
        Duration timeout;
        bool tried = false;
        Step next(Duration, const AttemptResult*) override {
            if (tried) return give_up();
            tried = true;
            return attempt(0, timeout);
        }
    };
    Duration timeout_;

public:
    Naive(const PolicyParams& params, Duration timeout)
        : Policy(params.checks_finish_reason()), timeout_(timeout) {}
    std::unique_ptr<PolicyRun> begin(const UserRequest&, Duration) override {
        auto r = std::make_unique<Run>();
        r->timeout = timeout_;
        return r;
    }
};

}  // namespace

const std::vector<PolicyKey>& naive_keys() {
    static const std::vector<PolicyKey> keys = {attempt_timeout_key()};
    return keys;
}

std::unique_ptr<Policy> make_naive(const PolicyParams& params, const std::vector<ProviderTraits>&,
                                   std::uint64_t, Duration) {
    return std::make_unique<Naive>(params, params.attempt_timeout > Duration::zero()
                                               ? params.attempt_timeout
                                               : std::chrono::minutes(10));
}

}  // namespace brownout::harness
