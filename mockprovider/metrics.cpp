#include "mockprovider/metrics.h"

#include <fmt/format.h>

namespace brownout::mock {
namespace {

struct Declared {
    const char* name;
    const char* type;
    const char* help;
};

constexpr Declared kDeclared[] = {
    {metric::attempts, "counter", "HTTP attempts answered, by provider, status and fault applied."},
    {metric::tokens, "counter", "Tokens billed, by provider and kind (prompt or completion)."},
    {metric::active_streams, "gauge", "SSE streams open right now."},
    {metric::in_flight, "gauge", "Requests read and not yet fully answered."},
    {metric::connections, "counter", "TCP connections accepted."},
    {metric::bad_requests, "counter", "Requests rejected before reaching a dialect (HTTP errors)."},
    {metric::refused_connections, "counter",
     "Connections not served because a limit was reached: max_connections (closed on arrival) or "
     "accept_failed (the process is out of file descriptors; accepting pauses 50 ms)."},
};

std::string escape_label(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

}  // namespace

std::string Metrics::render_labels(const Labels& labels) {
    if (labels.empty()) return "";
    std::string out = "{";
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i > 0) out += ',';
        out += labels[i].first + "=\"" + escape_label(labels[i].second) + "\"";
    }
    return out + "}";
}

Metrics::Series& Metrics::series(const std::string& name, const Labels& labels) {
    std::lock_guard lock(mutex_);
    auto [it, inserted] = families_.try_emplace(name);
    if (inserted) {
        it->second.type = "untyped";
        for (const auto& d : kDeclared) {
            if (name == d.name) {
                it->second.type = d.type;
                it->second.help = d.help;
            }
        }
    }
    auto& slot = it->second.series[render_labels(labels)];
    if (!slot) slot = std::make_unique<Series>(0.0);
    return *slot;
}

double Metrics::value(const std::string& name, const Labels& labels) const {
    std::lock_guard lock(mutex_);
    auto f = families_.find(name);
    if (f == families_.end()) return 0;
    auto s = f->second.series.find(render_labels(labels));
    return s == f->second.series.end() ? 0 : s->second->load();
}

std::string Metrics::render() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& d : kDeclared) {
        auto f = families_.find(d.name);
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", d.name, d.help, d.name, d.type);
        if (f == families_.end()) continue;
        for (const auto& [labels, value] : f->second.series) {
            out += fmt::format("{}{} {}\n", d.name, labels, value->load());
        }
    }
    return out;
}

}  // namespace brownout::mock
