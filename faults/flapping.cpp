// flapping: up, down, up, down — the provider alternates between healthy and failing periods,
// the pattern that makes circuit breakers open and close and fallbacks flap with them.
//
//   fault = "flapping"
//   up = "5m"
//   down = "2m"
//   mode = "http"            # http | reset while down
//   status = 503
//   rate = 1.0               # share of requests failing while down

#include "core/toml_reader.h"
#include "faults/fault.h"
#include "faults/keys.h"

namespace brownout::faults {
namespace {

class Flapping final : public Fault {
public:
    Duration up = std::chrono::minutes(5);
    Duration down = std::chrono::minutes(2);
    bool reset = false;
    Rejection rejection;
    Rate rate = Rate::fixed(1.0);

    bool is_down(Duration elapsed) const {
        auto cycle = up + down;
        return (elapsed % cycle) >= up;
    }

    std::string_view kind() const override { return "flapping"; }
    Stage stage() const override { return Stage::reject; }
    bool apply(Context& ctx, Effects& out) override {
        if (!is_down(ctx.elapsed) || !ctx.hits(rate)) return false;
        if (reset)
            out.emplace_back(Reset{});
        else
            out.emplace_back(rejection);
        return true;
    }
    double reject_share(const Context& ctx) const override {
        return is_down(ctx.elapsed) ? ctx.hit_share(rate) : 0.0;
    }
    const Rate* rejecting_rate() const override { return &rate; }
    double capacity_factor(double progress, Duration elapsed) const override {
        return is_down(elapsed) ? 1.0 - rate.at(progress) : 1.0;
    }
    ComponentStatus status_effect(double progress, Duration elapsed) const override {
        return is_down(elapsed) ? status_for_share(rate.at(progress))
                                : ComponentStatus::degraded_performance;
    }
};

}  // namespace

const TableSpec& flapping_spec() {
    static const TableSpec spec =
        kind_spec("flapping", "Alternating healthy and failing periods.", [] {
            auto keys = rejection_keys(503);
            for (auto& k : std::vector<KeySpec>{
                     {"up", KeyType::duration, "each healthy period"},
                     {"down", KeyType::duration, "each failing period"},
                     {"mode", KeyType::string, "how it fails", {"http", "reset"}},
                     rate_key("rate", "share of requests failing while down (default 1)")})
                keys.push_back(std::move(k));
            return keys;
        }());
    return spec;
}

std::unique_ptr<Fault> parse_flapping(TableReader& t) {
    auto f = std::make_unique<Flapping>();
    if (auto up = t.duration("up")) f->up = *up;
    if (auto down = t.duration("down")) f->down = *down;
    if (f->up <= Duration::zero()) t.fail("up", "must be longer than zero");
    if (f->down <= Duration::zero()) t.fail("down", "must be longer than zero");
    f->reset = t.choice("mode", {"http", "reset"}).value_or("http") == "reset";
    f->rejection = read_rejection(t, 503);
    f->rate = read_rate(t, "rate", Rate::fixed(1.0));
    return f;
}

}  // namespace brownout::faults
