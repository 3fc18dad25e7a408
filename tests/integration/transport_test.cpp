// The harness's HTTP transport against a live fleet: what its connection pool does.

#include "harness/transport.h"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <functional>

#include "core/real_scheduler.h"
#include "harness/policies/policy.h"
#include "tests/integration/fleet_fixture.h"

using namespace brownout;
using namespace brownout::harness;
using namespace brownout::test;
using namespace std::chrono_literals;

namespace {

const std::string kPooledChat =
    R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]})";

// The fleet's count of connections it accepted, from its metrics.
std::string accepted_connections(LiveFleet& f) {
    auto text = f.fleet->metrics().render();
    auto at = text.find("brownout_connections_total{provider=\"openai\"");
    if (at == std::string::npos) return "";
    return text.substr(at, text.find('\n', at) - at);
}

}  // namespace

TEST_CASE(
    "the HTTP transport keeps its connection alive: attempts one after another, each answered "
    "in full, go over one connection",
    "[integration][transport]") {
    LiveFleet f({fast_provider()});
    boost::asio::io_context ioc;
    RealScheduler scheduler(ioc, f.clock);
    ProviderAddress address;
    address.id = "openai";
    address.host = "127.0.0.1";
    address.port = f.port();
    address.model = "gpt-4o-mini";
    HttpTransport transport(ioc, {address}, scheduler);

    constexpr int kAttempts = 6;
    std::vector<AttemptResult> results;
    std::function<void()> next = [&] {
        wire::ClientRequest request;
        request.path = "/v1/chat/completions";
        request.headers = {{"content-type", "application/json"}};
        request.body = kPooledChat;
        transport.send(0, std::move(request), 5s, [&](AttemptResult r) {
            results.push_back(std::move(r));
            if (results.size() < kAttempts) return next();
            transport.close_all();
            scheduler.stop();
        });
    };
    boost::asio::post(ioc, next);
    ioc.run_for(10s);

    REQUIRE(results.size() == kAttempts);
    for (const auto& r : results) {
        CHECK(r.kind == AttemptResult::Kind::answer);
        CHECK(r.status == 200);
        CHECK_FALSE(r.text.empty());
    }
    CHECK(accepted_connections(f) == "brownout_connections_total{provider=\"openai\"} 1");
}
