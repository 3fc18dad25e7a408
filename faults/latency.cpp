// latency: slower answers. TTFT is multiplied and the token rate divided by factors that are
// fixed, uniform around the factor, or lognormal (a long tail).
//
//   fault = "latency"
//   ttft_factor = 5                 # × time to first token
//   token_rate_factor = 0.5         # × tokens per second (0.5: half as fast)
//   distribution = "lognormal"      # fixed | uniform | lognormal
//   spread = 0.5                    # uniform: factor × U(1-spread, 1+spread); lognormal: σ
//   rate = 1.0

#include <cmath>

#include "core/toml_reader.h"
#include "faults/fault.h"
#include "faults/keys.h"

namespace brownout::faults {
namespace {

class Latency final : public Fault {
public:
    enum class Distribution { fixed, uniform, lognormal };
    double ttft_factor = 1.0;
    double token_rate_factor = 1.0;
    Distribution distribution = Distribution::fixed;
    double spread = 0.0;
    Rate rate = Rate::fixed(1.0);

    std::string_view kind() const override { return "latency"; }
    Stage stage() const override { return Stage::modify; }

    double draw(RandomStream& rng) const {
        switch (distribution) {
            case Distribution::fixed:
                return 1.0;
            case Distribution::uniform:
                return std::max(0.0, rng.uniform(1.0 - spread, 1.0 + spread));
            case Distribution::lognormal:
                return std::exp(spread * rng.normal());
        }
        return 1.0;
    }
    bool apply(Context& ctx, Effects& out) override {
        if (!ctx.hits(rate)) return false;
        double k = draw(ctx.rng);
        out.emplace_back(Slowdown{ttft_factor * k, token_rate_factor / std::max(k, 1e-6)});
        return true;
    }
    ComponentStatus status_effect(double, Duration) const override {
        return ComponentStatus::degraded_performance;
    }
};

}  // namespace

const TableSpec& latency_spec() {
    static const TableSpec spec = kind_spec(
        "latency", "Slower answers: time to first token and token rate scaled.",
        {{"ttft_factor", KeyType::number, "time to first token multiplied by this", {}, 0, 1e6},
         {"token_rate_factor",
          KeyType::number,
          "tokens per second multiplied by this",
          {},
          1e-6,
          1e6},
         {"distribution",
          KeyType::string,
          "how the factors vary per request",
          {"fixed", "uniform", "lognormal"}},
         {"spread", KeyType::number, "the distribution's spread", {}, 0, 5},
         rate_key("rate", "share of requests slowed (default 1)")});
    return spec;
}

std::unique_ptr<Fault> parse_latency(TableReader& t) {
    auto f = std::make_unique<Latency>();
    f->ttft_factor = t.number_in("ttft_factor", 0, 1e6).value_or(1.0);
    f->token_rate_factor = t.number_in("token_rate_factor", 1e-6, 1e6).value_or(1.0);
    auto d = t.choice("distribution", {"fixed", "uniform", "lognormal"}).value_or("fixed");
    f->distribution = d == "uniform"     ? Latency::Distribution::uniform
                      : d == "lognormal" ? Latency::Distribution::lognormal
                                         : Latency::Distribution::fixed;
    f->spread = t.number_in("spread", 0, 5)
                    .value_or(f->distribution == Latency::Distribution::fixed ? 0.0 : 0.5);
    f->rate = read_rate(t, "rate", Rate::fixed(1.0));
    return f;
}

}  // namespace brownout::faults
