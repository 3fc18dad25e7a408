#include "faults/engine.h"

#include <algorithm>

namespace brownout::faults {

Engine::Engine(std::vector<PhaseSpec> phases, std::uint64_t seed, std::string provider,
               Duration horizon)
    : seed_(seed), provider_(std::move(provider)), horizon_(horizon) {
    for (std::size_t i = 0; i < phases.size(); ++i)
        phases_.push_back(make_phase(std::move(phases[i]), false, hash64(provider_, seed) + i));
    make_steps();
}

void Engine::make_steps() {
    may_refuse_.clear();
    for (const auto& p : phases_)
        if (may_refuse_connections(*p.fault)) may_refuse_.push_back(&p);
    steps_.clear();
    steps_.reserve(phases_.size());
    for (auto stage : {Fault::Stage::reject, Fault::Stage::modify}) {
        for (auto& p : phases_) {
            if (p.stage != stage) continue;
            steps_.push_back({p.spec.start, p.spec.end.value_or(Duration::max()),
                              HashCombiner(p.rng_base), p.span_seconds, p.fault.get(),
                              p.spec.models.empty() ? nullptr : &p.spec.models});
        }
    }
}

Engine::Phase Engine::make_phase(PhaseSpec spec, bool injected, std::uint64_t stream_id) const {
    Phase p{std::move(spec), nullptr, injected, stream_id};
    p.fault = p.spec.make_fault();
    p.stage = p.fault->stage();
    p.rng_base = hash_combine(seed_, stream_id);
    Duration end = p.spec.end.value_or(std::max(horizon_, p.spec.start));
    if (end > p.spec.start) p.span_seconds = to_seconds(end - p.spec.start);
    return p;
}

double Engine::progress(const Phase& p, Duration now) const {
    return phase_progress(now - p.spec.start, p.span_seconds);
}

bool Engine::hit(const Fault& fault, Plan& plan, std::size_t before) {
    plan.applied.emplace_back(fault.kind());
    return std::any_of(plan.effects.begin() + static_cast<std::ptrdiff_t>(before),
                       plan.effects.end(), ends_request);
}

Plan Engine::decide(Duration now, const RequestFacts& request, const PhaseSpec* forced) {
    ++seq_;
    Plan plan;
    if (forced != nullptr) {
        // A header-forced fault hits this request whatever its rate, from the phase's start.
        Phase once{*forced, forced->make_fault(), true, 0x5eed, Fault::Stage::reject};
        once.spec.start = now;
        RandomStream rng(hash_combine(seed_, seq_));
        Context ctx{.now = now,
                    .elapsed = Duration::zero(),
                    .span_seconds = 0.0,  // a forced phase has no length: progress 0
                    .request = request,
                    .rng = rng,
                    // A forced phase is its request's alone: a spell, if its rate has one, is
                    // drawn for this request, not shared with the next forced one.
                    .phase_seed = hash_combine(seed_ ^ 0xf0ced, seq_)};
        if (once.fault->apply(ctx, plan.effects)) plan.applied.emplace_back(once.fault->kind());
        return plan;
    }
    for (const Step& s : steps_) {
        if (!s.applies(now, request.model)) continue;
        RandomStream rng(s.rng_base(seq_));
        Context ctx{now, now - s.start, s.span_seconds, request, rng, s.rng_base.base()};
        std::size_t before = plan.effects.size();
        if (s.fault->apply(ctx, plan.effects) && hit(*s.fault, plan, before)) return plan;
    }
    return plan;
}

double Engine::reject_share_at(const Phase& p, Duration t, const RequestFacts& request) {
    RandomStream unused(0);  // reject_share draws nothing
    Context ctx{t, t - p.spec.start, p.span_seconds, request, unused, p.rng_base};
    return std::clamp(p.fault->reject_share(ctx), 0.0, 1.0);
}

double Engine::reject_probability(Duration now, const RequestFacts& request) const {
    double pass = 1.0;
    for (const auto& p : phases_) {
        if (p.spec.applies(now, request.model)) pass *= 1.0 - reject_share_at(p, now, request);
    }
    return 1.0 - pass;
}

double Engine::reject_probability_within(Duration from, Duration until,
                                         const RequestFacts& request) const {
    // The phases that apply at `from`, with their shares then. A spelled one is asked again at
    // each of its spell starts in the window, the others keeping their shares at `from`: no
    // phase's end, nor a phase starting later, is looked past (one spelled phase at a time).
    struct Asked {
        const Phase* phase;
        double share;
    };
    std::vector<Asked> asked;
    double pass = 1.0;
    for (const auto& p : phases_) {
        if (!p.spec.applies(from, request.model)) continue;
        asked.push_back({&p, reject_share_at(p, from, request)});
        pass *= 1.0 - asked.back().share;
    }
    double best = pass;
    for (const Asked& a : asked) {
        const Rate* rate = a.phase->fault->rejecting_rate();
        if (rate == nullptr || rate->spell <= Duration::zero() || a.share == 0.0) continue;
        double others = 1.0;  // the chance every other phase lets the request through
        for (const Asked& o : asked)
            if (&o != &a) others *= 1.0 - o.share;
        Duration start = a.phase->spec.start;
        Duration end = std::min(until, a.phase->spec.end.value_or(Duration::max()));
        // The first spell start after `from`: spell index (from - start) / spell + 1.
        for (Duration next = start + ((from - start) / rate->spell + 1) * rate->spell; next < end;
             next += rate->spell)
            best = std::max(best, others * (1.0 - reject_share_at(*a.phase, next, request)));
    }
    return 1.0 - best;
}

double Engine::capacity_factor(Duration now) const {
    double factor = 1.0;
    for (const auto& p : phases_) {
        if (!p.spec.active(now) || !p.spec.models.empty()) continue;
        factor = std::min(factor, p.fault->capacity_factor(progress(p, now), now - p.spec.start));
    }
    return std::clamp(factor, 0.0, 1.0);
}

bool Engine::refusing(Duration now) const {
    for (const Phase* p : may_refuse_) {
        if (p->spec.active(now) && refuses_connections(*p->fault, progress(*p, now))) return true;
    }
    return false;
}

std::optional<Duration> Engine::next_boundary(Duration now) const {
    std::optional<Duration> next;
    auto consider = [&](Duration t) {
        if (t > now && (!next || t < *next)) next = t;
    };
    for (const auto& p : phases_) {
        consider(p.spec.start);
        if (p.spec.end) consider(*p.spec.end);
    }
    return next;
}

void Engine::inject(PhaseSpec phase) {
    std::uint64_t id = hash64(phase.name, seed_) ^ phases_.size();
    phases_.push_back(make_phase(std::move(phase), true, id));
    make_steps();
}

std::size_t Engine::clear_injected() {
    auto before = phases_.size();
    std::erase_if(phases_, [](const Phase& p) { return p.injected; });
    make_steps();
    return before - phases_.size();
}

std::vector<ActivePhase> Engine::active(Duration now) const {
    std::vector<ActivePhase> out;
    for (const auto& p : phases_) {
        if (!p.spec.active(now)) continue;
        out.push_back(
            {p.spec.name, p.spec.fault, p.spec.start, p.spec.end, p.injected, progress(p, now)});
    }
    return out;
}

}  // namespace brownout::faults
