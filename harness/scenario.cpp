#include "harness/scenario.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "core/random.h"
#include "core/text.h"
#include "core/toml_reader.h"
#include "faults/keys.h"
#include "faults/timeline.h"
#include "harness/metric.h"
#include "harness/stacks/stack.h"

namespace brownout::harness {
namespace {

const std::vector<std::string> kFeatures = {"stream", "vision", "tools"};

void read_provider_tables(TableReader& t, mock::ProviderConfig& p,
                          std::map<std::string, std::pair<double, double>>& prices,
                          ErrorCollector& errors);
void check_phases(const std::vector<faults::PhaseSpec>& phases, Duration horizon);
Expectation read_expectation(TableReader& e, const std::vector<std::string>& names);

// ── The keys of a scenario file, declared once (core/toml_reader.h) ─────────────────────────
// The readers below read through them; `brownout schema` makes the JSON Schema from them.

const TableSpec& provider_spec() {
    static const TableSpec latency{
        "latency",
        "how fast the provider answers when healthy",
        {{"ttft", KeyType::duration, "time to first token"},
         {"tokens_per_second", KeyType::number, "tokens a second after it", {}, 0, 1e9},
         {"jitter", KeyType::number, "relative spread of both (and of rtt)", {}, 0, 1},
         {"rtt", KeyType::duration,
          "network round trip added to every reply, errors included (default 0)"}}};
    static const TableSpec rate_limits{
        "rate limits",
        "the provider's own limits per API key (x-ratelimit-* headers, 429 beyond)",
        {{"requests_per_minute", KeyType::integer, "", {}, 0},
         {"tokens_per_minute", KeyType::integer, "", {}, 0}}};
    static const TableSpec answer{"answer",
                                  "how long synthetic answers are",
                                  {{"min_tokens", KeyType::integer, "", {}, 1, 100000},
                                   {"max_tokens", KeyType::integer, "", {}, 1, 100000}}};
    static const TableSpec price{"price",
                                 "dollars per million tokens, for the cost metric",
                                 {{"input_per_mtok", KeyType::number, "(default 1)", {}, 0, 1e6},
                                  {"output_per_mtok", KeyType::number, "(default 4)", {}, 0, 1e6}}};
    static const TableSpec capacity{
        "capacity",
        "finite capacity: answers in service at once, a queue, busy beyond",
        {{"concurrency", KeyType::integer, "answers in service at once (default 64)", {}, 1, 1e6},
         {"queue", KeyType::integer, "requests waiting (default 0)", {}, 0, 1e7},
         {"abandoned_work",
          KeyType::string,
          "whether work a client gave up on goes on holding its slot",
          {"cancel", "continue"}},
         {"status",
          KeyType::integer,
          "the busy answer's status (default: the dialect's)",
          {},
          400,
          599}}};
    static const TableSpec status_page{
        "status page",
        "the provider's status page",
        {{"components", KeyType::strings, "its components"},
         {"lag", KeyType::duration, "how late it shows what happens"}}};
    static const TableSpec spec{
        "provider",
        "one mock provider and its incident timeline",
        {{"id", KeyType::string, "its name (BROWNOUT_<ID>_URL)", {}, {}, {}, nullptr, true},
         {"dialect", KeyType::string, "the API it speaks (default openai)", wire::dialect_names()},
         {"vendor", KeyType::string, "whose wording its errors use", wire::vendor_names()},
         {"models", KeyType::strings, "the models it serves"},
         {"features", KeyType::strings, "stream, vision, tools (default all)"},
         {"latency", KeyType::table, "", {}, {}, {}, &latency},
         {"rate_limits", KeyType::table, "", {}, {}, {}, &rate_limits},
         {"answer", KeyType::table, "", {}, {}, {}, &answer},
         {"price", KeyType::table, "", {}, {}, {}, &price},
         {"api_key", KeyType::string, "requests must carry this key (401 otherwise)"},
         {"max_body_bytes", KeyType::integer, "larger bodies get 413", {}, 1024, 1073741824},
         {"max_tokens_cap", KeyType::integer, "a larger max_tokens gets 400", {}, 1},
         {"capacity", KeyType::table, "", {}, {}, {}, &capacity},
         {"status_page", KeyType::table, "", {}, {}, {}, &status_page},
         {"phases", KeyType::tables, "the incident timeline", {}, {}, {}, &faults::phase_spec()}}};
    return spec;
}

// Every client table's keys, whatever its kind.
std::vector<KeySpec> common_client_keys() {
    return {{"name", KeyType::string, "the stack's name in reports", {}, {}, {}, nullptr, true},
            {"kind", KeyType::string, "a built-in policy, a gateway, or a program over stdio",
             stack_kinds()},
            {"providers",
             KeyType::strings,
             "its providers in order (\"id\" or \"id/model\")",
             {},
             {},
             {},
             nullptr,
             true}};
}

// A built-in stack's table: the stack's keys and its policy's (harness/policies/).
const TableSpec& builtin_spec(const std::string& policy) {
    static const std::map<std::string, TableSpec> specs = [] {
        std::map<std::string, TableSpec> out;
        for (const auto& name : policy_names()) {
            TableSpec s{fmt::format("client (policy = \"{}\")", name), "one client stack", {}};
            s.keys = common_client_keys();
            s.unknown_key_note = [name](std::string_view key) {
                return policy_key_note(name, key);
            };
            for (auto& k : policy_keys(name)) s.keys.push_back(std::move(k));
            out.emplace(name, std::move(s));
        }
        return out;
    }();
    return specs.at(policy);
}

const TableSpec& client_spec(const std::string& kind) {
    const std::vector<KeySpec> common = common_client_keys();
    const std::vector<KeySpec> external = {
        {"command", KeyType::string, "starts it (stdio: required; {port} for a gateway)"},
        {"ready_timeout", KeyType::duration, "how long to wait for it to be ready"},
        {"time", KeyType::string, "whose clock its own timers run on", {"scenario", "wall"}}};
    auto make = [&](std::string name, std::vector<std::vector<KeySpec>> parts) {
        TableSpec s{std::move(name), "one client stack", {}};
        for (auto& part : parts)
            for (auto& k : part) s.keys.push_back(std::move(k));
        return s;
    };
    // The policy's keys depend on which policy it is.
    static const TableSpec builtin = [&] {
        TableSpec s = make("client (kind = \"builtin\")", {common, policy_keys("")});
        s.variant_key = "policy";
        s.variant_default = "failover";
        for (const auto& name : policy_names()) s.variants.emplace_back(name, &builtin_spec(name));
        return s;
    }();
    static const TableSpec gateway = make(
        "client (kind = \"gateway\")",
        {common,
         external,
         {{"url",
           KeyType::string,
           "its OpenAI-compatible base URL (\"http://127.0.0.1:{port}/v1\")",
           {},
           {},
           {},
           nullptr,
           true},
          {"headers", KeyType::table, "sent with every request (${BROWNOUT_<ID>_URL} expanded)"},
          {"model", KeyType::string, "the model to ask for"}}});
    static const TableSpec stdio = make(
        "client (kind = \"stdio\")",
        {common,
         external,
         {{"ready_line", KeyType::boolean, "it writes {\"ready\":true} once started"},
          {"warmup", KeyType::integer, "unscored requests before the clock starts", {}, 0, 100},
          {"dialects", KeyType::strings, "also hand it each request in these dialects"}}});
    static const TableSpec base = [] {
        TableSpec s{"client", "one client stack", {}};
        s.keys = {{"name", KeyType::string, "", {}, {}, {}, nullptr, true},
                  {"kind", KeyType::string, "", stack_kinds()}};
        s.variant_key = "kind";
        s.variant_default = "builtin";
        s.variants = {{"builtin", &builtin}, {"gateway", &gateway}, {"stdio", &stdio}};
        return s;
    }();
    return kind == "gateway"   ? gateway
           : kind == "stdio"   ? stdio
           : kind == "builtin" ? builtin
                               : base;
}

const TableSpec& server_spec() {
    static const TableSpec spec = [] {
        TableSpec s{"server", "the mock's own limits, in wall time (same as serve's flags)", {}};
        for (const auto& name : mock::server_limit_names())
            s.keys.push_back({name,
                              KeyType::any,
                              "a whole number or a duration string",
                              {},
                              {},
                              {},
                              nullptr,
                              false,
                              R"({"type":["integer","string"]})"});
        return s;
    }();
    return spec;
}

const TableSpec& expect_spec() {
    static const TableSpec spec{
        "expectation",
        "a gate: the run exits 1 when a measured value is outside [min, max]",
        {{"client", KeyType::string, "a client's name, or \"*\" for every one"},
         {"metric", KeyType::string, "what is measured", metric_names(), {}, {}, nullptr, true},
         {"phase", KeyType::string, "where", {"steady", "incident", "recovery", "after", "all"}},
         {"statistic",
          KeyType::string,
          "over a simulation's seeds",
          {"mean", "ci95_low", "ci95_high"}},
         {"min", KeyType::number, ""},
         {"max", KeyType::number, ""}}};
    return spec;
}

}  // namespace

const TableSpec& scenario_spec() {
    static const TableSpec meta{
        "scenario",
        "what the scenario is",
        {{"name", KeyType::string, "", {}, {}, {}, nullptr, true},
         {"title", KeyType::string, ""},
         {"duration", KeyType::duration, "scenario time (default 1h)"},
         {"time_scale", KeyType::number, "scenario seconds per wall second", {}, 1e-3, 1e6},
         {"seed", KeyType::integer, "", {}, 0}}};
    static const TableSpec spec{
        "brownout scenario",
        "A brownout scenario: mock LLM providers with an incident timeline, a workload and the "
        "client stacks to test (README \"Scenarios\")",
        {{"scenario", KeyType::table, "", {}, {}, {}, &meta, true},
         {"providers", KeyType::tables, "", {}, {}, {}, &provider_spec(), true},
         {"workload", KeyType::table, "", {}, {}, {}, &workload_spec()},
         {"server", KeyType::table, "", {}, {}, {}, &server_spec()},
         {"clients",
          KeyType::tables,
          "default: the four built-in policies",
          {},
          {},
          {},
          &client_spec("")},
         {"expect", KeyType::tables, "", {}, {}, {}, &expect_spec()}}};
    return spec;
}

namespace {

mock::ProviderConfig read_provider(TableReader& t, std::uint64_t seed, Duration horizon,
                                   const std::set<std::string>& seen,
                                   std::map<std::string, std::pair<double, double>>& prices) {
    mock::ProviderConfig p;
    p.id = t.required_string("id");
    if (seen.count(p.id)) t.fail("id", fmt::format("provider id \"{}\" is used twice", p.id));
    // The dialects and vendors are the registry's (wire/registry.cpp).
    const auto& dialect =
        *wire::find_dialect(t.choice("dialect", wire::dialect_names()).value_or("openai"));
    p.dialect = dialect.kind;
    auto speaks = [&](wire::Vendor v) {
        return std::find(dialect.vendors.begin(), dialect.vendors.end(), v) !=
               dialect.vendors.end();
    };
    wire::Vendor default_vendor =
        p.id.find("deepseek") != std::string::npos && speaks(wire::Vendor::deepseek)
            ? wire::Vendor::deepseek
            : dialect.vendors.front();
    p.vendor = default_vendor;
    if (auto vendor = t.choice("vendor", wire::vendor_names())) {
        p.vendor = wire::find_vendor(*vendor)->vendor;
        if (!speaks(p.vendor)) {
            t.fail("vendor", fmt::format("vendor \"{}\" does not speak the {} dialect", *vendor,
                                         dialect.name));
        }
    }
    if (auto models = t.strings("models")) {
        if (models->empty()) t.fail("models", "must name at least one model");
        p.models = *models;
    } else {
        p.models = {std::string(dialect.default_model)};
    }
    if (auto features = t.strings("features")) {
        for (const auto& f : *features) {
            if (std::find(kFeatures.begin(), kFeatures.end(), f) == kFeatures.end()) {
                t.fail("features",
                       fmt::format("unknown feature \"{}\" (known: stream, vision, tools)", f));
            }
        }
        p.features = *features;
    }
    ErrorCollector errors;  // every sub-table and phase is checked, whatever the others say
    read_provider_tables(t, p, prices, errors);
    errors.attempt([&] { p.phases = faults::read_phases(t); });
    errors.attempt([&] { check_phases(p.phases, horizon); });
    errors.attempt([&] { t.finish(); });
    errors.throw_if_any();
    p.horizon = horizon;
    p.seed = hash64(p.id, seed);
    return p;
}

void read_provider_tables(TableReader& t, mock::ProviderConfig& p,
                          std::map<std::string, std::pair<double, double>>& prices,
                          ErrorCollector& errors) {
    errors.attempt([&] {
        if (auto latency = t.table("latency")) {
            if (auto ttft = latency->duration("ttft")) p.latency.ttft = *ttft;
            if (auto tps = latency->number_in("tokens_per_second", 0, 1e9))
                p.latency.tokens_per_second = *tps;
            if (auto jitter = latency->number_in("jitter", 0, 1)) p.latency.jitter = *jitter;
            if (auto rtt = latency->duration("rtt")) p.latency.rtt = *rtt;
            latency->finish();
        }
    });
    errors.attempt([&] {
        if (auto limits = t.table("rate_limits")) {
            if (auto rpm = limits->integer("requests_per_minute", 0))
                p.rate_limits.requests_per_minute = static_cast<long>(*rpm);
            if (auto tpm = limits->integer("tokens_per_minute", 0))
                p.rate_limits.tokens_per_minute = static_cast<long>(*tpm);
            limits->finish();
        }
    });
    errors.attempt([&] {
        if (auto answer = t.table("answer")) {
            if (auto lo = answer->integer("min_tokens", 1, 100000))
                p.answer.min_tokens = static_cast<int>(*lo);
            if (auto hi = answer->integer("max_tokens", 1, 100000))
                p.answer.max_tokens = static_cast<int>(*hi);
            if (p.answer.max_tokens < p.answer.min_tokens)
                answer->fail("max_tokens", "is smaller than min_tokens");
            answer->finish();
        }
    });
    errors.attempt([&] {
        if (auto price = t.table("price")) {
            double in = price->number_in("input_per_mtok", 0, 1e6).value_or(1.0);
            double out = price->number_in("output_per_mtok", 0, 1e6).value_or(4.0);
            prices[p.id] = {in, out};
            price->finish();
        } else {
            prices[p.id] = {1.0, 4.0};
        }
    });
    errors.attempt([&] {
        if (auto key = t.string("api_key")) p.api_key = *key;
    });
    errors.attempt([&] {
        if (auto body = t.integer("max_body_bytes", 1024, std::int64_t{1} << 30))
            p.max_body_bytes = static_cast<std::size_t>(*body);
    });
    errors.attempt([&] {
        if (auto cap = t.integer("max_tokens_cap", 1)) p.max_tokens_cap = *cap;
    });
    errors.attempt([&] {
        if (auto cap = t.table("capacity")) {
            p.capacity.concurrency =
                static_cast<int>(cap->integer("concurrency", 1, 1'000'000).value_or(64));
            p.capacity.queue = static_cast<int>(cap->integer("queue", 0, 10'000'000).value_or(0));
            p.capacity.abandoned_work_continues =
                cap->choice("abandoned_work", {"cancel", "continue"}).value_or("continue") ==
                "continue";
            p.capacity.busy_status = static_cast<int>(cap->integer("status", 400, 599).value_or(0));
            cap->finish();
        }
    });
    errors.attempt([&] {
        if (auto page = t.table("status_page")) {
            if (auto components = page->strings("components")) {
                if (components->empty())
                    page->fail("components", "must name at least one component");
                p.status_page.components = *components;
            }
            if (auto lag = page->duration("lag")) p.status_page.lag = *lag;
            page->finish();
        }
    });
}

void check_phases(const std::vector<faults::PhaseSpec>& phases, Duration horizon) {
    ErrorCollector errors;
    for (std::size_t i = 0; i < phases.size(); ++i) {
        const auto& phase = phases[i];
        errors.attempt([&] {
            if (phase.start >= horizon) {
                throw Error(phase.where, phase.key_path + ".start",
                            fmt::format("the phase starts at {}, after the scenario ends ({})",
                                        format_duration(phase.start), format_duration(horizon)));
            }
        });
    }
    errors.throw_if_any();
}

// [server]: the mock's own limits, in wall time. Whole numbers or duration strings, checked by
// the same function as the command-line flags.
void read_server_limits(TableReader& t, mock::ServerLimits& limits) {
    for (const auto& name : mock::server_limit_names()) {
        const toml::node* n = t.node(name);
        if (n == nullptr) continue;
        std::string value;
        if (auto i = n->value_exact<std::int64_t>())
            value = std::to_string(*i);
        else if (auto text = n->value_exact<std::string>())
            value = *text;
        else
            t.fail(name, "expected a whole number or a duration string");
        if (auto problem = mock::set_server_limit(limits, name, value); !problem.empty())
            t.fail(name, problem);
    }
    t.finish();
}

ClientSpec read_client(TableReader& c, const Scenario& s, const std::set<std::string>& ids,
                       const std::vector<std::string>& provider_ids) {
    ClientSpec spec;
    spec.name = c.required_string("name");
    spec.kind = c.choice("kind", stack_kinds()).value_or("builtin");
    c.set_spec(&client_spec(spec.kind));  // from here on: that kind's keys
    ErrorCollector errors;
    errors.attempt([&] {
        if (spec.kind == "builtin") {
            // From here on: that policy's keys (the default's when the name is not one: its
            // error comes from read_policy_params).
            const toml::node* named = c.raw().get("policy");
            std::string policy = named != nullptr && named->is_string() ? named->as_string()->get()
                                                                        : std::string("failover");
            const auto& names = policy_names();
            if (std::find(names.begin(), names.end(), policy) == names.end()) policy = "failover";
            c.set_spec(&builtin_spec(policy));
            spec.params = read_policy_params(c);
            return;
        }
        spec.params.policy = spec.kind;
        spec.command = c.string("command", "");
        if (spec.kind == "stdio" && spec.command.empty())
            c.fail("command", "a stdio client needs the command that starts it");
        if (spec.kind == "gateway") {
            spec.url = c.required_string("url");
            if (!spec.url.starts_with("http://"))
                c.fail("url",
                       "expected http://HOST:PORT/PATH (\"{port}\" is replaced by a free port)");
            if (auto h = c.table("headers")) {
                for (const auto& [k, v] : h->raw()) {
                    auto value = h->string(std::string(k.str()));
                    spec.headers[std::string(k.str())] = *value;
                }
                h->finish();
            }
            spec.model = c.string("model", "");
        }
        if (auto d = c.duration("ready_timeout")) spec.ready_timeout = *d;
        spec.time = c.choice("time", {"scenario", "wall"}).value_or("scenario");
        // ready_line, warmup and dialects are a stdio client's: on another kind they are
        // unknown keys (its spec does not have them), as the schema says too.
        if (spec.kind != "stdio") return;
        spec.ready_line = c.boolean("ready_line").value_or(false);
        if (auto n = c.integer("warmup", 0, 100)) spec.warmup = static_cast<int>(*n);
        if (auto dialects = c.strings("dialects")) {
            auto names = wire::dialect_names();
            for (const auto& d : *dialects) {
                if (std::find(names.begin(), names.end(), d) == names.end()) {
                    std::string hint = closest_match(d, names);
                    c.fail("dialects",
                           fmt::format(
                               "unknown dialect \"{}\"{}", d,
                               hint.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", hint)));
                }
            }
            spec.dialects = *dialects;
        }
    });
    errors.attempt([&] {
        spec.providers = c.strings("providers").value_or(std::vector<std::string>{});
        if (spec.providers.empty()) c.fail("providers", "a client needs at least one provider");
        std::set<std::string> routes;
        for (const auto& entry : spec.providers) {
            // Named members, not a structured binding: clang 14 cannot capture one in a lambda.
            const Route route = parse_route(entry);
            const std::string& id = route.provider;
            const std::string& model = route.model;
            if (!ids.count(id)) {
                std::string hint = closest_match(id, provider_ids);
                c.fail(
                    "providers",
                    fmt::format("unknown provider \"{}\"{}", id,
                                hint.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", hint)));
            }
            auto p = std::find_if(s.providers.begin(), s.providers.end(),
                                  [&](const mock::ProviderConfig& c) { return c.id == id; });
            if (!model.empty() &&
                p != s.providers.end()) {  // a provider that failed to read has its own error
                if (spec.external())
                    c.fail("providers", fmt::format("\"{}\": a model route is for built-in stacks; "
                                                    "external stacks choose their own models",
                                                    entry));
                if (!p->serves_model(model)) {
                    std::string hint = closest_match(model, p->models);
                    c.fail("providers",
                           fmt::format(
                               "provider \"{}\" has no model \"{}\"{}", id, model,
                               hint.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", hint)));
                }
            }
            if (!routes.insert(entry).second)
                c.fail("providers", fmt::format("\"{}\" is listed twice", entry));
        }
    });
    errors.attempt([&] { c.finish(); });
    errors.throw_if_any();
    return spec;
}

Scenario read_scenario(const toml::table& root, const std::string& file) {
    auto name = std::make_shared<const std::string>(file);
    TableReader top(root, "", name, &scenario_spec());
    Scenario s;
    s.file = file;
    // Every table is read whatever the others say, so that one run of `validate` reports every
    // error in the file; a table that fails is left out of the cross-checks that would only
    // repeat its error.
    ErrorCollector errors;
    errors.attempt([&] {
        auto meta = top.table("scenario");
        if (!meta) top.fail("the [scenario] table is required");
        errors.attempt([&] { s.name = meta->required_string("name"); });
        s.title = meta->string("title", "");
        errors.attempt([&] {
            if (auto d = meta->duration("duration")) {
                if (*d <= Duration::zero()) meta->fail("duration", "must be longer than zero");
                s.duration = *d;
            }
        });
        errors.attempt([&] {
            if (auto scale = meta->number_in("time_scale", 1e-3, 1e6)) s.time_scale = *scale;
        });
        errors.attempt([&] {
            if (auto seed = meta->integer("seed", 0)) s.seed = static_cast<std::uint64_t>(*seed);
        });
        meta->finish();
    });

    std::set<std::string> ids;       // read without error
    std::set<std::string> declared;  // every provider's id, for cross-checks
    errors.attempt([&] {
        auto tables = top.tables("providers");
        if (tables.empty()) top.fail("a scenario needs at least one [[providers]] table");
        for (auto& p : tables) {
            if (auto id = p.raw()["id"].value<std::string>()) declared.insert(*id);
            errors.attempt([&] {
                s.providers.push_back(read_provider(p, s.seed, s.duration, ids, s.prices));
                ids.insert(s.providers.back().id);
            });
        }
    });
    std::vector<std::string> provider_ids(declared.begin(), declared.end());
    errors.attempt([&] {
        if (auto w = top.table("workload")) s.workload = read_workload(*w);
    });
    errors.attempt([&] {
        if (auto server = top.table("server")) read_server_limits(*server, s.server);
    });
    std::set<std::string> client_names;
    errors.attempt([&] {
        // A file without [[clients]] has the four built-in policies (add_default_clients).
        for (auto& c : top.tables("clients")) {
            errors.attempt([&] {
                if (auto n = c.raw()["name"].value<std::string>();
                    n && !client_names.insert(*n).second) {
                    c.fail("name", fmt::format("client name \"{}\" is used twice", *n));
                }
                s.clients.push_back(read_client(c, s, declared, provider_ids));
            });
        }
    });
    std::vector<std::string> names(client_names.begin(), client_names.end());
    errors.attempt([&] {
        for (auto& e : top.tables("expect"))
            errors.attempt([&] { s.expect.push_back(read_expectation(e, names)); });
    });
    errors.attempt([&] { top.finish(); });
    errors.throw_if_any();
    return s;
}

Scenario read_changed_scenario(toml::table root, const std::string& file,
                               const std::vector<Override>& overrides) {
    add_default_clients(root);
    for (const auto& o : overrides) apply_override(root, o);
    if (overrides.empty()) return read_scenario(root, file);
    try {
        return read_scenario(root, file);
    } catch (const Error& e) {
        std::string with;
        for (const auto& o : overrides) with += fmt::format(" {}={}", o.path, o.value);
        throw Error(fmt::format("{}\n(the scenario as changed by --sweep{})", e.what(), with));
    }
}

Expectation read_expectation(TableReader& e, const std::vector<std::string>& names) {
    Expectation x;
    x.where = e.where();
    x.client = e.string("client", "*");
    if (x.client != "*" && std::find(names.begin(), names.end(), x.client) == names.end()) {
        std::string hint = closest_match(x.client, names);
        e.fail("client",
               fmt::format("unknown client \"{}\"{}", x.client,
                           hint.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", hint)));
    }
    auto metric = e.choice("metric", metric_names());
    if (!metric) e.fail("metric", "is required");
    x.metric = *metric;
    x.phase = e.choice("phase", {"steady", "incident", "recovery", "after", "all"}).value_or("all");
    x.statistic = e.choice("statistic", {"mean", "ci95_low", "ci95_high"}).value_or("mean");
    x.min = e.number("min");
    x.max = e.number("max");
    if (!x.min && !x.max) e.fail("an expectation needs min or max");
    e.finish();
    return x;
}

}  // namespace

Route parse_route(std::string_view entry) {
    auto colon = entry.find(':');
    if (colon == std::string_view::npos) return {std::string(entry), ""};
    return {std::string(entry.substr(0, colon)), std::string(entry.substr(colon + 1))};
}

std::size_t provider_index(const Scenario& s, std::string_view id) {
    for (std::size_t i = 0; i < s.providers.size(); ++i) {
        if (s.providers[i].id == id) return i;
    }
    throw Error(fmt::format("no provider \"{}\" in scenario {}", id, s.name));
}

const std::string& route_model(const Scenario& s, const Route& route) {
    return route.model.empty() ? s.providers[provider_index(s, route.provider)].models.front()
                               : route.model;
}

const std::vector<std::string>& metric_names() {
    return metric::names();
}

Scenario load_scenario(const std::string& file, const std::vector<Override>& overrides) {
    return read_changed_scenario(parse_toml_file(file), file, overrides);
}

Scenario load_scenario_text(std::string_view toml_text, const std::string& name) {
    return read_changed_scenario(parse_toml_text(toml_text, name), name, {});
}

Scenario default_serve_scenario() {
    Scenario s;
    s.name = "healthy";
    s.title = "One healthy OpenAI-compatible provider";
    s.time_scale = 1.0;
    mock::ProviderConfig p;
    p.id = "openai";
    p.models = {"gpt-4o-mini", "gpt-4o"};
    p.latency = {std::chrono::milliseconds(200), 80, 0.2};
    p.rate_limits = {10'000, 2'000'000};
    p.seed = hash64(p.id, s.seed);
    s.providers.push_back(std::move(p));
    return s;
}

std::vector<LibraryEntry> scenario_library(const std::filesystem::path& dir) {
    std::vector<LibraryEntry> out;
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (entry.is_directory()) {
            for (const auto& inner : std::filesystem::directory_iterator(entry.path(), ec))
                if (inner.path().extension() == ".toml") files.push_back(inner.path());
        } else if (entry.path().extension() == ".toml") {
            files.push_back(entry.path());
        }
    }
    for (const auto& path : files) {
        LibraryEntry e;
        e.file = path.string();
        e.key = std::filesystem::relative(path, dir).replace_extension().generic_string();
        try {
            Scenario s = load_scenario(e.file);
            e.name = s.name;
            e.title = s.title;
        } catch (const std::exception& ex) {
            e.name = path.stem().string();
            e.error = ex.what();
        }
        out.push_back(std::move(e));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
    return out;
}

}  // namespace brownout::harness
