#pragma once
// The JSON tape's reading of a text against Boost.JSON's, for the tests and the fuzz target.
#include <fmt/format.h>

#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "wire/json_tape.h"

namespace brownout::test {

using wire::detail::JsonNode;

// Why the two readings differ, or "" when they do not.
inline std::string difference(const JsonNode& a, const boost::json::value& b,
                              const std::string& path = "$") {
    auto differs = [&](std::string_view what) { return fmt::format("{}: {}", path, what); };
    switch (a.kind()) {
        case JsonNode::Kind::null:
            return b.is_null() ? "" : differs("null");
        case JsonNode::Kind::boolean:
            return b.is_bool() && b.get_bool() == a.get_bool() ? "" : differs("boolean");
        case JsonNode::Kind::int64:
            return b.is_int64() && b.get_int64() == a.get_int64() ? "" : differs("int64");
        case JsonNode::Kind::number:
            return b.is_double() ? "" : differs("double");
        case JsonNode::Kind::string:
            return b.is_string() && std::string_view(b.get_string()) == a.get_string()
                       ? ""
                       : differs("string");
        case JsonNode::Kind::array: {
            if (!b.is_array() || b.get_array().size() != a.get_array().size())
                return differs("array");
            std::size_t i = 0;
            for (const auto& element : a.get_array()) {
                auto d = difference(element, b.get_array()[i], fmt::format("{}[{}]", path, i));
                if (!d.empty()) return d;
                ++i;
            }
            return "";
        }
        case JsonNode::Kind::object: {
            if (!b.is_object() || b.get_object().size() != a.get_object().size())
                return differs("object");
            auto other = b.get_object().begin();
            for (const auto& [key, value] : a.get_object()) {
                if (std::string_view(other->key()) != key) return differs("key order");
                auto d = difference(value, other->value(), fmt::format("{}.{}", path, key));
                if (!d.empty()) return d;
                ++other;
            }
            return "";
        }
    }
    return differs("kind");
}

// The tape's reading of `text` against Boost.JSON's: "declined", "" (the same) or the difference.
inline std::string against_boost(std::string_view text) {
    wire::detail::JsonTape tape;
    if (!tape.read(text)) return "declined";
    boost::system::error_code ec;
    boost::json::parse_options options;
    options.max_depth = 64;
    auto value = boost::json::parse(text, ec, {}, options);
    if (ec) return "Boost.JSON refused it: " + ec.message();
    return difference(tape.root(), value);
}

}  // namespace brownout::test
