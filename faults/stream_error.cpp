// stream_error: a 200 stream that breaks with an in-band error event after N tokens — OpenAI's
// `data: {"error":…}` or Anthropic's `event: error` with overloaded_error. SDKs raise it and do
// not retry. A non-streamed request gets the same error as its HTTP status.
//
//   fault = "stream_error"
//   after_tokens = 8
//   status = 529              # picks the error type: 500 server_error/api_error, 529
//   overloaded_error message = "Overloaded" rate = 0.5

#include "core/toml_reader.h"
#include "faults/fault.h"
#include "faults/keys.h"

namespace brownout::faults {
namespace {

class StreamError final : public Fault {
public:
    int after_tokens = 0;
    Rejection error;
    Rate rate = Rate::fixed(1.0);

    std::string_view kind() const override { return "stream_error"; }
    Stage stage() const override { return Stage::modify; }
    bool apply(Context& ctx, Effects& out) override {
        if (!ctx.hits(rate)) return false;
        if (!ctx.request.stream) {
            out.emplace_back(error);
            return true;
        }
        out.emplace_back(StreamFailure{after_tokens, error});
        return true;
    }
    ComponentStatus status_effect(double progress, Duration) const override {
        return status_for_share(rate.at(progress));
    }
};

}  // namespace

const TableSpec& stream_error_spec() {
    static const TableSpec spec =
        kind_spec("stream_error", "An error event inside a stream after some tokens.",
                  {{"after_tokens", KeyType::integer, "tokens sent before the error", {}, 0, 1e6},
                   {"status", KeyType::integer, "the error's status", {}, 400, 599},
                   {"message", KeyType::string, "the error's message"},
                   rate_key("rate", "share of streams (default 1)")});
    return spec;
}

std::unique_ptr<Fault> parse_stream_error(TableReader& t) {
    auto f = std::make_unique<StreamError>();
    f->after_tokens = static_cast<int>(t.integer("after_tokens", 0, 1'000'000).value_or(0));
    f->error.status = static_cast<int>(t.integer("status", 400, 599).value_or(500));
    f->error.message = t.string("message", "");
    f->rate = read_rate(t, "rate", Rate::fixed(1.0));
    return f;
}

}  // namespace brownout::faults
