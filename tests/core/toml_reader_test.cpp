#include "core/toml_reader.h"

#include <catch2/catch.hpp>
#include <functional>

using namespace brownout;
using namespace std::chrono_literals;

namespace {

struct Doc {
    toml::table root;
    TableReader reader;
    explicit Doc(std::string_view text)
        : root(parse_toml_text(text, "x.toml")),
          reader(root, "", std::make_shared<const std::string>("x.toml")) {}
};

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("TOML syntax errors carry file, line and column", "[core][toml]") {
    auto msg =
        error_of([] { parse_toml_text("[scenario]\nname = \"x\"\nduration = \n", "bad.toml"); });
    CHECK_THAT(msg, Catch::StartsWith("bad.toml:3:"));
}

TEST_CASE("an unknown key is reported at its line with a suggestion", "[core][toml]") {
    Doc d("[scenario]\nname = \"x\"\ntime_scal = 3\n");
    auto msg = error_of([&] {
        auto s = d.reader.table("scenario");
        s->string("name");
        s->number("time_scale");
        s->finish();
    });
    CHECK(msg == "x.toml:3:1: scenario.time_scal: unknown key (did you mean \"time_scale\"?)");
}

TEST_CASE("a bad duration names the key path and the line", "[core][toml]") {
    Doc d("[latency]\nttft = \"fast\"\n");
    auto msg = error_of([&] { d.reader.table("latency")->duration("ttft"); });
    CHECK_THAT(msg, Catch::StartsWith("x.toml:2:8: latency.ttft: \"fast\" is not a duration"));
}

TEST_CASE("values of the wrong type or out of range are refused", "[core][toml]") {
    Doc d("rate = 1.5\nname = 3\nkind = \"bsy\"\nlist = [\"a\", 2]\n");
    CHECK_THAT(error_of([&] { d.reader.number_in("rate", 0, 1); }),
               Catch::Contains("rate: 1.5 is outside [0, 1]"));
    CHECK_THAT(error_of([&] { d.reader.string("name"); }),
               Catch::Contains("name: expected a string, found an integer"));
    CHECK_THAT(error_of([&] {
                   d.reader.choice("kind", {"busy", "outage"});
               }),
               Catch::Contains("(did you mean \"busy\"?)"));
    CHECK_THAT(error_of([&] { d.reader.strings("list"); }),
               Catch::Contains("x.toml:4:14: list[1]: expected a string"));
}

TEST_CASE("arrays of tables are read with indexed key paths", "[core][toml]") {
    Doc d("[[providers]]\nid = \"a\"\n[[providers]]\nid = \"b\"\nbogus = 1\n");
    auto providers = d.reader.tables("providers");
    REQUIRE(providers.size() == 2);
    CHECK(providers[0].required_string("id") == "a");
    CHECK_NOTHROW(providers[0].finish());
    providers[1].string("id");
    CHECK(error_of([&] { providers[1].finish(); }) ==
          "x.toml:5:1: providers[1].bogus: unknown key");
}
