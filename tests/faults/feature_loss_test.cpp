// feature_loss: a capability or model gone, refused or silently ignored.
// Decisions on scenario time passed in — no sockets, no clock (helpers: support.h).

#include <catch2/catch.hpp>

#include "tests/faults/support.h"

TEST_CASE("feature_loss rejects or ignores what is gone", "[faults][feature_loss]") {
    RequestFacts vision{"deepseek-chat", false, 1, false, 100, 50};
    SECTION("reject vision in the provider's words") {
        auto e = engine(
            "[[phases]]\nstart = \"0s\"\nfault = \"feature_loss\"\nfeatures = [\"vision\"]\n");
        auto plan = e.decide(0s, vision);
        CHECK(effect<Rejection>(plan)->unsupported_feature == "vision");
        CHECK(e.decide(0s, chat()).is_normal());
    }
    SECTION("ignore the image and answer anyway") {
        auto e = engine(
            "[[phases]]\nstart = \"0s\"\nfault = \"feature_loss\"\nfeatures = "
            "[\"vision\"]\nbehavior = \"ignore\"\n");
        auto plan = e.decide(0s, vision);
        CHECK_FALSE(effect<Rejection>(plan));
        CHECK(effect<Ignore>(plan)->what == Ignored::images);
    }
    SECTION("a model that is gone") {
        auto e = engine("[[phases]]\nstart = \"0s\"\nfault = \"feature_loss\"\nmodels = [\"m\"]\n");
        CHECK(effect<Rejection>(e.decide(0s, chat()))->unknown_model);
    }
}
