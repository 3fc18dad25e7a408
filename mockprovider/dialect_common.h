#pragma once
// Pieces the two dialects share: reading message content into the neutral digest, and the
// small JSON-rendering helpers.

#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "mockprovider/chat.h"

namespace brownout::mock::detail {

// Accumulates roles, text and images in order; two dialects that see the same conversation
// produce the same digests, so an answer can be verified whichever provider gave it.
class DigestBuilder {
public:
    void begin_message(std::string_view role);
    void add_text(std::string_view text);
    void add_image(std::string_view source);
    void finish(ChatRequest& out) const;

private:
    std::string text_;
    std::string images_;
    int messages_ = 0;
    int images_count_ = 0;
    std::size_t text_bytes_ = 0;
};

// Parses a JSON request body with the limits every dialect applies (depth 64).
// Returns nullptr and fills `error` when the body is not valid JSON.
bool parse_json_object(std::string_view body, boost::json::object& out, std::string& error);

const boost::json::value* find(const boost::json::object& o, std::string_view key);
std::string_view string_or_empty(const boost::json::value* v);

// Reads {"type":"object","properties":{...}} into the tool's property list.
void read_schema_properties(const boost::json::value* schema, ToolSpec& tool);

void append_kv(std::string& out, std::string_view key, std::string_view json_value, bool& first);
std::string nullable_string(std::string_view s);

}  // namespace brownout::mock::detail
