#include "wire/json_tape.h"

#include "core/text.h"

namespace brownout::wire::detail {
namespace {

bool digit(char c) {
    return c >= '0' && c <= '9';
}

}  // namespace

const JsonNode* JsonNode::Members::find(std::string_view key) const {
    for (auto member : *this)
        if (member.key == key) return &member.value;
    return nullptr;
}

bool JsonTape::read(std::string_view text) {
    at_ = text.data();
    end_ = at_ + text.size();
    used_ = 0;
    decoded_.clear();
    skip_space();
    if (!value(0)) return false;
    skip_space();
    return at_ == end_;
}

JsonNode* JsonTape::push() {
    if (used_ == kCapacity) return nullptr;
    JsonNode& node = nodes_[used_++];
    node.text_ = nullptr;
    node.integer_ = 0;
    node.size_ = 0;
    node.count_ = 0;
    node.span_ = 1;
    node.kind_ = JsonNode::Kind::null;
    return &node;
}

void JsonTape::skip_space() {
    while (at_ != end_ && (*at_ == ' ' || *at_ == '\n' || *at_ == '\r' || *at_ == '\t')) ++at_;
}

bool JsonTape::literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - at_) < word.size() ||
        std::string_view(at_, word.size()) != word)
        return false;
    at_ += word.size();
    return true;
}

bool JsonTape::value(int depth) {
    if (at_ == end_) return false;
    const std::size_t index = used_;
    JsonNode* node = push();
    if (node == nullptr) return false;
    switch (*at_) {
        case '"':
            return string(*node);
        case 't':
            node->kind_ = JsonNode::Kind::boolean;
            node->integer_ = 1;
            return literal("true");
        case 'f':
            node->kind_ = JsonNode::Kind::boolean;
            return literal("false");
        case 'n':
            return literal("null");
        case '[':
        case '{':
            break;
        default:
            return number(*node);
    }
    if (depth == kMaxDepth) return false;
    const bool object = *at_ == '{';
    const char close = object ? '}' : ']';
    node->kind_ = object ? JsonNode::Kind::object : JsonNode::Kind::array;
    ++at_;
    skip_space();
    if (at_ != end_ && *at_ == close) {
        ++at_;
        return true;
    }
    for (;;) {
        if (object) {
            if (at_ == end_ || *at_ != '"') return false;
            JsonNode* key = push();
            if (key == nullptr || !string(*key) || !unique_key(nodes_[index], *key)) return false;
            skip_space();
            if (at_ == end_ || *at_ != ':') return false;
            ++at_;
            skip_space();
        }
        if (!value(depth + 1)) return false;
        ++nodes_[index].count_;
        skip_space();
        if (at_ == end_) return false;
        if (*at_ == close) break;
        if (*at_ != ',') return false;
        ++at_;
        skip_space();
    }
    ++at_;
    nodes_[index].span_ = static_cast<std::uint32_t>(used_ - index);
    return true;
}

bool JsonTape::unique_key(const JsonNode& object, const JsonNode& key) const {
    const JsonNode* earlier = &object + 1;
    for (std::uint32_t i = 0; i < object.count_; ++i, earlier += 1 + earlier[1].span_)
        if (earlier->get_string() == key.get_string()) return false;
    return true;
}

bool JsonTape::string(JsonNode& node) {
    node.kind_ = JsonNode::Kind::string;
    const char* begin = ++at_;
    at_ += json_plain_run({at_, static_cast<std::size_t>(end_ - at_)});
    if (at_ == end_) return false;
    if (*at_ == '"') {
        node.text_ = begin;
        node.size_ = static_cast<std::uint32_t>(at_ - begin);
        ++at_;
        return true;
    }
    if (*at_ != '\\') return false;  // Boost.JSON checks UTF-8 and control characters
    // Escapes: decode into decoded_, reserved once to the whole text's size so that no string
    // decoded before moves (a decoded string is never longer than its source).
    if (decoded_.empty()) decoded_.reserve(static_cast<std::size_t>(end_ - begin));
    const std::size_t from = decoded_.size();
    decoded_.append(begin, at_);
    while (at_ != end_) {
        const auto c = static_cast<unsigned char>(*at_++);
        if (c == '"') {
            node.text_ = decoded_.data() + from;
            node.size_ = static_cast<std::uint32_t>(decoded_.size() - from);
            return true;
        }
        if (c < 0x20 || c >= 0x80) return false;
        if (c != '\\') {
            decoded_ += static_cast<char>(c);
            continue;
        }
        if (at_ == end_) return false;
        switch (*at_++) {
            case '"':
                decoded_ += '"';
                break;
            case '\\':
                decoded_ += '\\';
                break;
            case '/':
                decoded_ += '/';
                break;
            case 'b':
                decoded_ += '\b';
                break;
            case 'f':
                decoded_ += '\f';
                break;
            case 'n':
                decoded_ += '\n';
                break;
            case 'r':
                decoded_ += '\r';
                break;
            case 't':
                decoded_ += '\t';
                break;
            default:
                return false;  // \u (surrogates are Boost.JSON's to judge) or not JSON
        }
    }
    return false;
}

bool JsonTape::number(JsonNode& node) {
    const char* start = at_;
    const bool negative = *at_ == '-';
    if (negative) ++at_;
    const char* digits = at_;
    if (at_ == end_ || !digit(*at_)) return false;
    if (*at_ == '0') {
        ++at_;
    } else {
        while (at_ != end_ && digit(*at_)) ++at_;
    }
    const auto integer_digits = at_ - digits;
    bool whole = true;
    if (at_ != end_ && *at_ == '.') {
        whole = false;
        if (++at_ == end_ || !digit(*at_)) return false;
        while (at_ != end_ && digit(*at_)) ++at_;
    }
    if (at_ != end_ && (*at_ == 'e' || *at_ == 'E')) {
        whole = false;
        if (++at_ != end_ && (*at_ == '+' || *at_ == '-')) ++at_;
        const char* exponent = at_;
        while (at_ != end_ && digit(*at_)) ++at_;
        // Boost.JSON refuses exponents past INT_MAX; this stays far below that.
        if (at_ == exponent || at_ - exponent > 4) return false;
    }
    if (at_ - start > 40) return false;
    if (!whole) {
        node.kind_ = JsonNode::Kind::number;  // a double; no request reader needs its value
        return true;
    }
    // Up to 18 digits always fit an int64; "-0" is left to Boost.JSON.
    if (integer_digits > 18) return false;
    std::int64_t value = 0;
    for (const char* d = digits; d != at_; ++d) value = value * 10 + (*d - '0');
    if (negative && value == 0) return false;
    node.kind_ = JsonNode::Kind::int64;
    node.integer_ = negative ? -value : value;
    return true;
}

}  // namespace brownout::wire::detail
