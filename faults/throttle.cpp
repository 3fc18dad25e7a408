#include "faults/throttle.h"

#include <algorithm>

namespace brownout::faults {

Duration retry_after_tolerance(Duration wait, double time_scale) {
    Duration precision = from_seconds(0.005 * time_scale);
    return std::max(wait / 10, precision);
}

std::optional<Rejection> Throttles::check(const std::string& client, Duration now) {
    auto it = until_.find(client);
    if (it == until_.end()) return std::nullopt;
    const Hold& h = it->second;
    if (now >= h.until - retry_after_tolerance(h.wait, time_scale_)) {
        if (now >= h.until) until_.erase(it);  // a client barely early keeps its hold until then
        return std::nullopt;
    }
    Rejection again = h.rejection;
    Duration remaining = h.until - now;
    // The same header the first rejection used, now counting down.
    if (again.retry_after_ms)
        again.retry_after_ms = remaining;
    else
        again.retry_after = remaining;
    return again;
}

void Throttles::impose(const std::string& client, Duration now, const Rejection& r) {
    if (!r.throttles()) return;
    Duration wait = *r.announced_wait();
    auto& h = until_[client];
    if (now + wait <= h.until) return;
    h = Hold{now + wait, wait, r};
}

}  // namespace brownout::faults
