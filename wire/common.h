#pragma once
// Pieces the dialects share: reading message content into the neutral digest, the small
// JSON-rendering helpers, and on the client side SSE splitting and reading an error's fields.

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/random.h"
#include "wire/chat.h"
#include "wire/dialect.h"
#include "wire/json_tape.h"

namespace brownout::wire::detail {

// Accumulates roles, text and images in order; two dialects that see the same conversation
// produce the same digests, so an answer can be verified whichever provider gave it.
class DigestBuilder {
public:
    void begin_message(std::string_view role);
    void add_text(std::string_view text);
    void add_image(std::string_view source);
    void finish(ChatRequest& out) const;
    ConversationDigest digest() const;

private:
    Hash64Stream text_{0x7e57};
    Hash64Stream images_{0x1a6e};
    int messages_ = 0;
    int images_count_ = 0;
    std::size_t text_bytes_ = 0;
};

// A JSON document parsed into an arena on the stack: a request, an answer or an SSE event of a
// few KiB needs no allocation, and nothing is freed value by value (the simulator parses every
// attempt's bytes; this halves what that costs). A value built on storage() must not outlive it.
class ScratchJson {
public:
    ScratchJson() = default;
    ScratchJson(const ScratchJson&) = delete;
    ScratchJson& operator=(const ScratchJson&) = delete;
    ScratchJson(ScratchJson&&) = delete;
    ScratchJson& operator=(ScratchJson&&) = delete;
    ~ScratchJson() = default;

    boost::json::storage_ptr storage() { return &resource_; }
    boost::json::value parse(std::string_view text, boost::system::error_code& ec) {
        return boost::json::parse(text, ec, storage());
    }

private:
    alignas(std::max_align_t) unsigned char arena_[4096];
    boost::json::monotonic_resource resource_{arena_, sizeof arena_};
};

// Text that reads back through JSON as itself, whatever it holds: above ASCII the renderer
// writes invalid UTF-8 as U+FFFD (append_json_string), so the bytes read back can differ. The
// typed shortcuts decline anything else (valid UTF-8 would round-trip; checking it is not worth
// it for what the harness sends).
bool ascii(std::string_view s);

// What the server half of OpenAI chat or Anthropic messages reads from its client half's body
// for `chat`: the system text, one user message (the prompt, then the image by URL), the stream
// flag, max_tokens and the one tool the model must call. nullopt where reading the JSON back
// could differ: a byte outside ASCII (see ascii()), no model, max_tokens below 1,
// or a tool whose properties repeat a name or lack a type. The dialect adds its own fields.
// With `chat.digest` set, the text is not read: the digests are the sender's.
std::optional<ChatRequest> typed_chat_request(const OutgoingChat& chat);
// What typed_chat_request digests a chat's text to (its system, prompt and image, whatever its
// `digest` says); none where that text is not all ASCII, which it declines.
std::optional<ConversationDigest> text_digest(const OutgoingChat& chat);

// Parses a JSON request body with the limits every dialect applies (depth 64) into `out`'s
// storage (a ScratchJson's, where the caller has one). Returns false and fills `error` when the
// body is not valid JSON.
bool parse_json_object(std::string_view body, boost::json::object& out, std::string& error);

// Reads a request body as one JSON object and returns read(object), or invalid(error) when it
// is not one. The object is a JsonTape's where that reader takes the body, else Boost.JSON's
// (which words the error): `read` is one generic reader of either, so both give one answer.
template <class Read, class Invalid>
ParseResult read_json_request(std::string_view body, Read read, Invalid invalid) {
    {
        JsonTape tape;
        if (tape.read(body) && tape.root().is_object()) return read(tape.root().get_object());
    }
    ScratchJson scratch;
    boost::json::object o(scratch.storage());
    std::string error;
    if (!parse_json_object(body, o, error)) return invalid(error);
    return read(o);
}

// The lookups a request reader makes, for either kind of object.
const boost::json::value* find(const boost::json::object& o, std::string_view key);
inline const JsonNode* find(const JsonNode::Members& o, std::string_view key) {
    return o.find(key);
}
std::string_view string_or_empty(const boost::json::value* v);
inline std::string_view string_or_empty(const JsonNode* v) {
    return v != nullptr && v->is_string() ? v->get_string() : std::string_view{};
}

// The reads an answer reader makes, for either kind of JSON, each throwing (as Boost.JSON's at()
// and as_*() do) when a value is missing or of another kind: one reader written with them reads
// a JsonTape's nodes and Boost.JSON's values alike (read_json_object).
inline const boost::json::value& at(const boost::json::object& o, std::string_view key) {
    return o.at(key);
}
inline const boost::json::value& at(const boost::json::value& v, std::string_view key) {
    return v.as_object().at(key);
}
inline const boost::json::value& at(const boost::json::array& a, std::size_t i) {
    return a.at(i);
}
inline const boost::json::object& as_object(const boost::json::value& v) {
    return v.as_object();
}
inline const boost::json::array& as_array(const boost::json::value& v) {
    return v.as_array();
}
inline std::string_view as_string(const boost::json::value& v) {
    return v.as_string();
}
inline bool as_bool(const boost::json::value& v) {
    return v.as_bool();
}
inline bool contains(const boost::json::object& o, std::string_view key) {
    return o.contains(key);
}
const JsonNode& at(const JsonNode::Members& o, std::string_view key);
const JsonNode& at(const JsonNode& v, std::string_view key);
const JsonNode& at(const JsonNode::Items& a, std::size_t i);
JsonNode::Members as_object(const JsonNode& v);
JsonNode::Items as_array(const JsonNode& v);
std::string_view as_string(const JsonNode& v);
bool as_bool(const JsonNode& v);
inline bool contains(const JsonNode::Members& o, std::string_view key) {
    return o.find(key) != nullptr;
}

// Reads {"type":"object","properties":{...}} into the tool's property list. (Both are defined
// for boost::json::value and JsonNode.)
template <class Value>
void read_schema_properties(const Value* schema, ToolSpec& tool);
// tools: [{"type":"function","function":{"name":…,"parameters":{…}}}] (OpenAI's form, which
// Ollama takes too); entries of another shape are passed over.
template <class Value>
void read_function_tools(const Value* tools, std::vector<ToolSpec>& out);
// The other way: {"type":"object","properties":{"order_id":{"type":"string"}}}.
std::string schema_json(const ToolSpec& tool);

void append_kv(std::string& out, std::string_view key, std::string_view json_value, bool& first);
std::string nullable_string(std::string_view s);

// Standard base64 (RFC 4648, with padding); decoding returns nullopt for anything else.
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

// A JSON value as text: a string's contents, anything else serialized. A node that is not a
// string throws (serializing it as Boost.JSON does is Boost.JSON's): read_json_object then reads
// the text with Boost.JSON.
std::string json_text(const boost::json::value& v);
std::string json_text(const JsonNode& v);
std::string serialized(const boost::json::value& v);
std::string serialized(const JsonNode& v);

// Reads `text` as one JSON object and returns read(object), or nullopt when the text is not one.
// The object is a JsonTape's where that reader takes the text and `read` returns on it, else
// Boost.JSON's: an answer's fields, SSE event or NDJSON line is read with no document made (the
// harness reads every attempt's answer; Boost.JSON's parse was 8% of its thread, bench/README.md).
// `read` is one generic reader of either (the reads above) that only appends to out.text (or
// sets it while empty) and sets out.finish_reason: what it did on the tape before throwing is
// taken back, and Boost.JSON's read gives the answer or the error. (A tool call's arguments as an
// object, Anthropic's, Gemini's, Ollama's, are always read that way: only Boost.JSON serializes.)
template <class Read>
auto read_json_object(std::string_view text, ReadAnswer& out, Read read)
    -> std::optional<decltype(read(std::declval<const boost::json::object&>()))> {
    {
        JsonTape tape;
        if (tape.read(text) && tape.root().is_object()) {
            auto text_size = out.text.size();
            auto reason = out.finish_reason;
            try {
                return read(tape.root().get_object());
            } catch (const std::exception&) {
                out.text.resize(text_size);
                out.finish_reason = std::move(reason);
            }
        }
    }
    boost::system::error_code ec;
    ScratchJson scratch;
    auto v = scratch.parse(text, ec);
    if (ec || !v.is_object()) return std::nullopt;
    return read(v.as_object());
}

// Calls `event(name, data)` for each complete SSE event of `body` (comments skipped, data lines
// joined, a partial last event left out); stops early when it returns false.
template <class Event>
void for_each_sse_event(std::string_view body, Event event) {
    std::size_t at = 0;
    while (at < body.size()) {
        std::size_t end = body.find("\n\n", at);
        if (end == std::string_view::npos) return;  // a partial event: the stream was cut
        std::string_view block = body.substr(at, end - at);
        at = end + 2;
        std::string_view name;
        std::string_view data;  // one data line as it is; several joined into `joined`
        std::string joined;
        bool several = false;
        for (std::size_t line_start = 0; line_start <= block.size();) {
            std::size_t nl = block.find('\n', line_start);
            std::string_view line =
                block.substr(line_start, nl == std::string_view::npos ? std::string_view::npos
                                                                      : nl - line_start);
            if (line.starts_with("event: ")) {
                name = line.substr(7);
            } else if (line.starts_with("data: ")) {
                if (data.empty() && !several) {
                    data = line.substr(6);
                } else {
                    if (!several) joined = data;
                    several = true;
                    joined += line.substr(6);
                    data = joined;
                }
            }
            if (nl == std::string_view::npos) break;
            line_start = nl + 1;
        }
        if (data.empty()) continue;  // comments (": keep-alive")
        if (!event(name, data)) return;
    }
}

// A non-streamed answer: `read(object, out)` fills `out` from the body's JSON object (throwing
// when a field is missing); an unreadable or cut body is broken.
template <class Read>
ReadAnswer read_json_answer(std::string_view body, bool body_complete, Read read) {
    ReadAnswer out;
    if (!body_complete) {
        out.broken = true;
        return out;
    }
    try {
        auto read_all = [&](const auto& o) {
            read(o, out);
            return true;
        };
        if (!read_json_object(body, out, read_all)) out.broken = true;
    } catch (const std::exception&) {
        out.broken = true;
    }
    return out;
}

enum class SseStep { more, finished, broken };
// A streamed answer: `event(name, object, out)` reads one event's JSON (throwing when a field is
// missing) and says whether the stream is finished or broke in-band; a data line equal to
// `done_marker` (OpenAI's "[DONE]") finishes it too. A stream that ends cleanly without its
// terminator is accepted, as the SDKs do; one cut mid-way is broken.
template <class Event>
ReadAnswer read_sse_answer(std::string_view body, bool body_complete, std::string_view done_marker,
                           Event event) {
    ReadAnswer out;
    bool finished = false;
    for_each_sse_event(body, [&](std::string_view name, std::string_view data) {
        if (!done_marker.empty() && data == done_marker) {
            finished = true;
            return true;
        }
        SseStep step = SseStep::broken;
        try {
            step = read_json_object(data, out, [&](const auto& o) {
                       return event(name, o, out);
                   }).value_or(SseStep::broken);
        } catch (const std::exception&) {
            step = SseStep::broken;
        }
        if (step == SseStep::finished) finished = true;
        if (step == SseStep::broken) out.broken = true;
        return step != SseStep::broken;
    });
    if (!finished && !body_complete) out.broken = true;
    return out;
}

// {"error":{"type":…,"code":…}} (OpenAI) or {"type":"error","error":{"type":…}} (Anthropic):
// the error object's type and code, empty when absent.
void read_error_fields(std::string_view body, std::string& type, std::string& code);
// The classes every dialect shares by status: 401/403 auth, 429 rate limited, 503/529
// overloaded, other 5xx server errors. 400 and 404 are the dialect's to read.
ErrorClass class_by_status(int status);

// A time as RFC 3339 in UTC, whole seconds: "2026-11-30T10:00:00Z" (Anthropic's rate-limit
// resets; Ollama's created_at, Go's RFC3339Nano with its trailing zeros dropped).
std::string rfc3339(std::int64_t unix_seconds);

}  // namespace brownout::wire::detail
