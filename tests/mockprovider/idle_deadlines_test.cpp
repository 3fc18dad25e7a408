// The server's table of idle deadlines (mockprovider/idle_deadlines.h): the sweep finds exactly
// the connections past their deadline, and a place given back is found no more.

#include "mockprovider/idle_deadlines.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>
#include <thread>

using namespace brownout;
using namespace std::chrono_literals;

namespace {
struct Conn {
    int id;
};
using Table = mock::IdleDeadlines<Conn>;
const auto t0 = std::chrono::steady_clock::time_point{} + 1000s;

std::set<int> ids(const std::vector<std::shared_ptr<Conn>>& found) {
    std::set<int> out;
    for (auto& c : found) out.insert(c->id);
    return out;
}
}  // namespace

TEST_CASE("a place is due once its deadline has passed, and not while it is busy",
          "[provider][idle]") {
    Table table;
    auto conn = std::make_shared<Conn>(Conn{7});
    auto place = table.take(conn);
    CHECK(table.due(t0 + 1h).empty());  // never set: never due
    place.set(t0 + 5s);
    CHECK(table.due(t0 + 4s).empty());
    CHECK(table.due(t0 + 5s).empty());  // at the deadline: not yet past it
    CHECK(ids(table.due(t0 + 5s + 1ns)) == std::set<int>{7});
    place.never();  // busy again
    CHECK(table.due(t0 + 1h).empty());
    place.set(t0 + 10s);
    CHECK(ids(table.due(t0 + 11s)) == std::set<int>{7});
}

TEST_CASE("a place given back is found no more, and its slot is taken again unset",
          "[provider][idle]") {
    Table table;
    auto a = std::make_shared<Conn>(Conn{1});
    auto b = std::make_shared<Conn>(Conn{2});
    auto place_b = table.take(b);
    {
        auto place_a = table.take(a);
        place_a.set(t0);
        place_b.set(t0);
        CHECK(ids(table.due(t0 + 1s)) == std::set<int>{1, 2});
        CHECK(table.taken() == 2);
    }
    CHECK(table.taken() == 1);
    CHECK(ids(table.due(t0 + 1s)) == std::set<int>{2});
    auto c = std::make_shared<Conn>(Conn{3});
    auto place_c = table.take(c);  // a's slot again: not due until set
    CHECK(table.taken() == 2);
    CHECK(ids(table.due(t0 + 1s)) == std::set<int>{2});
    CHECK(ids(table.owners()) == std::set<int>{2, 3});
}

TEST_CASE("an owner gone is not found, though its place is still set", "[provider][idle]") {
    Table table;
    auto conn = std::make_shared<Conn>(Conn{4});
    auto place = table.take(conn);
    place.set(t0);
    conn.reset();
    CHECK(table.due(t0 + 1s).empty());
    CHECK(table.owners().empty());
}

TEST_CASE("across pages the sweep finds exactly the places past their deadline",
          "[provider][idle]") {
    Table table;
    std::vector<std::shared_ptr<Conn>> conns;
    std::vector<Table::Place> places;
    for (int i = 0; i < 3000; ++i) {  // three pages
        conns.push_back(std::make_shared<Conn>(Conn{i}));
        places.push_back(table.take(conns.back()));
    }
    std::set<int> expected;
    for (int i = 0; i < 3000; ++i) {
        if (i % 7 == 0) {
            places[static_cast<std::size_t>(i)].set(t0 + std::chrono::seconds(i % 5));
            if (i % 5 < 3) expected.insert(i);
        } else if (i % 7 == 1) {
            places[static_cast<std::size_t>(i)].set(t0 + 1h);
        }
    }
    CHECK(ids(table.due(t0 + 2500ms)) == expected);
    CHECK(table.owners().size() == 3000);
    // Give back every other place: half the expected ones go with them.
    for (std::size_t i = 0; i < places.size(); i += 2) places[i] = Table::Place();
    std::erase_if(expected, [](int i) { return i % 2 == 0; });
    CHECK(ids(table.due(t0 + 2500ms)) == expected);
    CHECK(table.taken() == 1500);
    table.forget_owners();
    CHECK(table.due(t0 + 2500ms).empty());
    CHECK(table.owners().empty());
}

TEST_CASE("places set from other threads while the table is swept", "[provider][idle]") {
    Table table;
    constexpr int kThreads = 4, kEach = 500;
    std::vector<std::shared_ptr<Conn>> conns;
    for (int i = 0; i < kThreads * kEach; ++i) conns.push_back(std::make_shared<Conn>(Conn{i}));
    std::atomic<bool> done{false};
    std::thread sweeper([&] {
        while (!done) (void)table.due(t0 + 1s);
    });
    std::vector<std::thread> workers;
    std::vector<std::vector<Table::Place>> kept(kThreads);
    for (int t = 0; t < kThreads; ++t) {
        workers.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                auto place = table.take(conns[static_cast<std::size_t>(t * kEach + i)]);
                place.set(t0);
                if (i % 2 == 0) place.never();
                if (i % 3 != 0) kept[static_cast<std::size_t>(t)].push_back(std::move(place));
            }
        });
    }
    for (auto& w : workers) w.join();
    done = true;
    sweeper.join();
    std::set<int> expected;
    for (int i = 0; i < kThreads * kEach; ++i) {
        int j = i % kEach;
        if (j % 2 == 1 && j % 3 != 0) expected.insert(i);
    }
    CHECK(ids(table.due(t0 + 1s)) == expected);
    std::size_t held = 0;
    for (auto& k : kept) held += k.size();
    CHECK(table.taken() == held);
}

TEST_CASE("places let go of by their owners while others sweep are all given back",
          "[provider][idle]") {
    // As in the server: an owner holds its own place, and the last reference to it may be the
    // one a sweep took (its place is then given back outside the table's lock).
    struct Holder {
        mock::IdleDeadlines<Holder>::Place place;
    };
    using Holders = mock::IdleDeadlines<Holder>;
    Holders table;
    std::atomic<bool> done{false};
    auto sweep = [&] {
        while (!done) {
            (void)table.due(t0 + 1s);
            (void)table.owners();
        }
    };
    std::thread sweeper(sweep), sweeper2(sweep);
    std::vector<std::thread> workers;
    for (int t = 0; t < 3; ++t) {
        workers.emplace_back([&] {
            for (int i = 0; i < 2000; ++i) {
                auto holder = std::make_shared<Holder>();
                holder->place = table.take(holder);
                holder->place.set(t0);  // due: the sweepers pick it up
            }  // the worker's reference goes here; a sweeper's may be the last
        });
    }
    for (auto& w : workers) w.join();
    done = true;
    sweeper.join();
    sweeper2.join();
    CHECK(table.taken() == 0);
    CHECK(table.owners().empty());
}

TEST_CASE("after the owners are forgotten, places are given back and taken again",
          "[provider][idle]") {
    Table table;
    auto a = std::make_shared<Conn>(Conn{1});
    auto place = table.take(a);
    table.forget_owners();
    place.set(t0);
    CHECK(table.due(t0 + 1s).empty());  // set, but its owner is forgotten
    place = Table::Place();
    CHECK(table.taken() == 0);
    auto b = std::make_shared<Conn>(Conn{2});
    auto again = table.take(b);
    again.set(t0);
    CHECK(ids(table.due(t0 + 1s)) == std::set<int>{2});
    CHECK(table.taken() == 1);
}
