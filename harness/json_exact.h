#pragma once
// JSON parsing that reads every number exactly as written: Boost.JSON 1.81's parser may land one
// unit in the last place away from the nearest double, so a value written with its shortest
// round-trip form would not read back as itself. `brownout merge` recomputes summaries from the
// shards' values and must get the single-process run's numbers bit for bit.

#include <boost/json/value.hpp>
#include <string_view>

namespace brownout::harness {

// Throws brownout::Error ("NAME: not JSON: …") when `text` is not one JSON document.
boost::json::value parse_json_exact(std::string_view text, std::string_view name);

}  // namespace brownout::harness
