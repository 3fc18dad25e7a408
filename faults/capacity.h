#pragma once
// Finite capacity (DESIGN §5) as a pure model: at most `limit` answers in service, `queue` more
// waiting in arrival order, "busy" beyond. The caller passes the limit the timeline allows now
// (outage and recovery phases lower it) and carries out what the model returns — which waiting
// requests now get a slot, and when to look again while the limit holds them back. Nothing
// here reads a clock or sets a timer.
//
//   admit ──▶ in service ──release──▶ (the oldest waiting request takes the slot)
//     │           ▲
//     └─▶ queue ──┘ (review: the limit rose)        full queue ──▶ rejected ("busy")

#include <cstdint>
#include <deque>
#include <vector>

#include "core/duration.h"

namespace brownout::faults {

class CapacityModel {
public:
    using Ticket = std::uint64_t;
    enum class Admission { now, queued, rejected };

    explicit CapacityModel(int queue) : queue_(queue) {}

    Admission admit(Ticket ticket, int limit);
    // A slot is free again (an answer ended, or abandoned work finished).
    std::vector<Ticket> release(int limit);
    // The limit may have risen since the last look.
    std::vector<Ticket> review(int limit);

    int in_service() const { return in_service_; }
    int waiting() const { return static_cast<int>(waiting_.size()); }
    // Whether waiting requests need a look when the limit rises (a lowered limit holds them),
    // not only when a slot is released.
    bool held_back(int limit, int nominal) const { return !waiting_.empty() && limit < nominal; }

private:
    std::vector<Ticket> fill(int limit);

    int queue_;
    int in_service_ = 0;
    std::deque<Ticket> waiting_;
};

// How often a queue held back by a lowered limit is looked at again, in scenario time, when no
// phase boundary comes sooner: a recovery ramp raises the limit a step at a time.
inline constexpr Duration kCapacityReview = std::chrono::seconds(1);

}  // namespace brownout::faults
