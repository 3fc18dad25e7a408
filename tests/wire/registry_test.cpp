// The registry: one row per dialect, one per vendor; the scenario loader reads names from it.

#include <catch2/catch.hpp>

#include "wire/dialect.h"

using namespace brownout::wire;

TEST_CASE("every registered dialect is found by name and makes itself for each of its vendors",
          "[wire][registry]") {
    REQUIRE_FALSE(dialects().empty());
    for (const auto& info : dialects()) {
        CHECK(find_dialect(info.name) == &info);
        CHECK(&dialect_info(info.kind) == &info);
        CHECK(to_string(info.kind) == info.name);
        CHECK_FALSE(info.default_model.empty());
        for (auto vendor : info.vendors) {
            auto d = make_dialect(info.kind, vendor);
            CHECK(d->kind() == info.kind);
            CHECK(d->vendor() == vendor);
            CHECK(d->route("POST", d->chat_path()).target == Route::Target::chat);
            CHECK(d->route("GET", d->chat_path()).target == Route::Target::method_not_allowed);
            CHECK(d->route("GET", d->models_path()).target == Route::Target::models);
            if (info.kind != DialectKind::ollama) {  // Ollama has no route for one model
                auto model = d->route("GET", std::string(d->models_path()) + "/m-1");
                CHECK(model.target == Route::Target::model);
                CHECK(model.model == "m-1");
            }
            CHECK(d->route("POST", "/v1/nothing-here").target == Route::Target::not_found);
        }
    }
    CHECK(find_dialect("gemini-ish") == nullptr);
}

TEST_CASE("a dialect asked for a vendor it does not speak speaks its default vendor",
          "[wire][registry]") {
    CHECK(make_dialect(DialectKind::openai, Vendor::anthropic)->vendor() == Vendor::openai);
    CHECK(make_dialect(DialectKind::anthropic, Vendor::deepseek)->vendor() == Vendor::anthropic);
    CHECK(find_vendor("deepseek")->vendor == Vendor::deepseek);
    CHECK(find_vendor("mistral") == nullptr);
}
