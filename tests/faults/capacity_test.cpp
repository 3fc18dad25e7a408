#include "faults/capacity.h"

#include <catch2/catch.hpp>

using namespace brownout::faults;
using Tickets = std::vector<CapacityModel::Ticket>;

TEST_CASE("capacity: slots first, then the queue in arrival order, busy beyond it",
          "[faults][capacity]") {
    CapacityModel c(2);
    CHECK(c.admit(1, 2) == CapacityModel::Admission::now);
    CHECK(c.admit(2, 2) == CapacityModel::Admission::now);
    CHECK(c.admit(3, 2) == CapacityModel::Admission::queued);
    CHECK(c.admit(4, 2) == CapacityModel::Admission::queued);
    CHECK(c.admit(5, 2) == CapacityModel::Admission::rejected);
    CHECK(c.release(2) == Tickets{3});
    CHECK(c.in_service() == 2);
    CHECK(c.waiting() == 1);
    // A newcomer does not jump the queue even when a slot is free.
    CHECK(c.release(3) == Tickets{4});
    CHECK(c.admit(6, 3) == CapacityModel::Admission::now);
}

TEST_CASE("capacity: a lowered limit holds the queue until a review finds it raised",
          "[faults][capacity]") {
    CapacityModel c(10);
    for (CapacityModel::Ticket t = 1; t <= 4; ++t) c.admit(t, 1);
    CHECK(c.in_service() == 1);
    CHECK(c.held_back(1, 4));
    CHECK_FALSE(c.held_back(4, 4));  // at full capacity only a release can help
    CHECK(c.review(1).empty());
    CHECK(c.review(3) == Tickets{2, 3});
    // A release while the limit is lower than what is in service frees no slot for the queue.
    CHECK(c.release(1).empty());
    CHECK(c.in_service() == 2);
    CHECK(c.review(4) == Tickets{4});
    CHECK_FALSE(c.held_back(4, 4));
}
