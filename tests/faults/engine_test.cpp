// The fault model, decision by decision, on scenario time passed in — no sockets, no clock.

#include "faults/engine.h"

#include <catch2/catch.hpp>
#include <functional>

#include "core/toml_reader.h"
#include "faults/status_page.h"

using namespace brownout;
using namespace brownout::faults;
using namespace std::chrono_literals;

namespace {

std::vector<PhaseSpec> phases(const std::string& toml) {
    static std::vector<toml::table>
        keep;  // PhaseSpecs copy their tables; the reader needs one alive meanwhile
    keep.push_back(parse_toml_text(toml, "t.toml"));
    TableReader root(keep.back(), "", std::make_shared<const std::string>("t.toml"));
    return read_phases(root, "phases");
}

Engine engine(const std::string& toml, Duration horizon = 1h, std::uint64_t seed = 42) {
    return Engine(phases(toml), seed, "p", horizon);
}

RequestFacts chat() {
    return RequestFacts{"m", false, 0, false, 10, 50};
}
RequestFacts stream() {
    return RequestFacts{"m", true, 0, false, 10, 50};
}

// Share of `n` requests at `now` that the engine rejects.
double reject_share(Engine& e, Duration now, int n = 4000) {
    int hit = 0;
    for (int i = 0; i < n; ++i) {
        auto plan = e.decide(now, chat());
        hit += plan.reject.has_value() || plan.connection != ConnectionAction::none;
    }
    return hit / double(n);
}

std::string error_of(const std::string& toml) {
    try {
        phases(toml);
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("a busy phase ramps its failure share from 30% to 100%", "[faults][busy]") {
    auto e = engine(R"([[phases]]
start = "10m"
end = "20m"
fault = "busy"
rate = { from = 0.3, to = 1.0 }
message = "Server busy, please try again later.")");
    CHECK(reject_share(e, 5min) == 0.0);
    CHECK(reject_share(e, 10min) == Approx(0.3).margin(0.03));
    CHECK(reject_share(e, 15min) == Approx(0.65).margin(0.03));
    CHECK(reject_share(e, 20min - 1ms) == Approx(1.0).margin(0.01));
    CHECK(reject_share(e, 20min) == 0.0);
    auto plan = e.decide(19min, chat());
    REQUIRE(plan.reject);
    CHECK(plan.reject->status == 503);
    CHECK(plan.reject->message == "Server busy, please try again later.");
    CHECK(plan.applied == std::vector<std::string>{"busy"});
}

TEST_CASE("ramp curves: linear, exponential and step", "[faults][rate]") {
    Rate linear{0.0, 1.0};
    Rate expo{0.0, 1.0, Rate::Curve::exponential};
    Rate step{0.0, 1.0, Rate::Curve::step, 4};
    CHECK(linear.at(0.5) == Approx(0.5));
    CHECK(expo.at(0.5) < 0.2);  // slow start
    CHECK(expo.at(1.0) == Approx(1.0));
    CHECK(step.at(0.1) == 0.0);
    CHECK(step.at(0.3) == Approx(1.0 / 3));
    CHECK(step.at(0.99) == Approx(1.0));
}

TEST_CASE("the same seed and request sequence give the same decisions", "[faults][determinism]") {
    const std::string toml = R"([[phases]]
start = "0s"
fault = "busy"
rate = 0.5
[[phases]]
start = "0s"
fault = "latency"
ttft_factor = 3
distribution = "lognormal"
spread = 0.7
[[phases]]
start = "0s"
fault = "disconnect"
after_tokens = 3
rate = 0.2)";
    auto a = engine(toml), b = engine(toml), c = engine(toml, 1h, 43);
    int differences_with_other_seed = 0;
    for (int i = 0; i < 500; ++i) {
        auto facts = i % 2 ? chat() : stream();
        auto pa = a.decide(Duration(i * 1s), facts);
        auto pb = b.decide(Duration(i * 1s), facts);
        auto pc = c.decide(Duration(i * 1s), facts);
        REQUIRE(pa.label() == pb.label());
        REQUIRE(pa.ttft_factor == pb.ttft_factor);
        differences_with_other_seed += pa.label() != pc.label();
    }
    CHECK(differences_with_other_seed > 50);
}

TEST_CASE("rejecting faults are checked first and modifiers compose", "[faults][engine]") {
    auto e = engine(R"([[phases]]
start = "0s"
fault = "latency"
ttft_factor = 2
[[phases]]
start = "0s"
fault = "latency"
ttft_factor = 3
token_rate_factor = 0.5
[[phases]]
start = "30m"
fault = "outage")");
    auto plan = e.decide(1min, chat());
    CHECK_FALSE(plan.reject);
    CHECK(plan.ttft_factor == Approx(6.0));
    CHECK(plan.token_rate_factor == Approx(0.5));
    CHECK(plan.label() == "latency+latency");
    auto down = e.decide(31min, chat());
    REQUIRE(down.reject);
    CHECK(down.label() == "outage");  // no modifiers on a rejected request
}

TEST_CASE("outage modes become resets, hangs or HTTP errors, and take capacity away",
          "[faults][outage]") {
    auto e = engine(R"([[phases]]
start = "0s"
end = "10m"
fault = "outage"
mode = "reset"
[[phases]]
start = "10m"
end = "20m"
fault = "outage"
mode = "hang"
[[phases]]
start = "20m"
end = "30m"
fault = "outage"
mode = "refuse"
[[phases]]
start = "30m"
end = "40m"
fault = "outage"
status = 500)");
    CHECK(e.decide(1min, chat()).connection == ConnectionAction::reset);
    CHECK(e.decide(11min, chat()).connection == ConnectionAction::hang);
    CHECK_FALSE(e.refusing(11min));
    CHECK(e.refusing(21min));
    CHECK(e.decide(31min, chat()).reject->status == 500);
    CHECK(e.capacity_factor(31min) == 0.0);
    CHECK(e.capacity_factor(41min) == 1.0);
}

TEST_CASE(
    "busy can carry Retry-After in seconds or as an HTTP-date, retry-after-ms and x-should-retry",
    "[faults][busy]") {
    auto e = engine(R"([[phases]]
start = "0s"
end = "1m"
fault = "busy"
status = 429
retry_after = "2s"
retry_after_ms = 1500
should_retry = false
[[phases]]
start = "1m"
fault = "busy"
status = 529
retry_after = "Wed, 21 Oct 2026 07:28:00 GMT")");
    auto a = e.decide(10s, chat()).reject;
    CHECK(a->status == 429);
    CHECK(a->retry_after == 2s);
    CHECK(a->retry_after_ms == 1500ms);
    CHECK(a->should_retry == false);
    auto b = e.decide(2min, chat()).reject;
    CHECK(b->status == 529);
    CHECK(b->retry_after_date == "Wed, 21 Oct 2026 07:28:00 GMT");
}

TEST_CASE("a rate_limit phase empties its buckets and says when they refill",
          "[faults][rate_limit]") {
    auto e = engine(R"([[phases]]
start = "0s"
fault = "rate_limit"
requests_per_minute = 2)");
    CHECK_FALSE(e.decide(0s, chat()).reject);
    auto second = e.decide(0s, chat());
    CHECK_FALSE(second.reject);
    REQUIRE(second.limits);
    CHECK(second.limits->requests_limit == 2);
    CHECK(second.limits->requests_remaining == 0);
    CHECK(second.limits->requests_reset == 60s);
    auto third = e.decide(0s, chat());
    REQUIRE(third.reject);
    CHECK(third.reject->status == 429);
    CHECK(third.reject->retry_after == 30s);
    CHECK(third.reject->rate_limit_on_tokens == false);
    CHECK_FALSE(e.decide(30s, chat()).reject);  // one token refilled
}

TEST_CASE("latency factors are fixed, uniform or lognormal", "[faults][latency]") {
    SECTION("fixed") {
        auto e = engine("[[phases]]\nstart = \"0s\"\nfault = \"latency\"\nttft_factor = 5\n");
        CHECK(e.decide(0s, chat()).ttft_factor == 5.0);
    }
    SECTION("uniform stays within the spread") {
        auto e = engine(
            "[[phases]]\nstart = \"0s\"\nfault = \"latency\"\nttft_factor = 2\ndistribution = "
            "\"uniform\"\nspread = 0.5\n");
        for (int i = 0; i < 200; ++i) {
            double f = e.decide(0s, chat()).ttft_factor;
            REQUIRE(f >= 1.0);
            REQUIRE(f <= 3.0);
        }
    }
    SECTION("lognormal has a long tail") {
        auto e = engine(
            "[[phases]]\nstart = \"0s\"\nfault = \"latency\"\nttft_factor = 1\ndistribution = "
            "\"lognormal\"\nspread = 1.0\n");
        int above_3 = 0;
        for (int i = 0; i < 2000; ++i) above_3 += e.decide(0s, chat()).ttft_factor > 3.0;
        CHECK(above_3 > 50);  // P(e^Z > 3) ≈ 14%
        CHECK(above_3 < 600);
    }
}

TEST_CASE("stall, disconnect and stream_error act on streams after N tokens", "[faults][streams]") {
    auto e = engine(R"([[phases]]
start = "0s"
end = "1m"
fault = "stall"
after_tokens = 5
keepalive = true
[[phases]]
start = "1m"
end = "2m"
fault = "disconnect"
after_tokens = 3
[[phases]]
start = "2m"
end = "3m"
fault = "stream_error"
after_tokens = 4
status = 529)");
    auto stall = e.decide(10s, stream());
    CHECK(stall.stall_after_tokens == 5);
    CHECK(stall.stall_keepalive);
    CHECK(e.decide(10s, chat()).is_normal());  // a non-streamed answer cannot stall
    CHECK(e.decide(70s, stream()).disconnect_after_tokens == 3);
    auto err = e.decide(130s, stream());
    CHECK(err.stream_error_after_tokens == 4);
    CHECK(err.stream_error->status == 529);
    CHECK(e.decide(130s, chat()).reject->status == 529);  // not streamed: the same error as HTTP
}

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
        REQUIRE(plan.hold);
        CHECK(plan.hold->wait == 60s);
        CHECK(plan.hold->interval == 5s);
        CHECK(plan.hold->then == HoldEnd::interrupted);
        CHECK(plan.hold->after_tokens == 7);
        CHECK_FALSE(plan.reject);
        CHECK(plan.label() == "hold");
    }
    CHECK_FALSE(e.decide(70s, chat()).hold);
    CHECK(error_of("[[phases]]\nstart = \"0s\"\nfault = \"hold\"\nthen = \"blank\"\n") ==
          "t.toml:4:8: phases[0].then: \"blank\" is not one of answer, empty, interrupted, close");
    CHECK(error_of("[[phases]]\nstart = \"0s\"\nfault = \"hold\"\nafter_tokens = 3\n") ==
          "t.toml:4:16: phases[0].after_tokens: only applies with then = \"interrupted\"");
    CHECK_THAT(error_of("[[phases]]\nstart = \"0s\"\nfault = \"hold\"\ninterval = \"0s\"\n"),
               Catch::Contains("must be longer than zero"));
}

TEST_CASE("malformed variants", "[faults][malformed]") {
    auto make = [](const std::string& variant) {
        return engine("[[phases]]\nstart = \"0s\"\nfault = \"malformed\"\nvariant = \"" + variant +
                      "\"\n");
    };
    auto html = make("html_502");
    CHECK(html.decide(0s, chat()).reject->html);
    auto json = make("invalid_json");
    CHECK(json.decide(0s, chat()).malformed == Malformed::invalid_json);
    auto done = make("missing_done");
    CHECK(done.decide(0s, stream()).malformed == Malformed::missing_done);
    CHECK(done.decide(0s, chat()).is_normal());
}

TEST_CASE("feature_loss rejects or ignores what is gone", "[faults][feature_loss]") {
    RequestFacts vision{"deepseek-chat", false, 1, false, 100, 50};
    SECTION("reject vision in the provider's words") {
        auto e = engine(
            "[[phases]]\nstart = \"0s\"\nfault = \"feature_loss\"\nfeatures = [\"vision\"]\n");
        auto plan = e.decide(0s, vision);
        CHECK(plan.reject->unsupported_feature == "vision");
        CHECK(e.decide(0s, chat()).is_normal());
    }
    SECTION("ignore the image and answer anyway") {
        auto e = engine(
            "[[phases]]\nstart = \"0s\"\nfault = \"feature_loss\"\nfeatures = "
            "[\"vision\"]\nbehavior = \"ignore\"\n");
        auto plan = e.decide(0s, vision);
        CHECK_FALSE(plan.reject);
        CHECK(plan.ignore_images);
    }
    SECTION("a model that is gone") {
        auto e = engine("[[phases]]\nstart = \"0s\"\nfault = \"feature_loss\"\nmodels = [\"m\"]\n");
        CHECK(e.decide(0s, chat()).reject->unknown_model);
    }
}

TEST_CASE("recovery ramps failures down and capacity up", "[faults][recovery]") {
    auto e = engine(R"([[phases]]
start = "0s"
end = "40m"
fault = "recovery"
failures = { from = 0.8, to = 0.0 }
capacity = { from = 0.2, to = 1.0 })");
    CHECK(reject_share(e, 0s) == Approx(0.8).margin(0.03));
    CHECK(reject_share(e, 20min) == Approx(0.4).margin(0.03));
    CHECK(e.capacity_factor(0s) == Approx(0.2));
    CHECK(e.capacity_factor(20min) == Approx(0.6));
    CHECK(e.capacity_factor(40min) == 1.0);
}

TEST_CASE("flapping alternates up and down periods", "[faults][flapping]") {
    auto e =
        engine("[[phases]]\nstart = \"10m\"\nfault = \"flapping\"\nup = \"5m\"\ndown = \"2m\"\n");
    CHECK(reject_share(e, 12min, 100) == 0.0);  // up
    CHECK(reject_share(e, 16min, 100) == 1.0);  // down (5m..7m into the phase)
    CHECK(reject_share(e, 18min, 100) == 0.0);  // up again
    CHECK(reject_share(e, 23min, 100) == 1.0);  // down in the second cycle
}

TEST_CASE("a phase can be restricted to some models", "[faults][engine]") {
    auto e =
        engine("[[phases]]\nstart = \"0s\"\nfault = \"outage\"\nmodels = [\"gpt-4.1-nano\"]\n");
    CHECK(e.decide(0s, RequestFacts{"gpt-4.1-nano"}).reject);
    CHECK(e.decide(0s, RequestFacts{"gpt-4o"}).is_normal());
}

TEST_CASE("phases injected at runtime apply until cleared", "[faults][engine]") {
    auto e = engine("");
    CHECK(e.decide(5min, chat()).is_normal());
    e.inject(phase_from_json(R"({"fault":"busy","status":529,"duration":"10m"})", 5min));
    CHECK(e.decide(6min, chat()).reject->status == 529);
    CHECK(e.decide(16min, chat()).is_normal());  // its duration passed
    e.inject(phase_from_json(R"({"fault":"outage"})", 20min));
    CHECK(e.decide(21min, chat()).reject);
    CHECK(e.clear_injected() == 2);
    CHECK(e.decide(22min, chat()).is_normal());
}

TEST_CASE("the x-brownout-fault header forces one fault on one request", "[faults][header]") {
    auto e = engine("");
    auto spec = phase_from_header("busy;status=429;retry_after=2s;message=slow down");
    auto plan = e.decide(0s, chat(), &spec);
    REQUIRE(plan.reject);
    CHECK(plan.reject->status == 429);
    CHECK(plan.reject->retry_after == 2s);
    CHECK(plan.reject->message == "slow down");
    CHECK(e.decide(0s, chat()).is_normal());
    CHECK_THROWS_AS(phase_from_header("bussy"), Error);
}

TEST_CASE("phase errors name file, line, column and key", "[faults][validation]") {
    CHECK(error_of("[[phases]]\nstart = \"10m\"\nend = \"5m\"\nfault = \"busy\"\n") ==
          "t.toml:3:7: phases[0].end: the phase ends (5m) before it starts (10m)");
    CHECK(error_of("[[phases]]\nstart = \"0s\"\nfault = \"bussy\"\n") ==
          "t.toml:3:9: phases[0].fault: unknown fault kind \"bussy\", did you mean \"busy\"? "
          "(known: outage, busy, rate_limit, latency, stall, disconnect, malformed, stream_error, "
          "feature_loss, recovery, flapping, hold)");
    CHECK(error_of("[[phases]]\nstart = \"0s\"\nfault = \"busy\"\nrate = 1.5\n") ==
          "t.toml:4:8: phases[0].rate: 1.5 is outside [0, 1]");
    CHECK(error_of("[[phases]]\nstart = \"0s\"\nfault = \"busy\"\nstatuss = 503\n") ==
          "t.toml:4:1: phases[0].statuss: unknown key (did you mean \"status\"?)");
    CHECK_THAT(error_of("[[phases]]\nstart = \"soon\"\nfault = \"busy\"\n"),
               Catch::Contains("phases[0].start: \"soon\" is not a duration"));
    CHECK_THAT(
        error_of("[[phases]]\nstart = \"0s\"\nfault = \"busy\"\nrate = { from = 0.2, to = 2 }\n"),
        Catch::Contains("phases[0].rate.to: 2 is outside [0, 1]"));
    CHECK_THAT(
        error_of("[[phases]]\nstart = \"0s\"\nfault = \"outage\"\nmode = \"refuse\"\nrate = 0.5\n"),
        Catch::Contains("its rate must be 1.0"));
}

TEST_CASE("a phase can say how long its incident stays in monitoring before it is resolved",
          "[faults][status]") {
    auto e = engine(R"([[phases]]
start = "10m"
end = "40m"
fault = "busy"
status_page = { resolved_after = "16m" })",
                    2h);
    StatusPageConfig config{{"API"}, 7min};
    CHECK(status_at(e, config, 50min).incidents.at(0).status ==
          "monitoring");  // ended at 40m, seen at 47m
    CHECK(status_at(e, config, 62min).incidents.at(0).status == "monitoring");
    CHECK(status_at(e, config, 63min).incidents.at(0).status == "resolved");  // 47m + 16m
    CHECK_THAT(error_of("[[phases]]\nstart = \"0s\"\nfault = \"busy\"\nstatus_page = { "
                        "resolved_after = \"later\" }\n"),
               Catch::Contains("phases[0].status_page.resolved_after"));
}

TEST_CASE("the status page follows the timeline after its lag", "[faults][status]") {
    auto e = engine(R"([[phases]]
name = "major outage"
start = "10m"
end = "40m"
fault = "outage"
[[phases]]
name = "vision still missing"
start = "30m"
fault = "feature_loss"
features = ["vision"]
[[phases]]
name = "silent 529s"
start = "50m"
end = "55m"
fault = "busy"
status_page = { visible = false })",
                    2h);
    StatusPageConfig config{{"API", "Web Chat", "Image Recognition"}, 8min};
    auto at = [&](Duration t) { return status_at(e, config, t); };

    auto before = at(15min);  // the outage began at 10m but is published at 18m
    CHECK(before.indicator == "none");
    CHECK(before.incidents.empty());

    auto during = at(20min);
    CHECK(during.components[0].status == ComponentStatus::major_outage);
    CHECK(during.components[2].status == ComponentStatus::operational);
    CHECK(during.indicator == "critical");
    REQUIRE(during.incidents.size() == 1);
    CHECK(during.incidents[0].status == "investigating");
    CHECK(during.incidents[0].name == "major outage");

    auto after = at(60min);  // outage over (monitoring, then resolved); vision still gone
    CHECK(after.components[0].status == ComponentStatus::operational);
    CHECK(after.components[2].status == ComponentStatus::major_outage);  // feature → its component
    REQUIRE(after.incidents.size() == 2);
    CHECK(after.incidents[1].status == "resolved");
    CHECK(after.incidents[1].updates.front().status == "resolved");  // newest first

    auto silent = at(62min);  // the 529 phase is running and the page says nothing of it
    for (const auto& inc : silent.incidents) CHECK(inc.name != "silent 529s");
}
