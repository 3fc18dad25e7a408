// feature_loss: a capability is gone — vision, tools, streaming, or whole models. "reject"
// answers in the provider's own words ("image_url is only supported by certain models",
// "model_not_found"); "ignore" answers as if the request had not asked for it: the image is not
// looked at, no tool is called, the stream comes back as one JSON body, another model answers.
// This is the DeepSeek failure that outlived the outage: image recognition still missing.
//
//   fault = "feature_loss"
//   features = ["vision"]          # of vision, tools, stream
//   models = ["deepseek-reasoner"] # optional: models that are gone
//   behavior = "reject"            # reject | ignore
//   substitute = "deepseek-chat"   # ignore + models: who answers instead (default: none → reject)
//   rate = 1.0

#include <algorithm>
#include <utility>

#include "core/text.h"
#include "core/toml_reader.h"
#include "faults/fault.h"
#include "faults/keys.h"

namespace brownout::faults {
namespace {

class FeatureLoss final : public Fault {
public:
    std::vector<std::string> features;
    std::vector<std::string> models;
    bool ignore = false;
    std::string substitute;
    Rate rate = Rate::fixed(1.0);

    // Which of the three features are lost, read once from `features` (note_features()): a
    // request asks at each attempt.
    bool lost_vision = false, lost_tools = false, lost_stream = false;
    void note_features() {
        lost_vision = lost("vision");
        lost_tools = lost("tools");
        lost_stream = lost("stream");
    }
    bool lost(std::string_view feature) const { return contains(features, feature); }
    bool model_gone(std::string_view model) const { return contains(models, model); }

    std::string_view kind() const override { return "feature_loss"; }
    Stage stage() const override { return Stage::reject; }
    bool touches(const RequestFacts& r) const {
        return model_gone(r.model) || (lost_vision && r.image_count > 0) ||
               (lost_tools && r.wants_tools) || (lost_stream && r.stream);
    }
    double reject_share(const Context& ctx) const override {
        return touches(ctx.request) && !ignore ? ctx.hit_share(rate) : 0.0;
    }
    const Rate* rejecting_rate() const override { return &rate; }
    bool apply(Context& ctx, Effects& out) override {
        const RequestFacts& r = ctx.request;
        const bool gone = model_gone(r.model);
        bool vision = lost_vision && r.image_count > 0;
        bool tools = lost_tools && r.wants_tools;
        bool stream = lost_stream && r.stream;
        if (!touches(r)) return false;
        if (!ctx.hits(rate)) return false;
        if (!ignore || (gone && substitute.empty())) {
            Rejection rej;
            rej.status = 400;
            if (gone) {
                rej.status = 404;
                rej.unknown_model = true;
            } else {
                rej.unsupported_feature = vision ? "vision" : tools ? "tools" : "stream";
            }
            out.emplace_back(std::move(rej));
            return true;
        }
        if (gone) out.emplace_back(Substitute{substitute});
        if (vision) out.emplace_back(Ignore{Ignored::images});
        if (tools) out.emplace_back(Ignore{Ignored::tools});
        if (stream) out.emplace_back(Ignore{Ignored::stream});
        return true;
    }
    ComponentStatus status_effect(double, Duration) const override {
        return ComponentStatus::major_outage;
    }
    std::vector<std::string> lost_features() const override { return features; }
};

}  // namespace

const TableSpec& feature_loss_spec() {
    static const TableSpec spec =
        kind_spec("feature_loss", "A feature or model is gone: refused, or silently ignored.",
                  {{"features", KeyType::strings, "features gone: vision, tools, stream"},
                   {"behavior",
                    KeyType::string,
                    "refuse the request, or answer as if the feature was not asked for",
                    {"reject", "ignore"}},
                   {"substitute", KeyType::string, "answer from this model instead"},
                   rate_key("rate", "share of requests affected (default 1)")});
    return spec;
}

std::unique_ptr<Fault> parse_feature_loss(TableReader& t) {
    auto f = std::make_unique<FeatureLoss>();
    f->features = t.strings("features").value_or(std::vector<std::string>{});
    for (const auto& feature : f->features) {
        if (feature != "vision" && feature != "tools" && feature != "stream") {
            t.fail("features",
                   "unknown feature \"" + feature + "\" (known: vision, tools, stream)");
        }
    }
    f->models = t.strings("models").value_or(std::vector<std::string>{});
    if (f->features.empty() && f->models.empty())
        t.fail("a feature_loss phase needs features or models");
    f->ignore = t.choice("behavior", {"reject", "ignore"}).value_or("reject") == "ignore";
    f->substitute = t.string("substitute", "");
    f->rate = read_rate(t, "rate", Rate::fixed(1.0));
    f->note_features();
    return f;
}

}  // namespace brownout::faults
