// malformed: answers a client cannot parse, as broken proxies and overloaded backends send them.
//
//   fault = "malformed"
//   variant = "html_502"     # invalid_json | truncated_sse | missing_done | html_502
//   rate = 0.1
//
// invalid_json cuts a JSON body in half (a streamed answer gets a broken data line instead);
// truncated_sse and missing_done apply to streams, html_502 to every request.

#include "core/toml_reader.h"
#include "faults/fault.h"
#include "faults/keys.h"

namespace brownout::faults {
namespace {

class MalformedFault final : public Fault {
public:
    enum class Variant { invalid_json, truncated_sse, missing_done, html_502 };
    Variant variant = Variant::invalid_json;
    Rate rate = Rate::fixed(1.0);

    std::string_view kind() const override { return "malformed"; }
    Stage stage() const override {
        return variant == Variant::html_502 ? Stage::reject : Stage::modify;
    }
    bool apply(Context& ctx, Effects& out) override {
        bool streams_only = variant == Variant::truncated_sse || variant == Variant::missing_done;
        if (streams_only && !ctx.request.stream) return false;
        if (!ctx.hits(rate)) return false;
        switch (variant) {
            case Variant::html_502: {
                Rejection r;
                r.status = 502;
                r.html = true;
                out.emplace_back(std::move(r));
                break;
            }
            case Variant::invalid_json:
                out.emplace_back(Malform{ctx.request.stream ? Malformed::truncated_sse
                                                            : Malformed::invalid_json});
                break;
            case Variant::truncated_sse:
                out.emplace_back(Malform{Malformed::truncated_sse});
                break;
            case Variant::missing_done:
                out.emplace_back(Malform{Malformed::missing_done});
                break;
        }
        return true;
    }
    ComponentStatus status_effect(double progress, Duration) const override {
        return status_for_share(rate.at(progress));
    }
};

}  // namespace

const TableSpec& malformed_spec() {
    static const TableSpec spec = kind_spec(
        "malformed", "Answers that break parsers: cut JSON, a stream without its end, an HTML 502.",
        {{"variant",
          KeyType::string,
          "what is broken",
          {"invalid_json", "truncated_sse", "missing_done", "html_502"}},
         rate_key("rate", "share of answers broken (default 1)")});
    return spec;
}

std::unique_ptr<Fault> parse_malformed(TableReader& t) {
    auto f = std::make_unique<MalformedFault>();
    auto v = t.choice("variant", {"invalid_json", "truncated_sse", "missing_done", "html_502"})
                 .value_or("invalid_json");
    using Variant = MalformedFault::Variant;
    f->variant = v == "truncated_sse"  ? Variant::truncated_sse
                 : v == "missing_done" ? Variant::missing_done
                 : v == "html_502"     ? Variant::html_502
                                       : Variant::invalid_json;
    f->rate = read_rate(t, "rate", Rate::fixed(1.0));
    return f;
}

}  // namespace brownout::faults
