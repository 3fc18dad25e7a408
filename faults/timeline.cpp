#include "faults/timeline.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <boost/json.hpp>

#include "core/text.h"
#include "core/toml_reader.h"
#include "faults/keys.h"

namespace brownout::faults {
namespace {

const std::vector<std::string> kStatuses = {"operational", "degraded_performance", "partial_outage",
                                            "major_outage"};

ComponentStatus status_from_name(const std::string& s) {
    if (s == "degraded_performance") return ComponentStatus::degraded_performance;
    if (s == "partial_outage") return ComponentStatus::partial_outage;
    if (s == "major_outage") return ComponentStatus::major_outage;
    return ComponentStatus::operational;
}

// Reads the fault-specific keys with the registered parser, then rejects leftovers.
std::unique_ptr<Fault> parse_fault(TableReader& t, const std::string& kind) {
    FaultParser parse = find_fault_parser(kind);
    t.set_spec(find_fault_spec(kind));  // from here on: the phase keys and the kind's own
    auto fault = parse(t);
    t.finish();
    return fault;
}

toml::table toml_from_json(const boost::json::object& o, const std::string& where);

// Hands a JSON scalar or object, as TOML, to `put`; false for null and arrays, which the two
// callers treat differently.
template <class Put>
bool put_value(const boost::json::value& v, const std::string& where, Put put) {
    if (v.is_string())
        put(std::string(v.get_string()));
    else if (v.is_int64())
        put(v.get_int64());
    else if (v.is_uint64())
        put(static_cast<std::int64_t>(v.get_uint64()));
    else if (v.is_double())
        put(v.get_double());
    else if (v.is_bool())
        put(v.get_bool());
    else if (v.is_object())
        put(toml_from_json(v.get_object(), where));
    else
        return false;
    return true;
}

toml::array toml_array_from_json(const boost::json::array& a, const std::string& where) {
    toml::array out;
    for (const auto& v : a) {
        if (!put_value(v, where, [&](auto&& x) { out.push_back(std::forward<decltype(x)>(x)); })) {
            throw Error(SourceLocation{where, 0, 0}, "",
                        "null and nested arrays are not allowed in a phase");
        }
    }
    return out;
}

toml::table toml_from_json(const boost::json::object& o, const std::string& where) {
    toml::table t;
    for (const auto& [k, v] : o) {
        std::string key(k);
        auto insert = [&](auto&& x) { t.insert(key, std::forward<decltype(x)>(x)); };
        if (put_value(v, where, insert)) continue;
        if (v.is_array())
            insert(toml_array_from_json(v.get_array(), where));
        else
            throw Error(SourceLocation{where, 0, 0}, key, "null is not a value a phase can have");
    }
    return t;
}

}  // namespace

const std::vector<KeySpec>& phase_keys() {
    static const TableSpec status_page{
        "phase status page",
        "what the provider's status page says during the phase",
        {{"visible", KeyType::boolean, "whether the page shows the incident at all (default true)"},
         {"status", KeyType::string, "the components' status", kStatuses},
         {"components", KeyType::strings, "the components it names"},
         {"title", KeyType::string, "the incident's title"},
         {"resolved_after", KeyType::duration,
          "the page says resolved this long after the phase"}}};
    static const std::vector<KeySpec> keys = {
        {"name", KeyType::string, "shown in reports (default: the fault kind)"},
        {"start", KeyType::duration, "scenario time the phase begins", {}, {}, {}, nullptr, true},
        {"end", KeyType::duration, "scenario time it ends (open-ended without end or duration)"},
        {"duration", KeyType::duration, "or how long it lasts"},
        {"fault",
         KeyType::string,
         "the kind of misbehaviour",
         fault_kinds(),
         {},
         {},
         nullptr,
         true},
        {"models", KeyType::strings,
         "only requests for these models (feature_loss: the models gone)"},
        {"status_page",
         KeyType::table,
         "the status page during the phase",
         {},
         {},
         {},
         &status_page},
    };
    return keys;
}

const TableSpec& phase_spec() {
    static const TableSpec spec = [] {
        TableSpec s{"phase", "one phase of a provider's incident timeline", phase_keys()};
        s.variant_key = "fault";
        for (const auto& kind : fault_kinds()) s.variants.emplace_back(kind, find_fault_spec(kind));
        return s;
    }();
    return spec;
}

PhaseSpec read_phase(TableReader& t) {
    PhaseSpec p;
    p.where = t.where();
    p.key_path = t.path();
    p.name = t.string("name", "");
    auto start = t.duration("start");
    if (!start) t.fail("start", "is required (scenario time, e.g. \"10m\")");
    p.start = *start;
    auto end = t.duration("end");
    auto duration = t.duration("duration");
    if (end && duration) t.fail("duration", "give end or duration, not both");
    if (duration) end = p.start + *duration;
    if (end && *end <= p.start) {
        t.fail(t.has("end") ? "end" : "duration",
               fmt::format("the phase ends ({}) before it starts ({})", format_duration(*end),
                           format_duration(p.start)));
    }
    p.end = end;
    auto kinds = fault_kinds();
    auto kind = t.string("fault");
    if (!kind) t.fail("fault", fmt::format("is required (one of {})", fmt::join(kinds, ", ")));
    if (!find_fault_parser(*kind)) {
        std::string hint = closest_match(*kind, kinds);
        t.fail("fault", fmt::format("unknown fault kind \"{}\"{} (known: {})", *kind,
                                    hint.empty() ? "" : fmt::format(", did you mean \"{}\"?", hint),
                                    fmt::join(kinds, ", ")));
    }
    p.fault = *kind;
    if (p.name.empty()) p.name = p.fault;
    p.models = t.strings("models").value_or(std::vector<std::string>{});
    if (p.fault == "feature_loss") {
        // feature_loss reads `models` itself: the models that are gone, not a filter.
        p.models.clear();
    }
    if (auto sp = t.table("status_page")) {
        p.status_page.visible = sp->boolean("visible").value_or(true);
        if (auto s = sp->choice("status", kStatuses)) p.status_page.status = status_from_name(*s);
        p.status_page.components = sp->strings("components").value_or(std::vector<std::string>{});
        p.status_page.title = sp->string("title", "");
        if (auto d = sp->duration("resolved_after")) {
            if (*d < Duration::zero()) sp->fail("resolved_after", "must not be negative");
            p.status_page.resolved_after = *d;
        }
        sp->finish();
    }
    // Validate the fault's own keys now, so that a running fleet never meets a bad value.
    parse_fault(t, p.fault);
    p.table = std::make_shared<const toml::table>(t.raw());
    return p;
}

std::unique_ptr<Fault> PhaseSpec::make_fault() const {
    TableReader t(*table, key_path, std::make_shared<const std::string>(where.file));
    for (const char* common : {"name", "start", "end", "duration", "fault", "status_page"})
        t.node(common);
    if (fault != "feature_loss") t.node("models");
    return parse_fault(t, fault);
}

std::vector<PhaseSpec> read_phases(TableReader& provider, const std::string& key) {
    std::vector<PhaseSpec> out;
    ErrorCollector errors;  // every phase is checked, not only those before the first bad one
    for (auto& t : provider.tables(key)) errors.attempt([&] { out.push_back(read_phase(t)); });
    errors.throw_if_any();
    return out;
}

PhaseSpec phase_from_header(std::string_view header) {
    // "kind;key=value;key=value": values are TOML values, bare words are taken as strings.
    std::string toml_text;
    std::size_t at = 0;
    bool first = true;
    while (at <= header.size()) {
        std::size_t semi = header.find(';', at);
        std::string_view part =
            header.substr(at, semi == std::string_view::npos ? std::string_view::npos : semi - at);
        while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
        while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
        if (first) {
            toml_text += fmt::format("fault = {}\n", json_string(part));
            first = false;
        } else if (!part.empty()) {
            auto eq = part.find('=');
            if (eq == std::string_view::npos)
                throw Error(SourceLocation{"x-brownout-fault", 0, 0}, std::string(part),
                            "expected key=value");
            std::string key(part.substr(0, eq));
            std::string value(part.substr(eq + 1));
            bool literal =
                !value.empty() && (value.front() == '"' || value.front() == '[' ||
                                   value.front() == '{' || value == "true" || value == "false" ||
                                   value.find_first_not_of("0123456789.-") == std::string::npos);
            toml_text += fmt::format("{} = {}\n", key, literal ? value : json_string(value));
        }
        if (semi == std::string_view::npos) break;
        at = semi + 1;
    }
    toml_text += "start = \"0s\"\n";
    auto table = parse_toml_text(toml_text, "x-brownout-fault");
    TableReader t(table, "", std::make_shared<const std::string>("x-brownout-fault"));
    return read_phase(t);
}

PhaseSpec phase_from_json(std::string_view json, Duration now) {
    boost::system::error_code ec;
    auto v = boost::json::parse(json, ec);
    if (ec || !v.is_object())
        throw Error(SourceLocation{"request body", 0, 0}, "",
                    "expected a JSON object with the phase's TOML field names");
    auto& o = v.as_object();
    // start/end in the body are relative to now; absent start means now.
    toml::table table = toml_from_json(o, "request body");
    Duration start = now;
    if (auto s = table["start"].value<std::string>()) {
        auto d = parse_duration(*s);
        if (!d)
            throw Error(SourceLocation{"request body", 0, 0}, "start",
                        fmt::format("\"{}\" is not a duration", *s));
        start = now + *d;
    }
    table.insert_or_assign("start", fmt::format("{}ns", start.count()));
    if (auto e = table["end"].value<std::string>()) {
        auto d = parse_duration(*e);
        if (!d)
            throw Error(SourceLocation{"request body", 0, 0}, "end",
                        fmt::format("\"{}\" is not a duration", *e));
        table.insert_or_assign("end", fmt::format("{}ns", (now + *d).count()));
    }
    TableReader t(table, "", std::make_shared<const std::string>("request body"));
    return read_phase(t);
}

}  // namespace brownout::faults
