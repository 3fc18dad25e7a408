#include "harness/override.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "core/error.h"
#include "core/text.h"

namespace brownout::harness {

namespace {

std::vector<std::string> split(std::string_view text, char sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        auto end = text.find(sep, start);
        out.emplace_back(text.substr(start, end == std::string_view::npos ? end : end - start));
        if (end == std::string_view::npos) return out;
        start = end + 1;
    }
}

[[noreturn]] void fail(const Override& o, const std::string& message) {
    throw Error(fmt::format("--sweep {}: {}", o.path, message));
}

std::string list(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out.empty() ? "none" : out;
}

std::string hint(std::string_view word, const std::vector<std::string>& names) {
    std::string h = closest_match(word, names);
    return h.empty() ? "" : fmt::format("did you mean \"{}\"? ", h);
}

std::vector<std::string> keys_of(const toml::table& t) {
    std::vector<std::string> out;
    for (const auto& [k, v] : t) out.emplace_back(k.str());
    return out;
}

// How an element of an array of tables is named: its id ([[providers]]) or name ([[clients]]).
std::optional<std::string> label_of(const toml::node& n) {
    const auto* t = n.as_table();
    if (!t) return std::nullopt;
    for (const char* key : {"id", "name"}) {
        if (auto v = (*t)[key].value<std::string>()) return v;
    }
    return std::nullopt;
}

toml::node* element(toml::array& a, const std::string& segment, const Override& o,
                    const std::string& walked) {
    std::size_t index = 0;
    auto [end, ec] = std::from_chars(segment.data(), segment.data() + segment.size(), index);
    if (ec == std::errc() && end == segment.data() + segment.size()) {
        if (index < a.size()) return a.get(index);
        fail(o, fmt::format("{} has {} element{}; index {} is past its end", walked, a.size(),
                            a.size() == 1 ? "" : "s", index));
    }
    std::vector<std::string> labels;
    for (auto& n : a) {
        auto label = label_of(n);
        if (label && *label == segment) return &n;
        if (label) labels.push_back(*label);
    }
    fail(o,
         fmt::format("no element \"{}\" in {} ({}elements: {}, or an index from 0 to {})", segment,
                     walked, hint(segment, labels), list(labels), a.empty() ? 0 : a.size() - 1));
}

// The value written for `text`: the type of the value it replaces, or, for a key the file left
// out, the narrowest that reads it (whole number, number, boolean, else string).
template <typename Sink>
void write_value(Sink&& sink, const toml::node* old, const std::string& text, const Override& o) {
    auto as_int = [&]() -> std::optional<std::int64_t> {
        std::int64_t v = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
        return v;
    };
    auto as_double = [&]() -> std::optional<double> {
        double v = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
        return v;
    };
    auto as_bool = [&]() -> std::optional<bool> {
        if (text == "true") return true;
        if (text == "false") return false;
        return std::nullopt;
    };
    if (!old) {
        if (auto v = as_int()) return sink(*v);
        if (auto v = as_double()) return sink(*v);
        if (auto v = as_bool()) return sink(*v);
        return sink(text);
    }
    switch (old->type()) {
        case toml::node_type::integer:
            if (auto v = as_int()) return sink(*v);
            // A whole number where the file had one may also be written as a number (2.5 retries
            // is the validator's to reject, with its own words).
            if (auto v = as_double()) return sink(*v);
            fail(o, fmt::format("\"{}\" is not a number (the scenario has {} here)", text,
                                *old->value<std::int64_t>()));
        case toml::node_type::floating_point:
            if (auto v = as_double()) return sink(*v);
            fail(o, fmt::format("\"{}\" is not a number (the scenario has {} here)", text,
                                *old->value<double>()));
        case toml::node_type::boolean:
            if (auto v = as_bool()) return sink(*v);
            fail(o, fmt::format("\"{}\" is not true or false", text));
        case toml::node_type::string:
            return sink(text);
        case toml::node_type::table:
            fail(o, fmt::format("is a table (keys: {}); a sweep sets one value in it",
                                list(keys_of(*old->as_table()))));
        case toml::node_type::array:
            fail(o, "is a list; a sweep sets one value, not a list");
        default:
            fail(o, "is a date or time, which a sweep cannot set");
    }
}

}  // namespace

SweepAxis parse_sweep(std::string_view text) {
    auto eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size())
        throw Error(
            fmt::format("--sweep {}: expected KEY=V1,V2,… (for example "
                        "clients.failover.breaker_failures=5,10,20)",
                        text));
    SweepAxis axis{std::string(text.substr(0, eq)), split(text.substr(eq + 1), ',')};
    for (const auto& v : axis.values) {
        if (v.empty()) throw Error(fmt::format("--sweep {}: an empty value", text));
    }
    return axis;
}

std::vector<std::vector<Override>> sweep_points(const std::vector<SweepAxis>& axes) {
    std::vector<std::vector<Override>> points{{}};
    for (const auto& axis : axes) {
        std::vector<std::vector<Override>> next;
        for (const auto& p : points) {
            for (const auto& v : axis.values) {
                next.push_back(p);
                next.back().push_back({axis.key, v});
            }
        }
        points = std::move(next);
    }
    return points;
}

void apply_override(toml::table& root, const Override& o) {
    auto segments = split(o.path, '.');
    for (const auto& s : segments) {
        if (s.empty()) fail(o, "a key path has no empty parts");
    }
    toml::node* here = &root;
    std::string walked = "the scenario";
    for (std::size_t i = 0; i < segments.size(); ++i) {
        const std::string& segment = segments[i];
        bool last = i + 1 == segments.size();
        if (auto* t = here->as_table()) {
            toml::node* next = t->get(segment);
            if (last) {
                write_value([&](auto v) { t->insert_or_assign(segment, v); }, next, o.value, o);
                return;
            }
            if (!next) {
                auto keys = keys_of(*t);
                fail(o, fmt::format("no key \"{}\" in {} ({}keys: {})", segment, walked,
                                    hint(segment, keys), list(keys)));
            }
            here = next;
        } else if (auto* a = here->as_array()) {
            if (last) fail(o, fmt::format("{} is a list of tables; name a key inside one", walked));
            here = element(*a, segment, o, walked);
        } else {
            fail(o, fmt::format("{} is a value, not a table", walked));
        }
        walked = i == 0 ? segment : fmt::format("{}.{}", walked, segment);
    }
}

void add_default_clients(toml::table& root) {
    if (root.contains("clients")) return;
    const auto* providers = root["providers"].as_array();
    if (!providers) return;
    toml::array all;  // every provider once (a repeated id is the providers' own error)
    std::vector<std::string> seen;
    for (const auto& p : *providers) {
        auto id = label_of(p);
        if (!id || !p.as_table()->contains("id")) continue;
        if (std::find(seen.begin(), seen.end(), *id) != seen.end()) continue;
        seen.push_back(*id);
        all.push_back(*id);
    }
    if (all.empty()) return;
    toml::array clients;
    for (const char* policy : {"naive", "sdk-default", "retry-storm", "failover"}) {
        toml::array routes;
        if (std::string_view(policy) == "failover")
            routes = all;
        else
            routes.push_back(*all.get(0)->value<std::string>());
        clients.push_back(
            toml::table{{"name", policy}, {"policy", policy}, {"providers", std::move(routes)}});
    }
    root.insert("clients", std::move(clients));
}

}  // namespace brownout::harness
