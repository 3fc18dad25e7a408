// disconnect: the connection is cut mid-answer — after N streamed tokens, or after N bytes of
// the body (which also cuts non-streamed answers).
//
//   fault = "disconnect"
//   after_tokens = 10        # or after_bytes = 200
//   rate = 0.2

#include "core/toml_reader.h"
#include "faults/fault.h"
#include "faults/keys.h"

namespace brownout::faults {
namespace {

class Disconnect final : public Fault {
public:
    std::optional<int> after_tokens;
    std::optional<int> after_bytes;
    Rate rate = Rate::fixed(1.0);

    std::string_view kind() const override { return "disconnect"; }
    Stage stage() const override { return Stage::modify; }
    bool apply(Context& ctx, Effects& out) override {
        if (after_tokens && !ctx.request.stream) return false;
        if (!ctx.hits(rate)) return false;
        out.emplace_back(Cut{after_tokens, after_bytes});
        return true;
    }
    ComponentStatus status_effect(double progress, Duration) const override {
        return status_for_share(rate.at(progress));
    }
};

}  // namespace

const TableSpec& disconnect_spec() {
    static const TableSpec spec = kind_spec(
        "disconnect", "The connection is cut mid-answer.",
        {{"after_tokens", KeyType::integer, "tokens sent before the cut", {}, 0, 1e6},
         {"after_bytes", KeyType::integer, "or body bytes sent before the cut", {}, 0, 1e9},
         rate_key("rate", "share of answers cut (default 1)")});
    return spec;
}

std::unique_ptr<Fault> parse_disconnect(TableReader& t) {
    auto f = std::make_unique<Disconnect>();
    if (auto n = t.integer("after_tokens", 0, 1'000'000)) f->after_tokens = static_cast<int>(*n);
    if (auto n = t.integer("after_bytes", 0, 1'000'000'000)) f->after_bytes = static_cast<int>(*n);
    if (f->after_tokens && f->after_bytes)
        t.fail("after_bytes", "give after_tokens or after_bytes, not both");
    if (!f->after_tokens && !f->after_bytes) f->after_tokens = 0;
    f->rate = read_rate(t, "rate", Rate::fixed(1.0));
    return f;
}

}  // namespace brownout::faults
