// recovery: the slow way back. The failure share falls and the capacity rises across the phase
// (linear, exponential or step), as when GPUs are re-imaged or models reloaded a few at a time.
//
//   fault = "recovery"
//   failures = { from = 0.8, to = 0.02, curve = "exponential" }   # share of requests failing
//   capacity = { from = 0.2, to = 1.0 }                          # share of capacity available
//   status = 503
//   message = "..."

#include "core/toml_reader.h"
#include "faults/fault.h"
#include "faults/keys.h"

namespace brownout::faults {
namespace {

class Recovery final : public Fault {
public:
    Rate failures{0.5, 0.0};
    Rate capacity{0.5, 1.0};
    Rejection rejection;

    std::string_view kind() const override { return "recovery"; }
    Stage stage() const override { return Stage::reject; }
    bool apply(Context& ctx, Effects& out) override {
        if (!ctx.hits(failures)) return false;
        out.emplace_back(rejection);
        return true;
    }
    double reject_share(const Context& ctx) const override { return ctx.hit_share(failures); }
    double capacity_factor(double progress, Duration) const override {
        return capacity.at(progress);
    }
    const Rate* rejecting_rate() const override { return &failures; }
    ComponentStatus status_effect(double progress, Duration) const override {
        double share = failures.at(progress);
        return share > 0.0
                   ? std::max(ComponentStatus::degraded_performance, status_for_share(share))
                   : ComponentStatus::degraded_performance;
    }
};

}  // namespace

const TableSpec& recovery_spec() {
    static const TableSpec spec = kind_spec(
        "recovery", "A staged recovery: failures fall and capacity returns across the phase.", [] {
            auto keys = rejection_keys(503);
            for (auto& k : std::vector<KeySpec>{
                     rate_key("failures", "share of requests failing (default from 0.5 to 0)"),
                     rate_key("capacity", "share of capacity back (default from 0.5 to 1)")})
                keys.push_back(std::move(k));
            return keys;
        }());
    return spec;
}

std::unique_ptr<Fault> parse_recovery(TableReader& t) {
    auto f = std::make_unique<Recovery>();
    f->failures = read_rate(t, "failures", Rate{0.5, 0.0});
    f->capacity = read_rate(t, "capacity", Rate{0.5, 1.0});
    f->rejection = read_rejection(t, 503);
    return f;
}

}  // namespace brownout::faults
