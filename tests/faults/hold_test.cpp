// hold: 200 at once, keep-alives, then how the answer ends.
// Decisions on scenario time passed in — no sockets, no clock (helpers: support.h).

#include <catch2/catch.hpp>

#include "tests/faults/support.h"

TEST_CASE("hold keeps any request behind keep-alives and says how it ends", "[faults][hold]") {
    auto e = engine(R"([[phases]]
start = "0s"
end = "1m"
fault = "hold"
wait = "60s"
interval = "5s"
then = "interrupted"
after_tokens = 7)");
    for (const auto& facts : {chat(), stream()}) {
        auto plan = e.decide(10s, facts);
        REQUIRE(effect<Hold>(plan));
        CHECK(effect<Hold>(plan)->wait == 60s);
        CHECK(effect<Hold>(plan)->interval == 5s);
        CHECK(effect<Hold>(plan)->then == HoldEnd::interrupted);
        CHECK(effect<Hold>(plan)->after_tokens == 7);
        CHECK_FALSE(effect<Rejection>(plan));
        CHECK(plan.label() == "hold");
    }
    CHECK_FALSE(effect<Hold>(e.decide(70s, chat())));
    CHECK(error_of("[[phases]]\nstart = \"0s\"\nfault = \"hold\"\nthen = \"blank\"\n") ==
          "t.toml:4:8: phases[0].then: \"blank\" is not one of answer, empty, interrupted, close");
    CHECK(error_of("[[phases]]\nstart = \"0s\"\nfault = \"hold\"\nafter_tokens = 3\n") ==
          "t.toml:4:16: phases[0].after_tokens: only applies with then = \"interrupted\"");
    CHECK_THAT(error_of("[[phases]]\nstart = \"0s\"\nfault = \"hold\"\ninterval = \"0s\"\n"),
               Catch::Contains("must be longer than zero"));
}
