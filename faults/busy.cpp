// busy: "Server busy, please try again later." A share of requests, possibly ramped, gets an
// overload status with the provider's wording, and optionally the retry hints real servers send.
//
//   fault = "busy"
//   status = 503                       # 503 | 429 | 529 (any 4xx/5xx is accepted)
//   message = "Server busy, please try again later."
//   rate = { from = 0.3, to = 1.0 }
//   retry_after = "1s"                 # or an HTTP-date; retry_after_ms = 1500; should_retry =
//   true

#include "core/toml_reader.h"
#include "faults/fault.h"
#include "faults/keys.h"

namespace brownout::faults {
namespace {

class Busy final : public Fault {
public:
    Rejection rejection;
    Rate rate = Rate::fixed(1.0);

    std::string_view kind() const override { return "busy"; }
    Stage stage() const override { return Stage::reject; }
    bool apply(Context& ctx, Effects& out) override {
        if (!ctx.hits(rate)) return false;
        out.emplace_back(rejection);
        return true;
    }
    double reject_share(const Context& ctx) const override { return ctx.hit_share(rate); }
    ComponentStatus status_effect(double progress, Duration) const override {
        double share = rate.at(progress);
        return share >= 0.95 ? ComponentStatus::partial_outage : status_for_share(share);
    }
    const Rate* rejecting_rate() const override { return &rate; }
};

}  // namespace

const TableSpec& busy_spec() {
    static const TableSpec spec = kind_spec(
        "busy", "\"Server busy\": a share of requests rejected with an overload error.", [] {
            auto keys = rejection_keys(503);
            for (auto& k :
                 std::vector<KeySpec>{rate_key("rate", "share of requests rejected (default 1)")})
                keys.push_back(std::move(k));
            return keys;
        }());
    return spec;
}

std::unique_ptr<Fault> parse_busy(TableReader& t) {
    auto f = std::make_unique<Busy>();
    f->rejection = read_rejection(t, 503);
    f->rate = read_rate(t, "rate", Rate::fixed(1.0));
    return f;
}

}  // namespace brownout::faults
