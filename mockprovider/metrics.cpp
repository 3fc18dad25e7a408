#include "mockprovider/metrics.h"

#include <fmt/format.h>

#include <algorithm>

namespace brownout::mock {
namespace {

struct Declared {
    const char* name;
    const char* type;
    const char* help;
    // A gauge of the largest observation of that histogram family, series by series.
    const char* max_of = nullptr;
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
    {metric::send_lateness, "histogram",
     "Wall seconds the mock sent what it times after it was due: an answer's head after its "
     "latency, each paced stream frame, a stalled stream's keep-alives. The mock's own timing "
     "error: a busy machine, or a client that reads too slowly to take the frames when due."},
    {metric::send_lateness_max, "gauge", "The most any timed send was late, in wall seconds.",
     metric::send_lateness},
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

// Seconds as Prometheus reads them: 0.0001, 0.005, 1, 10.
std::string seconds(Histogram::Span span) {
    return fmt::format("{}", std::chrono::duration<double>(span).count());
}

// The label set with `le` added last ("{provider=\"a\",le=\"0.1\"}").
std::string with_le(const std::string& labels, const std::string& le) {
    std::string pair = "le=\"" + le + "\"";
    return labels.empty() ? "{" + pair + "}"
                          : labels.substr(0, labels.size() - 1) + "," + pair + "}";
}

}  // namespace

std::size_t Histogram::bound_within(Span span) {
    auto above = std::upper_bound(kBounds.begin(), kBounds.end(), span);
    return above == kBounds.begin() ? 0 : static_cast<std::size_t>(above - kBounds.begin()) - 1;
}

void Histogram::observe(Span span) {
    auto bucket = static_cast<std::size_t>(std::lower_bound(kBounds.begin(), kBounds.end(), span) -
                                           kBounds.begin());
    counts_[bucket].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(span.count(), std::memory_order_relaxed);
    auto max = max_.load(std::memory_order_relaxed);
    while (span.count() > max &&
           !max_.compare_exchange_weak(max, span.count(), std::memory_order_relaxed)) {
    }
}

Histogram::Snapshot Histogram::snapshot() const {
    Snapshot s;
    for (std::size_t i = 0; i < counts_.size(); ++i)
        s.counts[i] = counts_[i].load(std::memory_order_relaxed);
    s.sum = Span(sum_.load(std::memory_order_relaxed));
    s.max = Span(max_.load(std::memory_order_relaxed));
    return s;
}

std::uint64_t Histogram::Snapshot::count() const {
    std::uint64_t n = 0;
    for (auto c : counts) n += c;
    return n;
}

std::uint64_t Histogram::Snapshot::above(std::size_t bound) const {
    std::uint64_t n = 0;
    for (std::size_t i = bound + 1; i < counts.size(); ++i) n += counts[i];
    return n;
}

std::string Metrics::render_labels(const Labels& labels) {
    if (labels.empty()) return "";
    std::string out = "{";
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i > 0) out += ',';
        out += labels[i].first + "=\"" + escape_label(labels[i].second) + "\"";
    }
    return out + "}";
}

Metrics::Family& Metrics::family(const std::string& name) {
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
    return it->second;
}

Metrics::Series& Metrics::series(const std::string& name, const Labels& labels) {
    std::lock_guard lock(mutex_);
    auto& slot = family(name).series[render_labels(labels)];
    if (!slot) slot = std::make_unique<Series>(0.0);
    return *slot;
}

Histogram& Metrics::histogram(const std::string& name, const Labels& labels) {
    std::lock_guard lock(mutex_);
    auto& slot = family(name).histograms[render_labels(labels)];
    if (!slot) slot = std::make_unique<Histogram>();
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
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", d.name, d.help, d.name, d.type);
        if (d.max_of != nullptr) {
            auto of = families_.find(d.max_of);
            if (of == families_.end()) continue;
            for (const auto& [labels, h] : of->second.histograms)
                out += fmt::format("{}{} {}\n", d.name, labels, seconds(h->snapshot().max));
            continue;
        }
        auto f = families_.find(d.name);
        if (f == families_.end()) continue;
        for (const auto& [labels, value] : f->second.series) {
            out += fmt::format("{}{} {}\n", d.name, labels, value->load());
        }
        for (const auto& [labels, h] : f->second.histograms) {
            auto s = h->snapshot();
            std::uint64_t cumulative = 0;
            for (std::size_t i = 0; i < s.counts.size(); ++i) {
                cumulative += s.counts[i];
                auto le = i < Histogram::kBounds.size() ? seconds(Histogram::kBounds[i])
                                                        : std::string("+Inf");
                out += fmt::format("{}_bucket{} {}\n", d.name, with_le(labels, le), cumulative);
            }
            out += fmt::format("{}_sum{} {}\n{}_count{} {}\n", d.name, labels, seconds(s.sum),
                               d.name, labels, cumulative);
        }
    }
    return out;
}

}  // namespace brownout::mock
