// stall: a stream stops after N tokens — silently (the client's read timeout must fire) or with
// ": keep-alive" comments (DeepSeek's behaviour under load: no read timeout ever fires).
// Only streamed answers stall; other requests pass.
//
//   fault = "stall"
//   after_tokens = 5
//   keepalive = true
//   keepalive_interval = "15s"
//   rate = 1.0

#include "core/toml_reader.h"
#include "faults/fault.h"
#include "faults/keys.h"

namespace brownout::faults {
namespace {

class StallFault final : public Fault {
public:
    int after_tokens = 0;
    bool keepalive = false;
    Duration interval = std::chrono::seconds(15);
    Rate rate = Rate::fixed(1.0);

    std::string_view kind() const override { return "stall"; }
    Stage stage() const override { return Stage::modify; }
    bool apply(Context& ctx, Effects& out) override {
        if (!ctx.request.stream || !ctx.hits(rate)) return false;
        out.emplace_back(Stall{after_tokens, keepalive, interval});
        return true;
    }
    ComponentStatus status_effect(double progress, Duration) const override {
        return status_for_share(rate.at(progress));
    }
};

}  // namespace

const TableSpec& stall_spec() {
    static const TableSpec spec = kind_spec(
        "stall",
        "A stream stops sending after some tokens, silently or behind keep-alive comments.",
        {{"after_tokens", KeyType::integer, "tokens sent before the stall", {}, 0, 1e6},
         {"keepalive", KeyType::boolean, "keep sending keep-alive comments"},
         {"keepalive_interval", KeyType::duration, "between keep-alive comments"},
         rate_key("rate", "share of streams stalled (default 1)")});
    return spec;
}

std::unique_ptr<Fault> parse_stall(TableReader& t) {
    auto f = std::make_unique<StallFault>();
    f->after_tokens = static_cast<int>(t.integer("after_tokens", 0, 1'000'000).value_or(0));
    f->keepalive = t.boolean("keepalive").value_or(false);
    if (auto d = t.duration("keepalive_interval")) {
        if (*d <= Duration::zero()) t.fail("keepalive_interval", "must be longer than zero");
        f->interval = *d;
    }
    f->rate = read_rate(t, "rate", Rate::fixed(1.0));
    return f;
}

}  // namespace brownout::faults
