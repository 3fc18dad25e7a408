#include "harness/serve.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <ostream>
#include <sstream>

#include "core/error.h"
#include "mockprovider/server.h"

namespace brownout::harness {

void write_file_atomically(const std::string& path, const std::string& content) {
    std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << content;
        out.flush();
        if (!out) {
            std::remove(tmp.c_str());
            throw Error(fmt::format("cannot write {}", path));
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw Error(fmt::format("cannot write {}", path));
    }
}

std::string read_text_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) throw Error(fmt::format("{}: cannot read it", path));
    return text.str();
}

void apply_limit_flags(mock::ServerLimits& limits, const LimitFlags& flags) {
    for (const auto& [name, value] : flags) {
        if (auto problem = mock::set_server_limit(limits, name, value); !problem.empty()) {
            std::string flag = name;
            std::replace(flag.begin(), flag.end(), '_', '-');
            throw Error(fmt::format("--{}: {}", flag, problem));
        }
    }
}

int serve(const Scenario& scenario, const ServeOptions& options, std::ostream& log) {
    double scale = options.time_scale.value_or(scenario.time_scale);
    Duration start_at = options.start_at;
    if (options.epoch_unix) {
        auto epoch =
            std::chrono::system_clock::from_time_t(static_cast<std::time_t>(*options.epoch_unix));
        auto elapsed = std::chrono::system_clock::now() - epoch;
        start_at = std::chrono::duration_cast<Duration>(
            std::chrono::duration<double, std::nano>(elapsed) * scale);
        if (start_at < Duration::zero()) {
            throw Error(fmt::format(
                "--epoch: {} is {} in the future; the timeline cannot start before its epoch",
                *options.epoch_unix,
                format_duration(std::chrono::round<std::chrono::seconds>(-elapsed))));
        }
    }
    auto clock = std::make_shared<ScaledClock>(scale, start_at);
    mock::ServerLimits limits = scenario.server;
    apply_limit_flags(limits, options.limits);
    if (!options.control_token.empty()) limits.control.token = options.control_token;
    mock::Fleet fleet(scenario.providers, clock, limits);
    std::vector<unsigned short> ports;
    for (std::size_t i = 0; i < scenario.providers.size(); ++i) {
        ports.push_back(options.port == 0 ? 0 : static_cast<unsigned short>(options.port + i));
    }

    // Signals are set up before the fleet starts so that none is lost.
    boost::asio::io_context signals_ioc;
    boost::asio::signal_set signals(signals_ioc, SIGINT, SIGTERM);
    int received = 0;
    signals.async_wait([&](const boost::system::error_code& ec, int signal) {
        if (!ec) received = signal;
    });

    fleet.start(options.host, ports, options.threads);
    auto endpoints = fleet.endpoints();
    log << fmt::format("brownout serve: scenario {} (time scale {}, seed {}), scenario time {}{}\n",
                       scenario.name, scale, scenario.seed,
                       format_duration(std::chrono::round<std::chrono::seconds>(start_at)),
                       options.epoch_unix ? fmt::format(" (epoch {})", *options.epoch_unix) : "");
    for (const auto& e : endpoints) {
        const auto& p = fleet.provider(e.provider).config();
        log << fmt::format("  {:<12} {:<28} {} {}\n", e.provider, e.url(),
                           wire::to_string(p.dialect), fmt::join(p.models, ","));
    }
    log.flush();
    if (!options.ready_file.empty())
        write_file_atomically(options.ready_file, mock::ready_json(endpoints) + "\n");

    signals_ioc.run();
    log << fmt::format("brownout serve: signal {}, shutting down\n", received);
    log.flush();
    fleet.shutdown();
    fleet.join();
    return 0;
}

}  // namespace brownout::harness
