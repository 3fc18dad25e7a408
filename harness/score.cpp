// The formulas behind every metric; README "Scoring" restates them.

#include "harness/score.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include "core/duration.h"
#include "core/random.h"
#include "faults/engine.h"
#include "faults/throttle.h"
#include "harness/metric.h"
#include "harness/outcome.h"

namespace brownout::harness {
namespace {

using namespace std::chrono_literals;

// The p-quantile of `v`, reordering it: the two order statistics a sort would give, without
// sorting the rest (the lo-th in place, then the hi-th as the least of what lies above it). Any
// order of the same values gives the same answer, so one vector serves every quantile asked of it.
double percentile_of(std::vector<double>& v, double p) {
    if (v.empty()) return kNaN;
    double rank = p * (static_cast<double>(v.size()) - 1);
    auto lo = static_cast<std::size_t>(std::floor(rank));
    auto hi = static_cast<std::size_t>(std::ceil(rank));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(lo), v.end());
    double low = v[lo];
    double high =
        hi == lo ? low : *std::min_element(v.begin() + static_cast<std::ptrdiff_t>(hi), v.end());
    return low + (high - low) * (rank - static_cast<double>(lo));
}

// 1 at `good`, 0 at `bad`, linear between (either direction).
double ramp(double value, double bad, double good) {
    if (std::isnan(value)) return kNaN;
    if (good == bad) return value == good ? 1.0 : 0.0;
    return std::clamp((value - bad) / (good - bad), 0.0, 1.0);
}

bool in(Duration t, const PhaseWindow& w) {
    return t >= w.from && t < w.to;
}

// Events on the scenario clock, each counting one and carrying a value of 0 or 1: how many fell
// in [a, b) and how many of those were 1, by two binary searches instead of a pass over every
// event. Sixteen bytes an event, sorted and summed in place: a long run's scoring holds three.
class TimeTally {
public:
    struct Sum {
        double count = 0;
        double value = 0;
    };
    explicit TimeTally(std::size_t expected) { events_.reserve(expected); }
    void add(Duration at, bool value) { events_.push_back({at, value ? 1U : 0U}); }
    // After the last add: sorts by time and turns each event's value into the count of ones
    // before it. Events mostly come in time order (requests by arrival, attempts by seq): then
    // there is nothing to sort. The order of events at one time changes nothing in() reads.
    void seal() {
        auto earlier = [](const Event& x, const Event& y) { return x.at < y.at; };
        if (!std::is_sorted(events_.begin(), events_.end(), earlier))
            std::sort(events_.begin(), events_.end(), earlier);
        for (auto& e : events_) {
            auto one = e.ones_before;
            e.ones_before = ones_;
            ones_ += one;
        }
    }
    Sum in(Duration a, Duration b) const {
        std::size_t lo = first_at(a);
        std::size_t hi = std::max(lo, first_at(b));
        return {static_cast<double>(hi - lo),
                static_cast<double>(ones_before(hi) - ones_before(lo))};
    }

private:
    struct Event {
        Duration at;
        std::uint64_t ones_before;  // before seal(): the event's own value
    };
    std::size_t first_at(Duration t) const {
        auto it = std::lower_bound(events_.begin(), events_.end(), t,
                                   [](const Event& e, Duration x) { return e.at < x; });
        return static_cast<std::size_t>(it - events_.begin());
    }
    std::uint64_t ones_before(std::size_t i) const {
        return i < events_.size() ? events_[i].ones_before : ones_;
    }
    std::vector<Event> events_;
    std::uint64_t ones_ = 0;
};

// What one attempt adds to its window, whichever window that is: whether it retried a request
// the provider had told to wait, whether it came clearly too early, and what it cost.
struct AttemptFacts {
    bool waited_for = false;
    bool violation = false;
    double cost = 0;
};

// The attempt before each one of the same request (retries of one request share its digest) to
// the same provider, in journal order: the journal is read once, with a table of the latest
// attempt of each (provider, request) so far: open addressing, four bytes a slot (the attempt's
// place + 1; 0: empty), at most half of them full, since a long run reads one an attempt.
std::vector<AttemptFacts> attempt_facts(const Scenario& s, const StackRun& run) {
    const auto& attempts = run.attempts;
    if (attempts.size() >= std::numeric_limits<std::uint32_t>::max() / 2)
        throw std::length_error("more attempts than scoring can number");
    std::vector<std::pair<double, double>> prices;
    for (const auto& p : s.providers) {
        auto price = s.prices.find(p.id);
        prices.push_back(price != s.prices.end() ? price->second : std::make_pair(1.0, 4.0));
    }
    const std::size_t slots = std::bit_ceil(std::max<std::size_t>(16, 2 * attempts.size()));
    std::vector<std::uint32_t> latest(slots, 0);
    std::vector<AttemptFacts> facts(attempts.size());
    for (std::size_t i = 0; i < attempts.size(); ++i) {
        const auto& a = attempts[i];
        auto& f = facts[i];
        if (a.status == 200) {
            const auto& price = prices[a.provider];
            f.cost = (a.prompt_tokens * price.first + a.completion_tokens * price.second) / 1e6;
        }
        std::size_t slot = hash_combine(a.digest, a.provider) & (slots - 1);
        for (; latest[slot] != 0; slot = (slot + 1) & (slots - 1)) {
            const auto& b = attempts[latest[slot] - 1];
            if (b.provider == a.provider && b.digest == a.digest) break;
        }
        const std::uint32_t before = latest[slot];
        latest[slot] = static_cast<std::uint32_t>(i + 1);
        if (before == 0) continue;
        // A retry of the same request to the same provider clearly before the wait it was
        // given had passed (faults/throttle.h: the provider's own tolerance).
        const auto& told = attempts[before - 1];
        if (told.retry_after <= Duration::zero()) continue;
        f.waited_for = true;
        f.violation = a.at < told.at + told.duration + told.retry_after -
                                 faults::retry_after_tolerance(told.retry_after, s.time_scale);
    }
    return facts;
}

faults::RequestFacts facts_for(const UserRecord& u, const std::string& model) {
    return faults::RequestFacts{model,
                                u.kind == RequestKind::stream,
                                u.kind == RequestKind::vision ? 1 : 0,
                                u.kind == RequestKind::tools,
                                100,
                                256};
}

// Said when a stack's lag reaches a scenario second at the 99th percentile: from there it blurs
// what a run measures in seconds (a backoff, the first requests of a phase).
std::string lag_note(const StackLag& lag, double time_scale) {
    auto readable = [](Duration d) {  // tenths of a second, else milliseconds, else µs
        using std::chrono::round;
        if (d >= 1s)
            return format_duration(round<std::chrono::duration<std::int64_t, std::deci>>(d));
        if (d >= 1ms) return format_duration(round<std::chrono::milliseconds>(d));
        return format_duration(round<std::chrono::microseconds>(d));
    };
    std::string wall;
    if (time_scale != 1.0) {
        wall = fmt::format(" ({} of wall time at ×{})",
                           readable(std::chrono::duration_cast<Duration>(lag.p99 / time_scale)),
                           time_scale);
    }
    return fmt::format(
        "its requests reached a provider {} after they arrived (median), {} at the 99th "
        "percentile{}, {} at most: the harness's, the machine's and the program's own delay, "
        "which the time scale multiplies. Timings finer than that (a backoff, the first requests "
        "of a phase) are blurred by it; a run at a lower --time-scale shrinks it",
        readable(lag.p50), readable(lag.p99), wall, readable(lag.max));
}

}  // namespace

std::optional<StackLag> stack_lag(const StackRun& run) {
    std::vector<const UserRecord*> users;
    for (const auto& u : run.users)  // an answer from the stack's own cache reached no provider
        if (u.digest != 0 && u.provider != UserRecord::kFromCache) users.push_back(&u);
    if (users.empty()) return std::nullopt;
    std::stable_sort(users.begin(), users.end(), [](const UserRecord* a, const UserRecord* b) {
        return a->arrival < b->arrival;
    });
    std::unordered_map<std::uint64_t, std::vector<Duration>> starts;  // per digest, in time order
    for (const auto& a : run.attempts) starts[a.digest].push_back(a.at);
    for (auto& [digest, times] : starts) std::sort(times.begin(), times.end());
    std::unordered_map<std::uint64_t, std::size_t> unclaimed;  // per digest: the first one left
    std::vector<double> lags;
    for (const auto* u : users) {
        auto it = starts.find(u->digest);
        if (it == starts.end()) continue;
        const auto& times = it->second;
        auto& from = unclaimed[u->digest];
        auto first = std::lower_bound(times.begin() + static_cast<std::ptrdiff_t>(from),
                                      times.end(), u->arrival);
        // Only while the request lasted: a later one with the same question is not its attempt.
        bool ended = u->outcome != UserRecord::Outcome::unfinished;
        if (first == times.end() || (ended && *first > u->finished)) continue;
        lags.push_back(std::chrono::duration<double>(*first - u->arrival).count());
        from = static_cast<std::size_t>(first - times.begin()) + 1;
    }
    if (lags.empty()) return std::nullopt;
    auto at = [&](double p) {
        return std::chrono::round<Duration>(std::chrono::duration<double>(percentile_of(lags, p)));
    };
    return StackLag{lags.size(), at(0.50), at(0.99), at(1.0)};
}

std::vector<PhaseWindow> phase_windows(const Scenario& s) {
    Duration end = s.duration;
    const auto& primary = s.providers.front();
    faults::Engine engine(primary.phases, primary.seed, primary.id, s.duration);
    // The incident runs from the first phase to the end of the last refusing phase that has an
    // end: a slow answer after the last refusal is recovery, and an open-ended feature loss (the
    // image recognition still missing after the fix) does not keep the incident open forever. A
    // scenario that refuses nothing (cut or stalled streams) ends it with the last phase that
    // has an end; none: the incident lasts to the end of the run.
    auto last_end = [&](bool refusing) -> std::optional<Duration> {
        std::optional<Duration> last;
        for (const auto& phase : engine.phases()) {
            if (refusing != (phase.stage == faults::Fault::Stage::reject) || !phase.spec.end)
                continue;
            last = std::max(last.value_or(Duration::zero()), *phase.spec.end);
        }
        return last;
    };
    std::optional<Duration> first;
    bool refuses = false;
    for (const auto& phase : engine.phases()) {
        if (!first || phase.spec.start < *first) first = phase.spec.start;
        refuses = refuses || phase.stage == faults::Fault::Stage::reject;
    }
    if (!first) return {{"steady", Duration::zero(), end}};
    auto incident_to = last_end(refuses).value_or(end);
    Duration incident_end = std::min(end, std::max(incident_to, *first));
    Duration recovery_end = std::min(end, incident_end + std::max<Duration>(15min, end / 10));
    std::vector<PhaseWindow> w{{"steady", Duration::zero(), *first},
                               {"incident", *first, incident_end}};
    if (recovery_end > incident_end) w.push_back({"recovery", incident_end, recovery_end});
    if (end > recovery_end) w.push_back({"after", recovery_end, end});
    return w;
}

std::vector<PhaseWindow> run_windows(const RunResult& run) {
    auto windows = phase_windows(run.scenario);
    if (!run.reached) return windows;
    std::vector<PhaseWindow> reached;
    for (auto w : windows) {
        if (w.from >= *run.reached) break;
        w.to = std::min(w.to, *run.reached);
        reached.push_back(w);
    }
    return reached;
}

StackScore score_stack(const Scenario& s, const StackRun& run,
                       const std::vector<PhaseWindow>& windows) {
    StackScore out;
    out.client = run.client.name;
    out.notes = run.notes;
    out.lag = stack_lag(run);
    if (out.lag && out.lag->p99 >= 1s) out.notes.push_back(lag_note(*out.lag, s.time_scale));
    const Duration deadline = s.workload.deadline;
    const Duration bucket = std::max<Duration>(1min, s.duration / 120);
    // Where the windows end: the scenario's end, or where an interrupted run stopped.
    const Duration horizon = windows.empty() ? s.duration : windows.back().to;

    // "Could any provider have answered?" is asked of every provider in the scenario, not just
    // the ones this stack uses: a stack that chose one provider does not get credit for it being
    // down. Fresh engines follow the same timeline the fleets followed.
    std::vector<std::unique_ptr<faults::Engine>> engines;
    for (const auto& p : s.providers)
        engines.push_back(std::make_unique<faults::Engine>(p.phases, p.seed, p.id, s.duration));
    // The least time an answer takes at each provider: its first token and the network's trip.
    std::vector<Duration> room;
    for (const auto& p : s.providers) room.push_back(p.latency.ttft + p.latency.rtt);
    auto achievable = [&](const UserRecord& u) {
        for (std::size_t i = 0; i < s.providers.size(); ++i) {
            const auto& p = s.providers[i];
            if (u.kind == RequestKind::vision && !p.has_feature("vision")) continue;
            if (u.kind == RequestKind::tools && !p.has_feature("tools")) continue;
            for (const auto& model : p.models) {  // any model of it: a stack may route by model
                // Within the deadline: a spell that rejects at arrival may end in time for the
                // next to answer (its first token, at least, before the deadline).
                if (engines[i]->reject_probability_within(u.arrival, u.arrival + deadline - room[i],
                                                          facts_for(u, model)) < 0.99)
                    return true;
            }
        }
        return false;
    };
    // What each user got, decided once (harness/outcome.h); every metric below reads it.
    out.served.reserve(run.users.size());
    std::vector<bool> answerable;
    answerable.reserve(run.users.size());
    for (const auto& u : run.users) {
        answerable.push_back(achievable(u));
        out.served.push_back(classify(u, s.workload, answerable.back()));
    }
    auto index = [&](const UserRecord& u) {
        return static_cast<std::size_t>(&u - run.users.data());
    };
    auto served = [&](const UserRecord& u) { return out.served[index(u)]; };
    // The best outcome possible at that moment: an answer, or a clean error when none was possible.
    auto mitigated = [&](const UserRecord& u) {
        return received_answer(served(u)) || served(u) == Served::graceful_failure;
    };

    // Fail-back is judged on requests the primary could have served then (a feature it lost
    // for good is not a reason to call the stack unrecovered).
    const Route primary_route = parse_route(run.client.providers.front());
    const std::size_t primary_engine = provider_index(s, primary_route.provider);
    const std::string& primary_model = route_model(s, primary_route);
    // The primary's share of the answers to requests arriving in [a, b) that it could have served;
    // answers from the stack's own cache say nothing about where it sends traffic. NaN: none.
    TimeTally primary_answers(run.users.size());
    for (const auto& u : run.users) {
        if (u.outcome != UserRecord::Outcome::answered || u.provider < 0) continue;
        // At arrival only: an answer from the fallback while the primary's spell rejected is
        // not a failure to fail back.
        if (engines[primary_engine]->reject_probability(u.arrival, facts_for(u, primary_model)) <
            0.5)
            primary_answers.add(u.arrival, u.provider == 0);
    }
    primary_answers.seal();
    auto primary_share = [&](Duration a, Duration b) {
        auto in_range = primary_answers.in(a, b);
        return in_range.count > 0 ? in_range.value / in_range.count : kNaN;
    };

    std::vector<PhaseWindow> all_windows = windows;
    all_windows.push_back({"all", Duration::zero(), s.duration + 2 * deadline});

    // Attempts at the primary provider in [a, b).
    TimeTally at_primary(static_cast<std::size_t>(
        std::count_if(run.attempts.begin(), run.attempts.end(),
                      [&](const AttemptRecord& at) { return at.provider == primary_engine; })));
    for (const auto& at : run.attempts)
        if (at.provider == primary_engine) at_primary.add(at.at, true);
    at_primary.seal();
    auto primary_attempts = [&](Duration a, Duration b) { return at_primary.in(a, b).count; };

    // Steady references for herd factor and fail-back.
    double steady_primary_rate = kNaN, steady_primary_share = kNaN;
    for (const auto& w : windows) {
        if (w.name != "steady" || w.to <= w.from) continue;
        steady_primary_rate =
            primary_attempts(w.from, w.to) / (to_seconds(w.to - w.from) / to_seconds(bucket));
        steady_primary_share = primary_share(w.from, w.to);
    }

    // Time from `from` to the end of the last bucket before `limit` in which `ok` fails (0 when
    // none does): how long until the stack stopped having bad minutes.
    auto time_until = [&](Duration from, Duration limit,
                          const std::function<bool(Duration, Duration)>& ok) {
        double last_bad_end = 0;
        for (Duration t = from; t < limit; t += bucket) {
            Duration b = std::min(t + bucket, limit);
            if (!ok(t, b)) last_bad_end = to_seconds(b - from);
        }
        return last_bad_end;
    };
    TimeTally mitigated_users(run.users.size());
    for (const auto& u : run.users) mitigated_users.add(u.arrival, mitigated(u));
    mitigated_users.seal();
    auto mitigated_in = [&](Duration a, Duration b) {
        auto in_range = mitigated_users.in(a, b);
        return in_range.count == 0 ? 1.0 : in_range.value / in_range.count;
    };

    const std::vector<AttemptFacts> attempt_facts_of = attempt_facts(s, run);
    for (const auto& w : all_windows) {
        Metrics m;
        double n = 0, answered = 0, degraded = 0, wrong = 0, hung = 0, no_path = 0, graceful = 0;
        // Time until the user had an answer, for every request that could have been answered:
        // one without an answer counts as the whole deadline. Latency of answers alone would
        // reward a stack for failing its slow requests. Room for every request, made once: the
        // last window ("all") holds them all, so no window needs more and none grows by doubling.
        std::vector<double> latencies, waits;
        latencies.reserve(run.users.size());
        waits.reserve(run.users.size());
        for (const auto& u : run.users) {
            if (!in(u.arrival, w)) continue;
            ++n;
            Served what = served(u);
            if (received_answer(what)) {
                ++answered;
                latencies.push_back(to_seconds(u.finished - u.arrival));
                waits.push_back(latencies.back());
            } else if (answerable[index(u)]) {
                waits.push_back(to_seconds(deadline));
            }
            degraded += what == Served::degraded_answer;
            wrong += what == Served::wrong_answer;
            hung += what == Served::hung;
            // Requests no provider could have answered: a cached answer or a clean, fast error
            // is the best a stack can do for them.
            if (!answerable[index(u)]) {
                ++no_path;
                graceful += what == Served::graceful_failure || received_answer(what);
            }
        }
        double attempts = 0, violations = 0, waited_for = 0, cost = 0;
        // In step with the deque, walked in order: the step comes before any `continue`.
        auto facts = attempt_facts_of.begin();
        for (const auto& a : run.attempts) {
            const auto& f = *facts++;
            if (!in(a.at, w)) continue;
            ++attempts;
            waited_for += f.waited_for;
            violations += f.violation;
            if (a.status == 200) cost += f.cost;
        }
        m[std::string(metric::requests)] = n;
        m[std::string(metric::availability)] = n > 0 ? answered / n : kNaN;
        m[std::string(metric::degraded_answers)] = degraded;
        m[std::string(metric::graceful_degradation)] = no_path > 0 ? graceful / no_path : kNaN;
        m[std::string(metric::wrong_answers)] = wrong;
        m[std::string(metric::hung)] = hung;
        m[std::string(metric::latency_p50)] = percentile_of(latencies, 0.50);
        m[std::string(metric::latency_p95)] = percentile_of(latencies, 0.95);
        m[std::string(metric::latency_p99)] = percentile_of(latencies, 0.99);
        m[std::string(metric::latency_max)] = percentile_of(latencies, 1.0);
        m[std::string(metric::retry_amplification)] = n > 0 ? attempts / n : kNaN;
        m[std::string(metric::retry_after_violations)] = violations;
        // Of the retries that came after an announced wait, the share that waited.
        m[std::string(metric::retry_after_compliance)] =
            waited_for > 0 ? 1.0 - violations / waited_for : kNaN;
        m[std::string(metric::wait_p50)] = percentile_of(waits, 0.50);
        m[std::string(metric::wait_p99)] = percentile_of(waits, 0.99);
        m[std::string(metric::cost)] = cost;
        m[std::string(metric::time_to_mitigate)] = kNaN;
        m[std::string(metric::time_to_recover)] = kNaN;
        m[std::string(metric::herd_factor)] = kNaN;
        m[std::string(metric::metastable)] = kNaN;
        out.phases[w.name] = m;
    }

    const PhaseWindow* incident = nullptr;
    const PhaseWindow* recovery = nullptr;
    for (const auto& w : windows) {
        if (w.name == "incident") incident = &w;
        if (w.name == "recovery") recovery = &w;
    }
    double steady_avail =
        out.phases.count("steady") ? out.phases["steady"][std::string(metric::availability)] : kNaN;
    if (incident != nullptr) {
        double ttm = time_until(incident->from, incident->to,
                                [&](Duration a, Duration b) { return mitigated_in(a, b) >= 0.95; });
        if (out.phases.count("incident"))
            out.phases["incident"][std::string(metric::time_to_mitigate)] = ttm;
        out.phases["all"][std::string(metric::time_to_mitigate)] = ttm;
        auto recovered = [&](Duration a, Duration b) {
            if (mitigated_in(a, b) < 0.95) return false;
            if (std::isnan(steady_primary_share)) return true;
            double share = primary_share(a, b);
            return std::isnan(share) || share >= 0.9 * steady_primary_share;  // failed back
        };
        // No recovery window (the incident lasts to the end, or the run stopped in it): not
        // measurable, rather than "recovered at once".
        double ttr = recovery ? time_until(incident->to, recovery->to, recovered) : kNaN;
        if (out.phases.count("recovery"))
            out.phases["recovery"][std::string(metric::time_to_recover)] = ttr;
        out.phases["all"][std::string(metric::time_to_recover)] = ttr;
        if (recovery != nullptr && steady_primary_rate > 0) {
            double peak = 0;
            for (Duration t = recovery->from; t < recovery->to; t += bucket)
                peak = std::max(peak, primary_attempts(t, t + bucket));
            out.phases["recovery"][std::string(metric::herd_factor)] = peak / steady_primary_rate;
            out.phases["all"][std::string(metric::herd_factor)] = peak / steady_primary_rate;
        }
        // Metastable: goodput below half of steady long after the trigger ended.
        Duration trigger = incident->to - incident->from;
        Duration long_after = incident->to + std::max<Duration>(60s, 3 * trigger);
        if (!std::isnan(steady_avail) && long_after < horizon) {
            double late = mitigated_in(long_after, horizon);
            double flag = late < 0.5 * steady_avail ? 1.0 : 0.0;
            if (out.phases.count("after"))
                out.phases["after"][std::string(metric::metastable)] = flag;
            out.phases["all"][std::string(metric::metastable)] = flag;
        } else {
            out.phases["all"][std::string(metric::metastable)] = 0.0;
        }
    }

    // The 0–100 score: weighted components, each a ramp between a bad and a good anchor.
    const auto& inc = out.phases.count("incident") ? out.phases["incident"] : out.phases["all"];
    const auto& all = out.phases["all"];
    double incident_len = incident ? to_seconds(incident->to - incident->from) : kNaN;
    double steady_p99 =
        out.phases.count("steady") ? out.phases["steady"][std::string(metric::wait_p99)] : kNaN;
    double steady_p50 =
        out.phases.count("steady") ? out.phases["steady"][std::string(metric::wait_p50)] : kNaN;
    // What users got in a phase: a live answer counts whole, an out-of-date one from a cache half.
    auto users_got = [](const Metrics& m) {
        double requests = m.at(std::string(metric::requests));
        return requests > 0 ? m.at(std::string(metric::availability)) -
                                  0.5 * m.at(std::string(metric::degraded_answers)) / requests
                            : kNaN;
    };
    double incident_value = users_got(inc);
    // After the provider is back, every user who fails fails because of the client (a herd it
    // caused, a breaker that has not failed back, a feature it still cannot route around).
    double recovery_value = recovery != nullptr ? users_got(out.phases.at("recovery")) : kNaN;
    // Users feel latency as a ratio to what they are used to: 1.25× the steady median is as good
    // as it gets, 10× is as bad (README "Scoring" gives the rationale for every anchor and weight).
    double typical_slowdown =
        steady_p50 > 0 ? inc.at(std::string(metric::wait_p50)) / steady_p50 : kNaN;
    out.components = {
        {"incident availability", 30, ramp(incident_value, 0.0, 0.99)},
        {"graceful degradation", 5,
         ramp(all.at(std::string(metric::graceful_degradation)), 0.0, 1.0)},
        {"wrong answers", 15,
         ramp(all.at(std::string(metric::requests)) > 0
                  ? all.at(std::string(metric::wrong_answers)) /
                        all.at(std::string(metric::requests))
                  : kNaN,
              0.05, 0.0)},
        {"time to mitigate", 10,
         ramp(all.at(std::string(metric::time_to_mitigate)), incident_len, 120)},
        {"time to recover", 10,
         recovery ? ramp(all.at(std::string(metric::time_to_recover)),
                         to_seconds(recovery->to - recovery->from), 120)
                  : kNaN},
        {"recovery availability", 10, ramp(recovery_value, 0.9, 0.999)},
        {"retry amplification", 10,
         ramp(inc.at(std::string(metric::retry_amplification)), 5.0, 1.1)},
        {"incident latency, typical", 10,
         ramp(std::log(typical_slowdown), std::log(10.0), std::log(1.25))},
        {"incident latency, tail", 5,
         ramp(inc.at(std::string(metric::wait_p99)), to_seconds(deadline),
              std::isnan(steady_p99) ? 0.0 : 1.5 * steady_p99)},
        {"Retry-After compliance", 10,
         ramp(all.at(std::string(metric::retry_after_compliance)), 0.5, 1.0)},
        {"herd factor", 5, ramp(all.at(std::string(metric::herd_factor)), 3, 1.2)},
        {"steady availability", 5, ramp(steady_avail, 0.9, 0.999)},
    };
    double sum = 0, weights = 0;
    std::vector<std::string> left_out;
    for (const auto& c : out.components) {
        if (std::isnan(c.value)) {
            left_out.push_back(c.name);
            continue;
        }
        sum += c.weight * c.value;
        weights += c.weight;
    }
    if (!left_out.empty())
        out.notes.push_back(fmt::format("not measurable in this run, left out of the score: {}",
                                        fmt::join(left_out, ", ")));
    out.score = weights > 0 ? 100.0 * sum / weights : 0.0;
    if (all.at(std::string(metric::metastable)) == 1.0) {
        out.score = std::min(out.score, 20.0);
        out.notes.push_back("metastable: score capped at 20");
    }
    if (all.at(std::string(metric::hung)) > 0) {
        out.score = std::min(out.score, 50.0);
        out.notes.push_back(
            fmt::format("{} hung requests: score capped at 50", all.at(std::string(metric::hung))));
    }
    for (auto& [phase, m] : out.phases) m[std::string(metric::score)] = out.score;
    return out;
}

std::vector<ExpectationResult> check_expectations(const Scenario& s,
                                                  const std::vector<StackScore>& scores) {
    std::vector<ExpectationResult> out;
    for (const auto& e : s.expect) {
        for (const auto& score : scores) {
            if (e.client != "*" && e.client != score.client) continue;
            ExpectationResult r{e, score.client, kNaN, false, ""};
            auto phase = score.phases.find(e.phase);
            if (phase != score.phases.end()) {
                auto metric = phase->second.find(e.metric);
                if (metric != phase->second.end()) r.measured = metric->second;
            }
            std::string bound = e.min && e.max ? fmt::format("in [{}, {}]", *e.min, *e.max)
                                : e.min        ? fmt::format(">= {}", *e.min)
                                               : fmt::format("<= {}", *e.max);
            if (std::isnan(r.measured)) {
                r.message = fmt::format("{} {} ({}): not measurable in this run, expected {}",
                                        score.client, e.metric, e.phase, bound);
            } else {
                r.passed = (!e.min || r.measured >= *e.min) && (!e.max || r.measured <= *e.max);
                r.message = fmt::format("{} {} ({}) = {:.4g}, expected {}", score.client, e.metric,
                                        e.phase, r.measured, bound);
            }
            out.push_back(std::move(r));
        }
    }
    return out;
}

}  // namespace brownout::harness
