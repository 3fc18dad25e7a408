#include "harness/schema.h"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "core/error.h"

namespace brownout::harness {
namespace json = boost::json;
namespace {

// "250ms", "1.5s", "1h30m", or 0 (core/duration.cpp).
constexpr const char* kDurationPattern = "^([0-9]+(\\.[0-9]+)?(h|m|s|ms|us|µs|ns))+$|^0$";

json::object table_schema(const TableSpec& spec);

json::value key_schema(const KeySpec& k) {
    json::object s;
    switch (k.type) {
        case KeyType::string:
            s["type"] = "string";
            if (!k.choices.empty()) {
                json::array e;
                for (const auto& c : k.choices) e.emplace_back(c);
                s["enum"] = std::move(e);
            }
            break;
        case KeyType::number:
        case KeyType::integer:
            s["type"] = k.type == KeyType::number ? "number" : "integer";
            if (k.min) s["minimum"] = *k.min;
            if (k.max) s["maximum"] = *k.max;
            break;
        case KeyType::boolean:
            s["type"] = "boolean";
            break;
        case KeyType::duration:
            s["anyOf"] =
                json::array{json::object{{"type", "string"}, {"pattern", kDurationPattern}},
                            json::object{{"const", 0}}};
            break;
        case KeyType::rate: {
            json::object share{{"type", "number"}, {"minimum", 0}, {"maximum", 1}};
            s["anyOf"] = json::array{std::move(share), table_schema(*k.table)};
            break;
        }
        case KeyType::per_time:
            s["type"] = "string";
            s["pattern"] = "^[0-9]+(\\.[0-9]+)?/(h|m|s)$";
            break;
        case KeyType::strings:
            s["type"] = "array";
            s["items"] = json::object{{"type", "string"}};
            break;
        case KeyType::table:
            if (k.table != nullptr) {
                s = table_schema(*k.table);
            } else {
                s["type"] = "object";
                s["additionalProperties"] = json::object{{"type", "string"}};
            }
            break;
        case KeyType::tables:
            s["type"] = "array";
            s["items"] = table_schema(*k.table);
            break;
        case KeyType::any:
            s = json::parse(k.schema).as_object();
            break;
    }
    if (!k.doc.empty()) s["description"] = k.doc;
    return s;
}

// The keys of one spec, closed: no key it does not declare.
json::object closed(const TableSpec& spec) {
    json::object s{{"type", "object"}};
    if (!spec.name.empty()) s["title"] = spec.name;
    if (!spec.doc.empty()) s["description"] = spec.doc;
    json::object properties;
    json::array required;
    for (const auto& k : spec.keys) {
        properties[k.name] = key_schema(k);
        if (k.required) required.emplace_back(k.name);
    }
    s["properties"] = std::move(properties);
    if (!required.empty()) s["required"] = std::move(required);
    s["additionalProperties"] = false;
    return s;
}

json::object table_schema(const TableSpec& spec) {
    if (spec.variants.empty()) return closed(spec);
    // The keys depend on one value: each value's full spec applies when the table has it.
    json::object s = closed(spec);
    s.erase("additionalProperties");
    json::array all;
    json::array values;
    for (const auto& [value, variant] : spec.variants) {
        values.emplace_back(value);
        json::array has_key{json::value(spec.variant_key)};
        json::object is_value{{"const", value}};
        json::object when;
        when["properties"] = json::object{{spec.variant_key, is_value}};
        when["required"] = has_key;
        if (value == spec.variant_default) {
            // The default applies when the key is absent too.
            json::object absent;
            absent["not"] = json::object{{"required", has_key}};
            json::object either;
            either["anyOf"] = json::array{when, absent};
            when = either;
        }
        json::object rule;
        rule["if"] = when;
        rule["then"] = table_schema(*variant);  // a variant may have variants (a policy's keys)
        all.emplace_back(rule);
    }
    s["properties"].as_object()[spec.variant_key].as_object()["enum"] = std::move(values);
    s["allOf"] = std::move(all);
    return s;
}

void pretty(const json::value& v, std::string& out, int indent) {
    auto pad = [&](int n) { out.append(static_cast<std::size_t>(n) * 2, ' '); };
    if (v.is_object()) {
        const auto& o = v.get_object();
        if (o.empty()) {
            out += "{}";
            return;
        }
        out += "{\n";
        std::size_t i = 0;
        for (const auto& [key, value] : o) {
            pad(indent + 1);
            out += json::serialize(json::value(key));
            out += ": ";
            pretty(value, out, indent + 1);
            out += ++i < o.size() ? ",\n" : "\n";
        }
        pad(indent);
        out += "}";
    } else if (v.is_array()) {
        const auto& a = v.get_array();
        bool flat = std::all_of(a.begin(), a.end(), [](const json::value& x) {
            return !x.is_object() && !x.is_array();
        });
        if (flat) {
            out += json::serialize(v);
            return;
        }
        out += "[\n";
        for (std::size_t i = 0; i < a.size(); ++i) {
            pad(indent + 1);
            pretty(a[i], out, indent + 1);
            out += i + 1 < a.size() ? ",\n" : "\n";
        }
        pad(indent);
        out += "]";
    } else {
        out += json::serialize(v);
    }
}

}  // namespace

std::string json_schema(const TableSpec& root, const std::string& id) {
    json::object s{{"$schema", "http://json-schema.org/draft-07/schema#"}, {"$id", id}};
    for (auto& [key, value] : table_schema(root)) s[key] = value;
    std::string out;
    pretty(s, out, 0);
    return out + "\n";
}

}  // namespace brownout::harness
