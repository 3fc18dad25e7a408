#pragma once
// What a user got from one request — the one definition behind the availability metric, the
// score, the HTML timeline and the progress line (DESIGN §2: one definition of each contract).

#include "harness/run.h"

namespace brownout::harness {

enum class Served : std::uint8_t {
    answer,  // a verified, current answer within the deadline (live, or a cache hit still current)
    degraded_answer,   // an out-of-date answer (from a cache) within the workload's max_staleness
    graceful_failure,  // a clean error within fail_fast when no provider could have answered
    wrong_answer,      // an answer that failed verification, or older than max_staleness
    failure,           // an error, or an answer past the deadline
    hung,              // nothing by twice the deadline
};

// `answerable`: could any provider of the scenario have answered this request when it arrived?
// Only asked of requests that ended in an error.
Served classify(const UserRecord& u, const WorkloadSpec& w, bool answerable);

// The user received an answer they can use (current or acceptably stale): what availability
// counts. Needs no knowledge of the providers, so the progress line can use it as it goes.
inline bool received_answer(Served s) {
    return s == Served::answer || s == Served::degraded_answer;
}
bool received_answer(const UserRecord& u, const WorkloadSpec& w);

}  // namespace brownout::harness
