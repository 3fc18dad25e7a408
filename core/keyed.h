#pragma once
// A table of what is in flight (calls, users, their timers), keyed by a number that only grows:
// open addressing, no node an entry, so adding and dropping one costs no allocation. Walked in
// key order where the order is seen (abandoning them all), as a std::map would walk it.

#include <algorithm>
#include <boost/unordered/unordered_flat_map.hpp>
#include <cstdint>
#include <utility>
#include <vector>

namespace brownout {

template <class Key, class Value>
using Keyed = boost::unordered_flat_map<Key, Value>;

// The entries of `table`, copied, in key order.
template <class Key, class Value>
std::vector<std::pair<Key, Value>> in_key_order(const Keyed<Key, Value>& table) {
    std::vector<std::pair<Key, Value>> entries(table.begin(), table.end());
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    return entries;
}

}  // namespace brownout
