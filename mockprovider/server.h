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
#include "core/real_scheduler.h"
#include "mockprovider/control.h"
#include "mockprovider/provider.h"

namespace brownout::mock {

// The server's own limits, in wall time (not scenario time): they protect the mock and the
// machine it runs on, whatever a scenario or a client does. Per provider listener.
struct ServerLimits {
    std::size_t max_header_bytes = std::size_t{16} * 1024;  // 431 beyond
    std::chrono::milliseconds header_timeout{
        10'000};  // a connection's first request must arrive within this
    std::chrono::milliseconds idle_timeout{
        120'000};  // keep-alive connections idle longer are closed
    std::chrono::milliseconds shutdown_grace{2'000};  // open streams get this long to finish
    std::size_t max_connections =
        10'000;  // open connections; beyond, a new one is closed at once (0: no limit)
    std::size_t max_streams =
        5'000;  // concurrent SSE answers; beyond, the provider's 503/529 (0: no limit)
    std::size_t journal_entries =
        20'000;  // attempts the journal keeps, the newest (0: all; a run keeps its own record)
    ControlAccess control;  // control API token (empty: loopback only)
};

// Reads a limit by its name (the [server] table's keys and the `--max-connections`-style flags):
// max_header_bytes, header_timeout, idle_timeout, shutdown_grace, max_connections, max_streams,
// journal_entries.
// Durations are Go-style ("10s", "2m"). Returns an error message, or "" when it was set.
std::string set_server_limit(ServerLimits& limits, std::string_view name, std::string_view value);
const std::vector<std::string>& server_limit_names();

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
    // Every timer of the fleet runs on its own scheduler over `clock`, which other fleets (every
    // stack of a run) may share.
    Fleet(std::vector<ProviderConfig> providers, std::shared_ptr<ScaledClock> clock,
          ServerLimits limits = {});
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
    Scheduler& scheduler() { return *scheduler_; }

    // Stops accepting, lets open answers finish within the grace period, then closes the rest.
    void shutdown();
    // Blocks until every thread has ended (after shutdown()).
    void join();

private:
    boost::asio::io_context ioc_;
    std::shared_ptr<ScaledClock> clock_;
    std::unique_ptr<RealScheduler> scheduler_;
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
