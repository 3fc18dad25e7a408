#pragma once
// A fleet on loopback for one test: real sockets, a real clock.

#include <memory>

#include "mockprovider/server.h"

namespace brownout::test {

struct LiveFleet {
    std::shared_ptr<ScaledClock> clock;
    std::unique_ptr<mock::Fleet> fleet;

    explicit LiveFleet(std::vector<mock::ProviderConfig> providers, double time_scale = 1.0,
                       mock::ServerLimits limits = quick_limits()) {
        clock = std::make_shared<ScaledClock>(time_scale);
        fleet = std::make_unique<mock::Fleet>(std::move(providers), clock, limits);
        fleet->start("127.0.0.1", {}, 1);
    }
    ~LiveFleet() {
        fleet->shutdown();
        fleet->join();
    }
    unsigned short port(std::size_t i = 0) const { return fleet->endpoints().at(i).port; }
    mock::Provider& provider(std::size_t i = 0) { return *fleet->providers().at(i); }

    static mock::ServerLimits quick_limits() {
        mock::ServerLimits l;
        l.shutdown_grace = std::chrono::milliseconds(200);
        l.header_timeout = std::chrono::milliseconds(1500);
        return l;
    }
};

inline mock::ProviderConfig fast_provider(std::string id = "openai",
                                          wire::DialectKind dialect = wire::DialectKind::openai) {
    mock::ProviderConfig p;
    p.id = std::move(id);
    p.dialect = dialect;
    p.vendor =
        dialect == wire::DialectKind::anthropic ? wire::Vendor::anthropic : wire::Vendor::openai;
    p.models = dialect == wire::DialectKind::anthropic
                   ? std::vector<std::string>{"claude-sonnet-4-5"}
                   : std::vector<std::string>{"gpt-4o-mini"};
    p.latency = {std::chrono::milliseconds(20), 500, 0.0};
    p.answer = {8, 8};
    return p;
}

}  // namespace brownout::test
