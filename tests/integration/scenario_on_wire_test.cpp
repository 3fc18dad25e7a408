// A scenario's timeline carried out on real sockets: faults, status page, control API,
// capacity and refused connections, observed as a client sees them.

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <future>
#include <optional>
#include <thread>

#include "harness/scenario.h"
#include "tests/integration/fleet_fixture.h"
#include "tests/support/http_client.h"

using namespace brownout;
using namespace brownout::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

const std::string kDeepSeekHello =
    R"({"model":"deepseek-chat","messages":[{"role":"user","content":"hello"}]})";

struct ScenarioFleet {
    std::shared_ptr<ScaledClock> clock;
    std::unique_ptr<mock::Fleet> fleet;
    explicit ScenarioFleet(const std::string& toml,
                           mock::ServerLimits limits = LiveFleet::quick_limits()) {
        auto s = harness::load_scenario_text(toml, "test.toml");
        clock = std::make_shared<ScaledClock>(s.time_scale);
        fleet = std::make_unique<mock::Fleet>(s.providers, clock, limits);
        fleet->start("127.0.0.1", {}, 1);
    }
    ~ScenarioFleet() {
        fleet->shutdown();
        fleet->join();
    }
    unsigned short port(std::size_t i = 0) const { return fleet->endpoints().at(i).port; }
    void jump(Duration at) { clock->jump_to(at); }
};

const std::string kWireIncident = R"(
[scenario]
name = "incident"
duration = "6h"
time_scale = 1
seed = 5

[[providers]]
id = "deepseek"
dialect = "openai"
vendor = "deepseek"
models = ["deepseek-chat"]
latency = { ttft = "10ms", tokens_per_second = 1000, jitter = 0 }
status_page = { components = ["API Service", "Image Recognition"], lag = "8m" }

  [[providers.phases]]
  name = "server busy storm"
  start = "1h"
  end = "2h"
  fault = "busy"
  message = "Server busy, please try again later."
  retry_after = "30s"

  [[providers.phases]]
  name = "vision still missing"
  start = "3h"
  fault = "feature_loss"
  features = ["vision"]
)";

}  // namespace

TEST_CASE("serve follows the timeline: healthy, busy storm, then vision missing",
          "[integration][timeline]") {
    ScenarioFleet f(kWireIncident);
    CHECK(http(f.port(), "POST", "/chat/completions", kDeepSeekHello).status == 200);

    f.jump(1h + 1min);
    auto busy = http(f.port(), "POST", "/chat/completions", kDeepSeekHello);
    CHECK(busy.status == 503);
    CHECK(busy.header("retry-after") == "30");
    CHECK(json::parse(busy.body).at("error").at("message").as_string() ==
          "Server busy, please try again later.");

    f.jump(3h + 1min);
    CHECK(http(f.port(), "POST", "/chat/completions", kDeepSeekHello).status == 200);
    auto image = http(
        f.port(), "POST", "/chat/completions",
        R"({"model":"deepseek-chat","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/cat.png"}}]}]})");
    CHECK(image.status == 400);
    CHECK_THAT(image.body, Catch::Contains("unknown variant `image_url`"));

    std::this_thread::sleep_for(50ms);
    auto journal = f.fleet->journal().since(0);
    REQUIRE(journal.size() == 4);
    CHECK(journal[0].fault.empty());
    CHECK(journal[1].fault == "busy");
    CHECK(journal[3].fault == "feature_loss");
}

TEST_CASE("the status page trails the timeline by its lag, in Statuspage v2 form",
          "[integration][status]") {
    ScenarioFleet f(kWireIncident);
    f.jump(1h + 5min);  // busy since 1h, published at 1h08m
    auto early = json::parse(http(f.port(), "GET", "/api/v2/status.json").body).as_object();
    CHECK(early.at("status").at("indicator").as_string() == "none");
    CHECK(early.at("page").as_object().contains("time_zone"));

    f.jump(1h + 10min);
    auto status = json::parse(http(f.port(), "GET", "/api/v2/status.json").body).as_object();
    CHECK(status.at("status").at("indicator").as_string() != "none");
    auto components = json::parse(http(f.port(), "GET", "/api/v2/components.json").body)
                          .at("components")
                          .as_array();
    CHECK(components[0].at("name").as_string() == "API Service");
    CHECK(components[0].at("status").as_string() == "partial_outage");
    CHECK(components[1].at("status").as_string() == "operational");
    auto unresolved = json::parse(http(f.port(), "GET", "/api/v2/incidents/unresolved.json").body)
                          .at("incidents")
                          .as_array();
    REQUIRE(unresolved.size() == 1);
    CHECK(unresolved[0].at("name").as_string() == "server busy storm");
    CHECK(unresolved[0].at("status").as_string() == "investigating");
    CHECK(unresolved[0]
              .at("incident_updates")
              .as_array()[0]
              .at("affected_components")
              .as_array()[0]
              .at("name")
              .as_string() == "API Service");

    f.jump(5h);
    auto summary = json::parse(http(f.port(), "GET", "/api/v2/summary.json").body).as_object();
    auto comps = summary.at("components").as_array();
    CHECK(comps[0].at("status").as_string() == "operational");
    CHECK(comps[1].at("status").as_string() == "major_outage");  // Image Recognition
    auto all = json::parse(http(f.port(), "GET", "/api/v2/incidents.json").body)
                   .at("incidents")
                   .as_array();
    CHECK(all.size() == 2);

    // Back in time (the control API's jump): the page is what it was then, not what it saw last.
    f.jump(1h + 10min);
    auto again = json::parse(http(f.port(), "GET", "/api/v2/components.json").body)
                     .at("components")
                     .as_array();
    CHECK(again[0].at("status").as_string() == "partial_outage");
    CHECK(again[1].at("status").as_string() == "operational");
    CHECK(json::parse(http(f.port(), "GET", "/api/v2/incidents.json").body)
              .at("incidents")
              .as_array()
              .size() == 1);
}

TEST_CASE("the control API injects and clears faults and moves the clock",
          "[integration][control]") {
    ScenarioFleet f(kWireIncident);
    auto state = json::parse(http(f.port(), "GET", "/_brownout/state").body).as_object();
    CHECK(state.at("active_phases").as_array().empty());

    auto posted = http(f.port(), "POST", "/_brownout/faults",
                       R"({"fault":"busy","status":529,"name":"injected 529s","duration":"10m"})");
    CHECK(posted.status == 201);
    CHECK(http(f.port(), "POST", "/chat/completions", kDeepSeekHello).status == 529);
    state = json::parse(http(f.port(), "GET", "/_brownout/state").body).as_object();
    CHECK(state.at("active_phases").as_array()[0].at("name").as_string() == "injected 529s");
    CHECK(state.at("active_phases").as_array()[0].at("injected").as_bool());

    CHECK(
        json::parse(http(f.port(), "DELETE", "/_brownout/faults").body).at("cleared").as_int64() ==
        1);
    CHECK(http(f.port(), "POST", "/chat/completions", kDeepSeekHello).status == 200);

    auto bad = http(f.port(), "POST", "/_brownout/faults", R"({"fault":"bussy"})");
    CHECK(bad.status == 400);
    CHECK_THAT(std::string(json::parse(bad.body).at("error").as_string()),
               Catch::Contains("did you mean \"busy\""));

    auto moved =
        json::parse(
            http(f.port(), "POST", "/_brownout/clock", R"({"at":"1h30m","pause":true})").body)
            .as_object();
    CHECK(moved.at("paused").as_bool());
    CHECK(moved.at("scenario_time").as_string() == "1h30m");
    CHECK(http(f.port(), "POST", "/chat/completions", kDeepSeekHello).status == 503);
    http(f.port(), "POST", "/_brownout/clock", R"({"resume":true})");
    CHECK_FALSE(json::parse(http(f.port(), "GET", "/_brownout/state").body).at("paused").as_bool());
}

TEST_CASE("a control token is required when one is configured", "[integration][control]") {
    auto limits = LiveFleet::quick_limits();
    limits.control.token = "s3cret";
    ScenarioFleet f(kWireIncident, limits);
    CHECK(http(f.port(), "GET", "/_brownout/state").status == 401);
    CHECK(http(f.port(), "GET", "/_brownout/state", "", {{"Authorization", "Bearer wrong!"}})
              .status == 401);
    CHECK(http(f.port(), "GET", "/_brownout/state", "", {{"Authorization", "Bearer s3cret"}})
              .status == 200);
}

TEST_CASE("x-brownout-fault forces one fault on one request", "[integration][header]") {
    ScenarioFleet f(kWireIncident);
    auto forced = http(f.port(), "POST", "/chat/completions", kDeepSeekHello,
                       {{"x-brownout-fault", "busy;status=429;retry_after=2s"}});
    CHECK(forced.status == 429);
    CHECK(forced.header("retry-after") == "2");
    CHECK(http(f.port(), "POST", "/chat/completions", kDeepSeekHello).status ==
          200);  // that request alone
    // ...unless it asks to hold the client to its wait, as a timeline's 429 does.
    CHECK(http(f.port(), "POST", "/chat/completions", kDeepSeekHello,
               {{"x-brownout-fault", "busy;status=429;retry_after=2s;enforce_retry_after=true"}})
              .status == 429);
    auto held = http(f.port(), "POST", "/chat/completions", kDeepSeekHello);
    CHECK(held.status == 429);
    REQUIRE_FALSE(held.header("retry-after").empty());
    CHECK(std::stod(held.header("retry-after")) <= 2.0);  // what remains of the wait
    auto reset = http(f.port(), "POST", "/chat/completions", kDeepSeekHello,
                      {{"x-brownout-fault", "outage;mode=reset"}});
    CHECK(reset.status == 0);
    auto bad = http(f.port(), "POST", "/chat/completions", kDeepSeekHello,
                    {{"x-brownout-fault", "nonsense"}});
    CHECK(bad.status == 400);
    CHECK_THAT(bad.body, Catch::Contains("x-brownout-fault"));
}

TEST_CASE("an outage with mode refuse closes the port, and it opens again after",
          "[integration][refuse]") {
    ScenarioFleet f(R"(
[scenario]
name = "refuse"
duration = "1h"
[[providers]]
id = "p"
models = ["m"]
latency = { ttft = "0", tokens_per_second = 0 }
  [[providers.phases]]
  start = "10m"
  end = "20m"
  fault = "outage"
  mode = "refuse"
)");
    auto port = f.port();
    CHECK(http(port, "POST", "/v1/chat/completions",
               R"({"model":"m","messages":[{"role":"user","content":"x"}]})")
              .status == 200);
    f.jump(10min);
    std::this_thread::sleep_for(150ms);  // the jump reaches the acceptor's strand
    CHECK_THROWS(HttpConnection(port));  // connection refused
    f.jump(20min);
    std::this_thread::sleep_for(150ms);
    CHECK(http(port, "POST", "/v1/chat/completions",
               R"({"model":"m","messages":[{"role":"user","content":"x"}]})")
              .status == 200);
}

TEST_CASE("capacity: concurrency slots, a bounded queue, busy beyond it",
          "[integration][capacity]") {
    ScenarioFleet f(R"(
[scenario]
name = "capacity"
duration = "1h"
[[providers]]
id = "p"
models = ["m"]
latency = { ttft = "300ms", tokens_per_second = 0, jitter = 0 }
capacity = { concurrency = 2, queue = 1 }
)");
    auto port = f.port();
    std::vector<std::future<HttpResult>> results;
    for (int i = 0; i < 5; ++i) {
        results.push_back(std::async(std::launch::async, [port] {
            return http(port, "POST", "/v1/chat/completions",
                        R"({"model":"m","messages":[{"role":"user","content":"x"}]})");
        }));
        std::this_thread::sleep_for(20ms);
    }
    int ok = 0, busy = 0;
    std::optional<std::chrono::steady_clock::time_point> first_sent, last_answer;
    for (auto& r : results) {
        auto res = r.get();
        ok += res.status == 200;
        busy += res.status == 503;
        first_sent = std::min(first_sent.value_or(res.sent_at), res.sent_at);
        if (res.status == 200)
            last_answer = std::max(last_answer.value_or(res.head_at), res.head_at);
    }
    CHECK(ok == 3);    // two at once, one after waiting in the queue
    CHECK(busy == 2);  // no room left
    // The queued one waited for a slot: its answer came two answers' time (2 × 300 ms) after the
    // first request was sent, however late the machine let the clients send theirs.
    REQUIRE(last_answer);
    CHECK(*last_answer - *first_sent >= 600ms);
    std::this_thread::sleep_for(50ms);
    int capacity_faults = 0;
    for (const auto& a : f.fleet->journal().since(0)) capacity_faults += a.fault == "capacity";
    CHECK(capacity_faults == 2);
}

TEST_CASE("each fault kind of a compressed scenario is visible on the wire",
          "[integration][kinds]") {
    ScenarioFleet f(R"(
[scenario]
name = "kinds"
duration = "2h"
time_scale = 1
[[providers]]
id = "p"
models = ["m", "m-old"]
latency = { ttft = "20ms", tokens_per_second = 500, jitter = 0 }
answer = { min_tokens = 10, max_tokens = 10 }
  [[providers.phases]]
  start = "10m"
  end = "20m"
  fault = "latency"
  ttft_factor = 15
  [[providers.phases]]
  start = "20m"
  end = "30m"
  fault = "rate_limit"
  requests_per_minute = 1
  [[providers.phases]]
  start = "30m"
  end = "40m"
  fault = "flapping"
  up = "5m"
  down = "5m"
  [[providers.phases]]
  start = "40m"
  end = "50m"
  fault = "malformed"
  variant = "html_502"
  [[providers.phases]]
  start = "50m"
  end = "60m"
  fault = "disconnect"
  after_bytes = 40
  [[providers.phases]]
  start = "60m"
  end = "70m"
  fault = "malformed"
  variant = "invalid_json"
  [[providers.phases]]
  start = "70m"
  end = "80m"
  fault = "feature_loss"
  models = ["m-old"]
  [[providers.phases]]
  start = "80m"
  end = "90m"
  fault = "feature_loss"
  features = ["stream"]
  behavior = "ignore"
)");
    const std::string chat = R"({"model":"m","messages":[{"role":"user","content":"x"}]})";
    auto post = [&](const std::string& body = "") {
        return http(f.port(), "POST", "/v1/chat/completions", body.empty() ? chat : body);
    };

    auto fast = post();
    f.jump(10min);
    auto slow = post();
    CHECK(slow.head_at - slow.sent_at >= 250ms);  // 15 × 20 ms
    CHECK(fast.head_at - fast.sent_at < slow.head_at - slow.sent_at);

    f.jump(20min);
    auto first = post();
    CHECK(first.status == 200);
    CHECK(first.header("x-ratelimit-limit-requests") == "1");
    CHECK(first.header("x-ratelimit-remaining-requests") == "0");
    auto limited = post();
    CHECK(limited.status == 429);
    CHECK_FALSE(limited.header("retry-after").empty());
    CHECK_THAT(limited.body, Catch::Contains("Rate limit reached for m"));

    f.jump(31min);
    CHECK(post().status == 200);  // up
    f.jump(36min);
    CHECK(post().status == 503);  // down

    f.jump(41min);
    auto html = post();
    CHECK(html.status == 502);
    CHECK(html.header("content-type") == "text/html");

    f.jump(51min);
    auto cut = post();
    CHECK(cut.status == 200);
    CHECK_FALSE(cut.error.empty());  // the body ended early

    f.jump(61min);
    auto broken = post();
    CHECK(broken.status == 200);
    CHECK_THROWS(boost::json::parse(broken.body));

    f.jump(71min);
    CHECK(post(R"({"model":"m-old","messages":[{"role":"user","content":"x"}]})").status == 404);
    CHECK(post().status == 200);

    f.jump(81min);
    auto unstreamed =
        post(R"({"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]})");
    CHECK(unstreamed.status == 200);
    CHECK(unstreamed.header("content-type") ==
          "application/json");  // the stream came back as one body
}

TEST_CASE("an attempt's duration is the scenario time it ran, whatever the clock did meanwhile",
          "[integration][clock]") {
    ScenarioFleet f(R"(
[scenario]
name = "durations"
duration = "6h"
time_scale = 100
[[providers]]
id = "p"
models = ["m"]
latency = { ttft = "20s", tokens_per_second = 0, jitter = 0 }
)");
    auto port = f.port();
    auto answer = std::async(std::launch::async, [port] {
        return http(port, "POST", "/v1/chat/completions",
                    R"({"model":"m","messages":[{"role":"user","content":"x"}]})");
    });
    std::this_thread::sleep_for(50ms);  // 5 s into the 20 s answer
    f.jump(3h);                         // moves the timeline, not the answer under way
    f.clock->pause();
    std::this_thread::sleep_for(300ms);  // 30 s of scenario time, had the clock not been paused
    f.clock->resume();
    CHECK(answer.get().status == 200);
    std::this_thread::sleep_for(50ms);
    auto attempts = f.fleet->journal().since(0);
    REQUIRE(attempts.size() == 1);
    // 20 s plus whatever the machine was late by (wall lateness × 100); the pause's 30 s and the
    // jump's 3 h are not in it.
    CHECK(attempts[0].duration >= 20s);
    CHECK(attempts[0].duration < 35s);
}
