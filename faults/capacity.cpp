#include "faults/capacity.h"

#include <algorithm>

namespace brownout::faults {

CapacityModel::Admission CapacityModel::admit(Ticket ticket, int limit) {
    if (in_service_ < limit && waiting_.empty()) {
        ++in_service_;
        return Admission::now;
    }
    if (static_cast<int>(waiting_.size()) < queue_) {
        waiting_.push_back(ticket);
        return Admission::queued;
    }
    return Admission::rejected;
}

std::vector<CapacityModel::Ticket> CapacityModel::release(int limit) {
    if (in_service_ > 0) --in_service_;
    return fill(limit);
}

std::vector<CapacityModel::Ticket> CapacityModel::review(int limit) {
    return fill(limit);
}

std::vector<CapacityModel::Ticket> CapacityModel::fill(int limit) {
    // A recovering provider may have room for fewer than before: fill only up to the limit.
    std::vector<Ticket> admitted;
    while (!waiting_.empty() && in_service_ < limit) {
        ++in_service_;
        admitted.push_back(waiting_.front());
        waiting_.pop_front();
    }
    return admitted;
}

}  // namespace brownout::faults
