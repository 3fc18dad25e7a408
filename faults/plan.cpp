#include "faults/plan.h"

#include <algorithm>

namespace brownout::faults {

std::optional<Duration> Rejection::announced_wait() const {
    if (retry_after_ms && *retry_after_ms > Duration::zero()) return retry_after_ms;
    if (retry_after && *retry_after > Duration::zero()) return retry_after;
    return std::nullopt;
}

bool Rejection::throttles() const {
    // Rate-limit buckets keep their own semantics: the bucket itself rejects early retries.
    bool by_default = status == 429 && !rate_limit_on_tokens;
    return enforce_retry_after.value_or(by_default) && announced_wait().has_value();
}

bool ends_request(const Effect& e) {
    return std::holds_alternative<Rejection>(e) || std::holds_alternative<Reset>(e) ||
           std::holds_alternative<Hang>(e);
}

bool Plan::ends_request() const {
    return std::any_of(effects.begin(), effects.end(), faults::ends_request);
}

std::string Plan::label() const {
    std::string out;
    append_label(out);
    return out;
}

void Plan::append_label(std::string& out) const {
    const std::size_t start = out.size();
    for (const auto& name : applied) {
        if (out.size() > start) out += '+';
        out += name;
    }
}

}  // namespace brownout::faults
