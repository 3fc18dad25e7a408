// rate_limit: a squeeze on the provider's request and token buckets for the phase. A request
// that finds a bucket empty gets 429 with the provider's body and a Retry-After that says when
// the bucket will have room; every answer reports the buckets in x-ratelimit-* headers.
//
//   fault = "rate_limit"
//   requests_per_minute = 60
//   tokens_per_minute = 20000
//   retry_after = true                 # send Retry-After (default true)

#include <cmath>
#include <optional>

#include "core/token_bucket.h"
#include "core/toml_reader.h"
#include "faults/fault.h"

namespace brownout::faults {
namespace {

class RateLimit final : public Fault {
public:
    long requests_per_minute = 0;
    long tokens_per_minute = 0;
    bool send_retry_after = true;
    std::optional<TokenBucket> requests;
    std::optional<TokenBucket> tokens;

    std::string_view kind() const override { return "rate_limit"; }
    Stage stage() const override { return Stage::reject; }

    bool apply(Context& ctx, Plan& plan) override {
        if (requests_per_minute > 0 && !requests) requests.emplace(static_cast<double>(requests_per_minute), std::chrono::minutes(1));
        if (tokens_per_minute > 0 && !tokens) tokens.emplace(static_cast<double>(tokens_per_minute), std::chrono::minutes(1));
        double cost = ctx.request.prompt_tokens + ctx.request.max_tokens;
        if (tokens) cost = std::min(cost, tokens->capacity());
        bool requests_ok = !requests || requests->available(ctx.now) >= 1;
        bool tokens_ok = !tokens || tokens->available(ctx.now) >= cost;
        bool hit = !(requests_ok && tokens_ok);
        if (!hit) {
            if (requests) requests->try_take(1, ctx.now);
            if (tokens) tokens->try_take(cost, ctx.now);
        }
        LimitSnapshot snap;
        if (requests) {
            snap.requests_limit = requests_per_minute;
            snap.requests_remaining = static_cast<long>(requests->available(ctx.now));
            snap.requests_reset = requests->time_to_full(ctx.now);
        }
        if (tokens) {
            snap.tokens_limit = tokens_per_minute;
            snap.tokens_remaining = static_cast<long>(tokens->available(ctx.now));
            snap.tokens_reset = tokens->time_to_full(ctx.now);
        }
        plan.limits = snap;
        if (!hit) return false;
        TokenBucket& empty = requests_ok ? *tokens : *requests;
        Duration wait = empty.time_until(requests_ok ? cost : 1, ctx.now);
        Rejection r;
        r.status = 429;
        r.rate_limit_on_tokens = requests_ok;
        r.rate_limit_value = requests_ok ? tokens_per_minute : requests_per_minute;
        r.rate_limit_used = static_cast<long>(empty.capacity() - empty.available(ctx.now));
        if (send_retry_after) r.retry_after = std::max<Duration>(wait, std::chrono::milliseconds(1));
        r.should_retry = true;
        plan.reject = r;
        return true;
    }
    ComponentStatus status_effect(double, Duration) const override { return ComponentStatus::degraded_performance; }
};

}  // namespace

std::unique_ptr<Fault> parse_rate_limit(TableReader& t) {
    auto f = std::make_unique<RateLimit>();
    f->requests_per_minute = static_cast<long>(t.integer("requests_per_minute", 0).value_or(0));
    f->tokens_per_minute = static_cast<long>(t.integer("tokens_per_minute", 0).value_or(0));
    f->send_retry_after = t.boolean("retry_after").value_or(true);
    if (f->requests_per_minute == 0 && f->tokens_per_minute == 0) {
        t.fail("a rate_limit phase needs requests_per_minute or tokens_per_minute");
    }
    return f;
}

}  // namespace brownout::faults
