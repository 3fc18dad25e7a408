#pragma once
// Retry-After as a promise the provider keeps. A real provider that answers 429 with a wait is
// throttling that API key: a request from the same key before the wait is over is rejected
// again, with the time that remains (OpenAI: "unsuccessful requests contribute to your
// per-minute limit, so continuously resending a request won't work").
//
//   429 + Retry-After: 20s ──▶ Throttles::impose(key, now, 20s) ──▶ key throttled until now+20s
//   next request, same key ──▶ Throttles::check(key, now') ──▶ 429, Retry-After: remaining
//
// The client is the API key when it sends one, else its address. Pure: the caller passes `now`.

#include <map>
#include <optional>
#include <string>

#include "core/duration.h"
#include "faults/plan.h"

namespace brownout::faults {

// How early an attempt may come back and still count as honouring a wait: a tenth of the wait
// (clients round headers and sleep imprecisely), and never less than 5 ms of wall time (the
// precision of timers and of a millisecond header at this time scale). One rule for the
// provider that enforces the wait and the scorer that counts violations.
Duration retry_after_tolerance(Duration wait, double time_scale);

class Throttles {
public:
    explicit Throttles(double time_scale = 1.0) : time_scale_(time_scale) {}

    // The rejection to send again when `client` comes back before the end of its wait (minus
    // the tolerance), with Retry-After set to what remains; nullopt when it may pass.
    std::optional<Rejection> check(const std::string& client, Duration now);
    // Holds `client` to the wait `r` announces, when it is a throttling rejection. A later,
    // shorter wait never shortens an earlier one.
    void impose(const std::string& client, Duration now, const Rejection& r);
    bool empty() const { return until_.empty(); }

private:
    struct Hold {
        Duration until{};
        Duration wait{};
        Rejection rejection;
    };
    double time_scale_;
    std::map<std::string, Hold> until_;
};

}  // namespace brownout::faults
