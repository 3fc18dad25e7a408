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

#include "core/toml_reader.h"
#include "faults/fault.h"
#include "faults/keys.h"
#include "faults/rate_buckets.h"

namespace brownout::faults {
namespace {

class RateLimit final : public Fault {
public:
    long requests_per_minute = 0;
    long tokens_per_minute = 0;
    bool send_retry_after = true;
    std::optional<RateBuckets> buckets;  // made on first use: each fleet's engine has its own

    std::string_view kind() const override { return "rate_limit"; }
    Stage stage() const override { return Stage::reject; }

    bool apply(Context& ctx, Effects& out) override {
        if (!buckets) buckets.emplace(requests_per_minute, tokens_per_minute);
        auto rejection =
            buckets->admit(ctx.request.prompt_tokens + ctx.request.max_tokens, ctx.now);
        out.emplace_back(ReportLimits{buckets->snapshot(ctx.now)});
        if (!rejection) return false;
        if (send_retry_after)
            rejection->retry_after =
                std::max<Duration>(*rejection->retry_after, std::chrono::milliseconds(1));
        else
            rejection->retry_after.reset();
        rejection->should_retry = true;
        out.emplace_back(std::move(*rejection));
        return true;
    }
    ComponentStatus status_effect(double, Duration) const override {
        return ComponentStatus::degraded_performance;
    }
};

}  // namespace

const TableSpec& rate_limit_spec() {
    static const TableSpec spec = kind_spec(
        "rate_limit", "A tighter rate limit than the provider's own for the phase: 429s beyond it.",
        {{"requests_per_minute", KeyType::integer, "requests a minute", {}, 0},
         {"tokens_per_minute", KeyType::integer, "tokens a minute", {}, 0},
         {"retry_after", KeyType::boolean, "send Retry-After with the 429 (default true)"}});
    return spec;
}

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
