// outage: the provider is down. mode = "http" (an error status), "refuse" (the port stops
// accepting), "reset" (TCP RST after the request), "hang" (the request is read, never answered).
//
//   fault = "outage"
//   mode = "http"            # http | refuse | reset | hang
//   status = 503             # http mode
//   message = "..."          # http mode; the provider's default wording otherwise
//   rate = 1.0               # share of requests hit (refuse needs 1.0)

#include "core/toml_reader.h"
#include "faults/fault.h"
#include "faults/keys.h"

namespace brownout::faults {
namespace {

class Outage final : public Fault {
public:
    enum class Mode { http, refuse, reset, hang };
    Mode mode = Mode::http;
    Rejection rejection;
    Rate rate = Rate::fixed(1.0);

    std::string_view kind() const override { return "outage"; }
    Stage stage() const override { return Stage::reject; }

    bool apply(Context& ctx, Effects& out) override {
        if (!ctx.hits(rate)) return false;
        switch (mode) {
            case Mode::http:
                out.emplace_back(rejection);
                break;
            // A refusing port is carried out by the server (it stops accepting); a request
            // that still arrives on an open keep-alive connection is reset.
            case Mode::refuse:
            case Mode::reset:
                out.emplace_back(Reset{});
                break;
            case Mode::hang:
                out.emplace_back(Hang{});
                break;
        }
        return true;
    }
    double reject_share(const Context& ctx) const override { return ctx.hit_share(rate); }
    double capacity_factor(double progress, Duration) const override {
        return 1.0 - rate.at(progress);
    }
    const Rate* rejecting_rate() const override { return &rate; }
    ComponentStatus status_effect(double progress, Duration) const override {
        return status_for_share(rate.at(progress));
    }
    bool refuses_connections(double progress) const {
        return mode == Mode::refuse && rate.at(progress) >= 1.0;
    }
};

}  // namespace

bool may_refuse_connections(const Fault& fault) {
    return fault.kind() == "outage";
}

bool refuses_connections(const Fault& fault, double progress) {
    if (!may_refuse_connections(fault)) return false;
    return static_cast<const Outage&>(fault).refuses_connections(progress);
}

const TableSpec& outage_spec() {
    static const TableSpec spec = kind_spec(
        "outage",
        "The provider is down: every hit request gets an error, a refused or reset connection, or "
        "no answer at all.",
        [] {
            auto keys = rejection_keys(503);
            for (auto& k : std::vector<KeySpec>{
                     {"mode",
                      KeyType::string,
                      "how the provider is down",
                      {"http", "refuse", "reset", "hang"}},
                     {"html", KeyType::boolean, "the error is an HTML page, as a proxy's 502"},
                     rate_key("rate", "share of requests hit (default 1)")})
                keys.push_back(std::move(k));
            return keys;
        }());
    return spec;
}

std::unique_ptr<Fault> parse_outage(TableReader& t) {
    auto f = std::make_unique<Outage>();
    auto mode = t.choice("mode", {"http", "refuse", "reset", "hang"}).value_or("http");
    f->mode = mode == "refuse"  ? Outage::Mode::refuse
              : mode == "reset" ? Outage::Mode::reset
              : mode == "hang"  ? Outage::Mode::hang
                                : Outage::Mode::http;
    f->rejection = read_rejection(t, 503);
    f->rejection.html = t.boolean("html").value_or(false);
    f->rate = read_rate(t, "rate", Rate::fixed(1.0));
    if (f->mode == Outage::Mode::refuse && (f->rate.from < 1.0 || f->rate.to < 1.0)) {
        t.fail("rate",
               "mode \"refuse\" closes the port for everyone: its rate must be 1.0 (use mode "
               "\"reset\" for a share)");
    }
    return f;
}

}  // namespace brownout::faults
