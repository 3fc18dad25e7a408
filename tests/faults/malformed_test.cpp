// malformed: answers a client cannot parse.
// Decisions on scenario time passed in — no sockets, no clock (helpers: support.h).

#include <catch2/catch.hpp>

#include "tests/faults/support.h"

TEST_CASE("malformed variants", "[faults][malformed]") {
    auto make = [](const std::string& variant) {
        return engine("[[phases]]\nstart = \"0s\"\nfault = \"malformed\"\nvariant = \"" + variant +
                      "\"\n");
    };
    auto html = make("html_502");
    CHECK(effect<Rejection>(html.decide(0s, chat()))->html);
    auto json = make("invalid_json");
    CHECK(effect<Malform>(json.decide(0s, chat()))->how == Malformed::invalid_json);
    auto done = make("missing_done");
    CHECK(effect<Malform>(done.decide(0s, stream()))->how == Malformed::missing_done);
    CHECK(done.decide(0s, chat()).is_normal());
}
