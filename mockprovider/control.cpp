#include "mockprovider/control.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <charconv>

#include "core/error.h"
#include "core/text.h"

namespace brownout::mock {
namespace {

ControlResult error(int status, std::string_view message) {
    return {status, fmt::format("{{\"error\":{}}}", json_string(message))};
}

std::string state_json(Provider& p) {
    Duration now = p.clock().now();
    std::string phases = "[";
    std::uint64_t decisions = 0;
    {
        std::lock_guard lock(p.engine_mutex());
        bool first = true;
        for (const auto& a : p.engine().active(now)) {
            if (!first) phases += ",";
            first = false;
            phases += fmt::format(
                "{{\"name\":{},\"fault\":{},\"start\":{},\"end\":{},\"injected\":{},\"progress\":{:"
                ".4f}}}",
                json_string(a.name), json_string(a.fault), json_string(format_duration(a.start)),
                a.end ? json_string(format_duration(*a.end)) : "null",
                a.injected ? "true" : "false", a.progress);
        }
        decisions = p.engine().decisions();
    }
    phases += "]";
    auto load = p.load();
    const ScaledClock* clock = p.controllable_clock();
    return fmt::format(
        "{{\"provider\":{},\"scenario_time\":{},\"scenario_time_ms\":{:.3f},\"time_scale\":{},"
        "\"paused\":{},"
        "\"active_phases\":{},\"capacity\":{{\"in_service\":{},\"queued\":{},\"limit\":{}}},"
        "\"attempts\":{},\"decisions\":{}}}",
        json_string(p.config().id),
        json_string(format_duration(std::chrono::round<std::chrono::milliseconds>(now))),
        to_seconds(now) * 1e3, p.clock().time_scale(), clock && clock->paused() ? "true" : "false",
        phases, load.in_service, load.queued, load.limit, p.journal().size(), decisions);
}

std::string journal_json(Provider& p, std::string_view target) {
    std::uint64_t since = 0;
    if (auto at = target.find("since="); at != std::string_view::npos) {
        std::from_chars(target.data() + at + 6, target.data() + target.size(), since);
    }
    bool fleet = target.find("fleet=1") != std::string_view::npos;
    auto attempts = p.journal().since(since, 10'000);
    if (!fleet)
        std::erase_if(attempts, [&](const Attempt& a) { return a.provider != p.config().id; });
    std::string out = "{\"attempts\":[";
    for (std::size_t i = 0; i < attempts.size(); ++i) {
        if (i > 0) out += ",";
        out += attempt_to_json(attempts[i]);
    }
    // "oldest": the journal keeps a window (ServerLimits::journal_entries); a reader that fell
    // behind sees which attempts it missed.
    out += fmt::format("],\"next\":{},\"oldest\":{}}}",
                       attempts.empty() ? since : attempts.back().seq, p.journal().oldest());
    return out;
}

ControlResult clock_control(Provider& p, const std::string& body) {
    ScaledClock* clock = p.controllable_clock();
    if (clock == nullptr) return error(409, "this fleet's clock cannot be moved");
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object())
        return error(400,
                     "expected a JSON object: {\"at\":\"2h\"}, {\"advance\":\"10m\"}, "
                     "{\"pause\":true} or {\"resume\":true}");
    const auto& o = v.as_object();
    for (const auto& [key, value] : o) {
        if (key == "at" || key == "advance") {
            if (!value.is_string())
                return error(400,
                             fmt::format("{}: expected a duration string", std::string_view(key)));
            auto d = parse_duration(std::string_view(value.get_string()));
            if (!d)
                return error(400, fmt::format("{}: \"{}\" is not a duration", std::string_view(key),
                                              std::string_view(value.get_string())));
            clock->jump_to(key == "at" ? *d : clock->now() + *d);
        } else if (key == "pause" && value.is_bool() && value.get_bool()) {
            clock->pause();
        } else if (key == "resume" && value.is_bool() && value.get_bool()) {
            clock->resume();
        } else {
            return error(400, fmt::format("unknown clock field \"{}\" (at, advance, pause, resume)",
                                          std::string_view(key)));
        }
    }
    return {200, state_json(p)};
}

}  // namespace

bool constant_time_equal(std::string_view a, std::string_view b) {
    std::size_t n = std::max(a.size(), b.size());
    unsigned diff = a.size() == b.size() ? 0U : 1U;
    for (std::size_t i = 0; i < n; ++i) {
        unsigned x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0U;
        unsigned y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0U;
        diff |= x ^ y;
    }
    return diff == 0;
}

ControlResult handle_control(Provider& p, const IncomingRequest& in, const ControlAccess& access) {
    if (!access.token.empty()) {
        std::string_view auth = in.authorization;
        if (!auth.starts_with("Bearer ") || !constant_time_equal(auth.substr(7), access.token)) {
            return error(401, "the control API needs Authorization: Bearer <token>");
        }
    } else if (!in.peer_loopback) {
        return error(403,
                     "the control API answers loopback peers only (start with a control token to "
                     "allow others)");
    }
    std::string_view path = strip_query(in.target);
    if (path == "/_brownout/state" && in.method == "GET") return {200, state_json(p)};
    if (path == "/_brownout/journal" && in.method == "GET")
        return {200, journal_json(p, in.target)};
    if (path == "/_brownout/faults" && in.method == "POST") {
        try {
            auto phase = faults::phase_from_json(in.body, p.clock().now());
            std::string name = phase.name;
            Duration start = phase.start;
            auto end = phase.end;
            {
                std::lock_guard lock(p.engine_mutex());
                p.engine().inject(std::move(phase));
            }
            return {201, fmt::format("{{\"injected\":{},\"start\":{},\"end\":{}}}",
                                     json_string(name), json_string(format_duration(start)),
                                     end ? json_string(format_duration(*end)) : "null")};
        } catch (const Error& e) {
            return error(400, e.what());
        }
    }
    if (path == "/_brownout/faults" && in.method == "DELETE") {
        std::size_t cleared = 0;
        {
            std::lock_guard lock(p.engine_mutex());
            cleared = p.engine().clear_injected();
        }
        return {200, fmt::format("{{\"cleared\":{}}}", cleared)};
    }
    if (path == "/_brownout/clock" && in.method == "POST") return clock_control(p, in.body);
    return error(404, fmt::format("no control endpoint {} {}", in.method, path));
}

}  // namespace brownout::mock
