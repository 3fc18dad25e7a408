#include "wire/common.h"

#include <algorithm>
#include <stdexcept>

#include "core/random.h"
#include "core/text.h"
#include "wire/answer.h"

namespace brownout::wire::detail {

void DigestBuilder::begin_message(std::string_view role) {
    // "developer" is OpenAI's newer name for the system role; Anthropic's top-level system
    // field is read as a system message, so both dialects digest a conversation the same way.
    text_.add('\x1e');
    text_.add(role == "developer" ? std::string_view("system") : role);
    text_.add('\x1d');
    ++messages_;
}

void DigestBuilder::add_text(std::string_view text) {
    text_.add(text);
    text_.add('\x1f');
    text_bytes_ += text.size();
}

void DigestBuilder::add_image(std::string_view source) {
    images_.add(source);
    images_.add('\x1f');
    ++images_count_;
}

ConversationDigest DigestBuilder::digest() const {
    return {.text_digest = text_.finish(),
            .image_digest = images_count_ == 0 ? 0 : (images_.finish() | 1),
            .image_count = images_count_,
            .prompt_tokens = estimate_prompt_tokens(text_bytes_, messages_, images_count_)};
}

void DigestBuilder::finish(ChatRequest& out) const {
    digest().set_in(out);
}

bool ascii(std::string_view s) {
    // Every byte's high bit, or-ed together: a loop without an early exit, which the compiler
    // vectorises (a prompt is read here at each attempt in the simulator).
    unsigned char high = 0;
    for (char c : s) high |= static_cast<unsigned char>(c);
    return high < 0x80;
}

std::optional<ConversationDigest> text_digest(const OutgoingChat& chat) {
    if (!ascii(chat.system) || !ascii(chat.prompt) || !ascii(chat.image_url)) return std::nullopt;
    DigestBuilder digest;
    digest.begin_message("system");
    digest.add_text(chat.system);
    digest.begin_message("user");
    digest.add_text(chat.prompt);
    if (!chat.image_url.empty()) digest.add_image(chat.image_url);
    return digest.digest();
}

std::optional<ChatRequest> typed_chat_request(const OutgoingChat& chat) {
    if (chat.model.empty() || chat.max_tokens < 1 || !ascii(chat.model)) return std::nullopt;
    ChatRequest r;
    r.model = chat.model;
    r.max_tokens = chat.max_tokens;
    r.stream = chat.stream;
    if (chat.digest) {
        chat.digest->set_in(r);  // the sender's word for what the text below gives
    } else if (auto digest = text_digest(chat)) {
        digest->set_in(r);
    } else {
        return std::nullopt;
    }
    if (chat.tool) {
        const auto& tool = *chat.tool;
        if (!ascii(tool.name)) return std::nullopt;
        for (std::size_t i = 0; i < tool.properties.size(); ++i) {
            const auto& [name, type] = tool.properties[i];
            if (type.empty() || !ascii(name) || !ascii(type)) return std::nullopt;
            for (std::size_t j = 0; j < i; ++j) {
                if (tool.properties[j].first == name) return std::nullopt;
            }
        }
        r.tools.push_back(tool);
        r.tool_choice = ToolChoice::required;
    }
    return r;
}

bool parse_json_object(std::string_view body, boost::json::object& out, std::string& error) {
    boost::json::parse_options options;
    options.max_depth = 64;
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(body, ec, out.storage(), options);
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

template <class Value>
void read_schema_properties(const Value* schema, ToolSpec& tool) {
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

template <class Value>
void read_function_tools(const Value* tools, std::vector<ToolSpec>& out) {
    if (tools == nullptr || !tools->is_array()) return;
    for (const auto& t : tools->get_array()) {
        if (!t.is_object()) continue;
        const auto* fn = find(t.get_object(), "function");
        if (fn == nullptr || !fn->is_object()) continue;
        ToolSpec spec;
        spec.name = std::string(string_or_empty(find(fn->get_object(), "name")));
        read_schema_properties(find(fn->get_object(), "parameters"), spec);
        out.push_back(std::move(spec));
    }
}

template void read_schema_properties(const boost::json::value*, ToolSpec&);
template void read_schema_properties(const JsonNode*, ToolSpec&);
template void read_function_tools(const boost::json::value*, std::vector<ToolSpec>&);
template void read_function_tools(const JsonNode*, std::vector<ToolSpec>&);

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

std::string schema_json(const ToolSpec& tool) {
    std::string out = R"({"type":"object","properties":{)";
    for (std::size_t i = 0; i < tool.properties.size(); ++i) {
        if (i > 0) out += ",";
        append_json_string(out, tool.properties[i].first);
        out += R"(:{"type":)";
        append_json_string(out, tool.properties[i].second);
        out += "}";
    }
    return out + "}}";
}

std::string base64_encode(std::string_view bytes) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        std::uint32_t n = static_cast<std::uint8_t>(bytes[i]) << 16;
        if (i + 1 < bytes.size()) n |= static_cast<std::uint8_t>(bytes[i + 1]) << 8;
        if (i + 2 < bytes.size()) n |= static_cast<std::uint8_t>(bytes[i + 2]);
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
        out += i + 2 < bytes.size() ? kAlphabet[n & 63] : '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    if (text.size() % 4 != 0) return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        int pad = (text[i + 3] == '=') + (text[i + 2] == '=');
        if (pad > 0 && i + 4 != text.size()) return std::nullopt;
        std::uint32_t n = 0;
        for (std::size_t k = 0; k < 4; ++k) {
            int v = k >= 4 - static_cast<std::size_t>(pad) ? 0 : value(text[i + k]);
            if (v < 0) return std::nullopt;
            n = (n << 6) | static_cast<std::uint32_t>(v);
        }
        out += static_cast<char>((n >> 16) & 0xff);
        if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
        if (pad < 1) out += static_cast<char>(n & 0xff);
    }
    return out;
}

std::string json_text(const boost::json::value& v) {
    return v.is_string() ? std::string(v.get_string()) : boost::json::serialize(v);
}

namespace {

[[noreturn]] void not_readable(const char* what) {
    throw std::invalid_argument(what);
}

}  // namespace

std::string json_text(const JsonNode& v) {
    if (!v.is_string()) not_readable("json_text: a value other than a string, for Boost.JSON");
    return std::string(v.get_string());
}

std::string serialized(const boost::json::value& v) {
    return boost::json::serialize(v);
}

std::string serialized(const JsonNode&) {
    not_readable("serialized: for Boost.JSON");
}

const JsonNode& at(const JsonNode::Members& o, std::string_view key) {
    const auto* v = o.find(key);
    if (v == nullptr) throw std::out_of_range("no such key");
    return *v;
}

const JsonNode& at(const JsonNode& v, std::string_view key) {
    return at(as_object(v), key);
}

const JsonNode& at(const JsonNode::Items& a, std::size_t i) {
    if (i >= a.size()) throw std::out_of_range("no such element");
    auto it = a.begin();
    for (; i > 0; --i) ++it;
    return *it;
}

JsonNode::Members as_object(const JsonNode& v) {
    if (!v.is_object()) not_readable("not an object");
    return v.get_object();
}

JsonNode::Items as_array(const JsonNode& v) {
    if (!v.is_array()) not_readable("not an array");
    return v.get_array();
}

std::string_view as_string(const JsonNode& v) {
    if (!v.is_string()) not_readable("not a string");
    return v.get_string();
}

bool as_bool(const JsonNode& v) {
    if (!v.is_bool()) not_readable("not a boolean");
    return v.get_bool();
}

void read_error_fields(std::string_view body, std::string& type, std::string& code) {
    boost::system::error_code ec;
    ScratchJson scratch;
    auto v = scratch.parse(body, ec);
    if (ec || !v.is_object()) return;
    const auto* error = find(v.as_object(), "error");
    if (error == nullptr || !error->is_object()) return;
    type = std::string(string_or_empty(find(error->as_object(), "type")));
    code = std::string(string_or_empty(find(error->as_object(), "code")));
}

ErrorClass class_by_status(int status) {
    if (status == 401 || status == 403) return ErrorClass::auth;
    if (status == 429) return ErrorClass::rate_limited;
    if (status == 503 || status == 529 || status == 502 || status == 504)
        return ErrorClass::overloaded;
    if (status >= 500) return ErrorClass::server_error;
    return ErrorClass::other;
}

std::string rfc3339(std::int64_t unix_seconds) {
    return utc_date_time(unix_seconds) + 'Z';
}

}  // namespace brownout::wire::detail

namespace brownout::wire {

std::optional<StreamOutline> Dialect::stream_outline(const Completion& c,
                                                     const ChatRequest& request) const {
    auto frames = stream_reads(c, request);
    if (!frames) return std::nullopt;
    auto read = read_frames(*frames);
    if (!read) return std::nullopt;
    StreamOutline out{std::move(*read)};
    for (const auto& f : *frames) {
        if (f.kind == StreamFrame::Kind::token) {
            if (f.tokens != 1 || out.epilogue > 0) return std::nullopt;
            ++out.token_frames;
        } else {
            if (f.tokens != 0) return std::nullopt;
            ++(out.token_frames == 0 ? out.prelude : out.epilogue);
        }
    }
    return out;
}

Route Dialect::route(std::string_view method, std::string_view target) const {
    std::string_view path = strip_query(target);
    // DeepSeek documents its API both with and without the /v1 prefix.
    std::string_view unversioned = path.starts_with("/v1/") ? path.substr(3) : path;
    std::string_view chat = chat_path().substr(3);
    if (unversioned == chat)
        return {method == "POST" ? Route::Target::chat : Route::Target::method_not_allowed, ""};
    if (unversioned == "/models" || unversioned.starts_with("/models/")) {
        if (method != "GET") return {Route::Target::method_not_allowed, ""};
        if (unversioned == "/models") return {Route::Target::models, ""};
        return {Route::Target::model, std::string(unversioned.substr(8))};
    }
    return {Route::Target::not_found, ""};
}

}  // namespace brownout::wire
