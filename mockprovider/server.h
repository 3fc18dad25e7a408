#pragma once
// The HTTP shell around providers: a listener per provider that hands each connection to a
// session; the session reads a request, asks its Provider for a Reply and carries it out —
// delays, paced SSE frames, stalls, cuts, resets. Streaming is session state, not a thread.

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "mockprovider/control.h"
#include "mockprovider/provider.h"

namespace brownout::mock {

struct ServerLimits {
    std::size_t max_header_bytes = 16 * 1024;          // 431 beyond
    std::chrono::milliseconds header_timeout{10'000};  // a request's head must arrive within this
    std::chrono::milliseconds idle_timeout{120'000};   // keep-alive connections idle longer are closed
    std::chrono::milliseconds shutdown_grace{2'000};   // open streams get this long to finish
    ControlAccess control;                             // control API token (empty: loopback only)
};

struct Endpoint {
    std::string provider;
    std::string host;
    unsigned short port = 0;
    std::string url() const;
};

class ProviderServer;

// A set of providers served from one io_context (one thread by default), sharing a clock,
// an attempt journal and metrics.
class Fleet {
public:
    Fleet(std::vector<ProviderConfig> providers, std::shared_ptr<Clock> clock, ServerLimits limits = {});
    ~Fleet();
    Fleet(const Fleet&) = delete;
    Fleet& operator=(const Fleet&) = delete;

    // Binds every provider (port 0 picks a free one) and starts `threads` threads.
    // Throws brownout::Error when a port cannot be bound.
    void start(const std::string& host, const std::vector<unsigned short>& ports, int threads = 1);
    std::vector<Endpoint> endpoints() const;

    Provider& provider(std::string_view id);
    std::vector<Provider*> providers();
    AttemptJournal& journal() { return journal_; }
    Metrics& metrics() { return metrics_; }
    const Clock& clock() const { return *clock_; }

    // Stops accepting, lets open answers finish within the grace period, then closes the rest.
    void shutdown();
    // Blocks until every thread has ended (after shutdown()).
    void join();

private:
    boost::asio::io_context ioc_;
    std::shared_ptr<Clock> clock_;
    ServerLimits limits_;
    AttemptJournal journal_;
    Metrics metrics_;
    std::vector<std::unique_ptr<Provider>> providers_;
    std::vector<std::shared_ptr<ProviderServer>> servers_;
    std::vector<std::thread> threads_;
    bool stopped_ = false;
};

// The fleet description written by --ready-file: {"providers":[{"id":...,"url":...}]}.
std::string ready_json(const std::vector<Endpoint>& endpoints);

}  // namespace brownout::mock
