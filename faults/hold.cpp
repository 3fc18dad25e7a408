// hold: DeepSeek under high traffic. Instead of an error, the provider answers 200 at once and
// holds the connection with keep-alives — blank lines in a JSON body (valid leading whitespace),
// ": keep-alive" comments in a stream — so no header or read timeout ever fires. After `wait`,
// `then` decides: the real answer follows ("answer": the request was only queued), nothing
// follows ("empty": a blank body, the SDK's JSON parse fails), generation starts and is
// interrupted after N tokens with finish_reason "insufficient_system_resource"
// ("interrupted"; Anthropic's dialect says stop_reason "max_tokens"), or the connection is
// closed mid-body ("close": DeepSeek closes a request not started after 10 minutes).
//
//   fault = "hold"
//   wait = "60s"
//   interval = "5s"          # keep-alive spacing
//   then = "empty"           # answer | empty | interrupted | close
//   after_tokens = 10        # interrupted: tokens sent before the interruption
//   rate = 0.8

#include "core/toml_reader.h"
#include "faults/fault.h"
#include "faults/keys.h"

namespace brownout::faults {
namespace {

class HoldFault final : public Fault {
public:
    Hold hold;
    Rate rate = Rate::fixed(1.0);

    std::string_view kind() const override { return "hold"; }
    Stage stage() const override { return Stage::modify; }
    bool apply(Context& ctx, Effects& out) override {
        if (!ctx.hits(rate)) return false;
        out.emplace_back(hold);
        return true;
    }
    ComponentStatus status_effect(double progress, Duration) const override {
        return status_for_share(rate.at(progress));
    }
};

}  // namespace

const TableSpec& hold_spec() {
    static const TableSpec spec =
        kind_spec("hold",
                  "DeepSeek under load: 200 at once, keep-alives, then the answer, nothing, a cut "
                  "answer or a closed connection.",
                  {{"wait", KeyType::duration, "keep-alives before the end"},
                   {"interval", KeyType::duration, "between keep-alives"},
                   {"then",
                    KeyType::string,
                    "what ends the hold",
                    {"answer", "empty", "interrupted", "close"}},
                   {"after_tokens",
                    KeyType::integer,
                    "then = interrupted: tokens before it stops",
                    {},
                    0,
                    1e6},
                   rate_key("rate", "share of requests held (default 1)")});
    return spec;
}

std::unique_ptr<Fault> parse_hold(TableReader& t) {
    auto f = std::make_unique<HoldFault>();
    if (auto d = t.duration("wait")) {
        if (*d < Duration::zero()) t.fail("wait", "must not be negative");
        f->hold.wait = *d;
    }
    if (auto d = t.duration("interval")) {
        if (*d <= Duration::zero()) t.fail("interval", "must be longer than zero");
        f->hold.interval = *d;
    }
    auto then = t.choice("then", {"answer", "empty", "interrupted", "close"}).value_or("answer");
    f->hold.then = then == "empty"         ? HoldEnd::empty
                   : then == "interrupted" ? HoldEnd::interrupted
                   : then == "close"       ? HoldEnd::close
                                           : HoldEnd::answer;
    f->hold.after_tokens = static_cast<int>(t.integer("after_tokens", 0, 1'000'000).value_or(0));
    if (t.has("after_tokens") && f->hold.then != HoldEnd::interrupted)
        t.fail("after_tokens", "only applies with then = \"interrupted\"");
    f->rate = read_rate(t, "rate", Rate::fixed(1.0));
    return f;
}

}  // namespace brownout::faults
