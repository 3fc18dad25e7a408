#include "harness/stdio_protocol.h"

#include <boost/json.hpp>

namespace brownout::harness {

std::optional<StdioResult> parse_stdio_line(std::string_view line) {
    boost::system::error_code ec;
    boost::json::parse_options options;
    options.max_depth = 32;
    auto v = boost::json::parse(line, ec, {}, options);
    if (ec || !v.is_object()) return std::nullopt;
    const auto& o = v.as_object();
    auto id = o.find("id");
    if (id == o.end() || !(id->value().is_int64() || id->value().is_uint64())) return std::nullopt;
    if (id->value().is_int64() && id->value().get_int64() < 0) return std::nullopt;
    StdioResult r;
    r.id = id->value().is_uint64() ? id->value().get_uint64()
                                   : static_cast<std::uint64_t>(id->value().get_int64());
    if (auto text = o.find("text"); text != o.end() && text->value().is_string()) {
        r.answered = true;
        r.text = std::string(text->value().get_string());
    }
    if (auto p = o.find("provider"); p != o.end() && p->value().is_string())
        r.provider = std::string(p->value().get_string());
    return r;
}

bool is_ready_line(std::string_view line) {
    boost::system::error_code ec;
    auto v = boost::json::parse(line, ec);
    if (ec || !v.is_object()) return false;
    const auto& o = v.as_object();
    auto ready = o.find("ready");
    return ready != o.end() && ready->value().is_bool() && ready->value().get_bool() &&
           !o.contains("id");
}

}  // namespace brownout::harness
