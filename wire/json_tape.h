#pragma once
// A JSON reader for the request bodies a mock provider sees every time: read in place into a
// flat array of nodes on the stack, with no document, no allocation and no hashing. It reads
// only what it can read exactly as Boost.JSON does and declines the rest (text outside ASCII,
// \u escapes, numbers it would have to round, duplicate keys, more than kCapacity nodes or 32
// levels, and everything that is not JSON); the caller then parses with Boost.JSON, which also
// words every error. The read values and Boost.JSON's agree for every accepted text
// (tests/wire/json_tape_test.cpp, fuzz_json_tape).
//
//   {"model":"m","messages":[{"role":"user"}]}
//   nodes: object(2) "model" "m" "messages" array(1) object(1) "role" "user"
//
// A node's subtree follows it; `span` counts its nodes, so the next sibling is `span` on. An
// object's members are key, value, key, value. Nodes mirror the part of boost::json::value that
// request readers use, so one template reads either (with the find() and string_or_empty()
// overloads in wire/common.h).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace brownout::wire::detail {

class JsonNode;

struct JsonMember {
    std::string_view key;
    const JsonNode& value;
};

class JsonNode {
public:
    enum class Kind : std::uint8_t { null, boolean, int64, number, string, array, object };

    // An array's elements.
    class Items {
    public:
        class iterator {
        public:
            explicit iterator(const JsonNode* at) : at_(at) {}
            const JsonNode& operator*() const { return *at_; }
            iterator& operator++() {
                at_ += at_->span_;
                return *this;
            }
            bool operator==(const iterator&) const = default;

        private:
            const JsonNode* at_;
        };
        explicit Items(const JsonNode& array) : array_(&array) {}
        iterator begin() const { return iterator(array_ + 1); }
        iterator end() const { return iterator(array_ + array_->span_); }
        bool empty() const { return array_->count_ == 0; }
        std::size_t size() const { return array_->count_; }

    private:
        const JsonNode* array_;
    };

    // An object's members, in the order written (keys are unique: the reader declines
    // duplicates, which Boost.JSON would fold to the last).
    class Members {
    public:
        class iterator {
        public:
            explicit iterator(const JsonNode* key) : key_(key) {}
            JsonMember operator*() const { return {key_->get_string(), key_[1]}; }
            iterator& operator++() {
                key_ += 1 + key_[1].span_;
                return *this;
            }
            bool operator==(const iterator&) const = default;

        private:
            const JsonNode* key_;
        };
        explicit Members(const JsonNode& object) : object_(&object) {}
        iterator begin() const { return iterator(object_ + 1); }
        iterator end() const { return iterator(object_ + object_->span_); }
        bool empty() const { return object_->count_ == 0; }
        std::size_t size() const { return object_->count_; }
        const JsonNode* find(std::string_view key) const;

    private:
        const JsonNode* object_;
    };

    Kind kind() const { return kind_; }
    bool is_null() const { return kind_ == Kind::null; }
    bool is_bool() const { return kind_ == Kind::boolean; }
    bool is_int64() const { return kind_ == Kind::int64; }
    // Integers the reader takes all fit an int64 (it declines longer ones), as Boost.JSON's do.
    bool is_uint64() const { return false; }
    bool is_double() const { return kind_ == Kind::number; }
    bool is_string() const { return kind_ == Kind::string; }
    bool is_array() const { return kind_ == Kind::array; }
    bool is_object() const { return kind_ == Kind::object; }

    bool get_bool() const { return integer_ != 0; }
    std::int64_t get_int64() const { return integer_; }
    std::uint64_t get_uint64() const { return static_cast<std::uint64_t>(integer_); }
    std::string_view get_string() const { return {text_, size_}; }
    Items get_array() const { return Items(*this); }
    Members get_object() const { return Members(*this); }

private:
    friend class JsonTape;
    // No initializers: a tape's nodes are left unwritten until read() takes them (JsonTape::push
    // sets every field), since writing all kCapacity up front cost more than reading a request.
    const char* text_;      // a string's characters (in the body, or decoded)
    std::int64_t integer_;  // an int64's value; a boolean's 0 or 1
    std::uint32_t size_;    // a string's length
    std::uint32_t count_;   // an array's elements, an object's members
    std::uint32_t span_;    // nodes in this subtree, itself included
    Kind kind_;
};

class JsonTape {
public:
    static constexpr std::size_t kCapacity = 256;
    static constexpr int kMaxDepth = 32;

    JsonTape() = default;
    JsonTape(const JsonTape&) = delete;
    JsonTape& operator=(const JsonTape&) = delete;
    JsonTape(JsonTape&&) = delete;
    JsonTape& operator=(JsonTape&&) = delete;
    ~JsonTape() = default;

    // True when `text` is one JSON value this reader takes; the nodes point into `text`, which
    // must outlive them. False means "ask Boost.JSON", never "invalid".
    bool read(std::string_view text);
    const JsonNode& root() const { return nodes_[0]; }

private:
    bool value(int depth);
    bool string(JsonNode& node);
    bool number(JsonNode& node);
    bool literal(std::string_view word);
    bool unique_key(const JsonNode& object, const JsonNode& key) const;
    JsonNode* push();
    void skip_space();

    const char* at_ = nullptr;
    const char* end_ = nullptr;
    std::size_t used_ = 0;
    std::string decoded_;  // strings with escapes, decoded; reserved once, so views hold
    std::array<JsonNode, kCapacity> nodes_;
};

}  // namespace brownout::wire::detail
