#include "mockprovider/dialect_common.h"

#include "core/random.h"
#include "core/text.h"
#include "mockprovider/answer.h"

namespace brownout::mock::detail {

void DigestBuilder::begin_message(std::string_view role) {
    // "developer" is OpenAI's newer name for the system role; Anthropic's top-level system
    // field is read as a system message, so both dialects digest a conversation the same way.
    text_ += '\x1e';
    text_ += role == "developer" ? std::string_view("system") : role;
    text_ += '\x1d';
    ++messages_;
}

void DigestBuilder::add_text(std::string_view text) {
    text_ += text;
    text_ += '\x1f';
    text_bytes_ += text.size();
}

void DigestBuilder::add_image(std::string_view source) {
    images_ += source;
    images_ += '\x1f';
    ++images_count_;
}

void DigestBuilder::finish(ChatRequest& out) const {
    out.text_digest = hash64(text_, 0x7e57);
    out.image_digest = images_count_ == 0 ? 0 : (hash64(images_, 0x1a6e) | 1);
    out.image_count = images_count_;
    out.prompt_tokens = estimate_prompt_tokens(text_bytes_, messages_, images_count_);
}

bool parse_json_object(std::string_view body, boost::json::object& out, std::string& error) {
    boost::json::parse_options options;
    options.max_depth = 64;
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(body, ec, {}, options);
    if (ec) {
        error = ec.message();
        return false;
    }
    if (!v.is_object()) {
        error = "the body is not a JSON object";
        return false;
    }
    out = std::move(v.as_object());
    return true;
}

const boost::json::value* find(const boost::json::object& o, std::string_view key) {
    auto it = o.find(key);
    return it == o.end() ? nullptr : &it->value();
}

std::string_view string_or_empty(const boost::json::value* v) {
    if (v == nullptr || !v->is_string()) return {};
    const auto& s = v->get_string();
    return {s.data(), s.size()};
}

void read_schema_properties(const boost::json::value* schema, ToolSpec& tool) {
    if (schema == nullptr || !schema->is_object()) return;
    const auto* props = find(schema->get_object(), "properties");
    if (props == nullptr || !props->is_object()) return;
    for (const auto& [name, spec] : props->get_object()) {
        std::string type = "string";
        if (spec.is_object()) {
            auto t = string_or_empty(find(spec.get_object(), "type"));
            if (!t.empty()) type = std::string(t);
        }
        tool.properties.emplace_back(std::string(name), type);
    }
}

void append_kv(std::string& out, std::string_view key, std::string_view json_value, bool& first) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, key);
    out += ':';
    out += json_value;
}

std::string nullable_string(std::string_view s) {
    return s.empty() ? "null" : json_string(s);
}

}  // namespace brownout::mock::detail
