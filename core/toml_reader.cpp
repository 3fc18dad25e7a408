#include "core/toml_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/text.h"

namespace brownout {
namespace {

SourceLocation location_of(const toml::source_region& region, const std::string& file) {
    return {file, static_cast<std::uint32_t>(region.begin.line),
            static_cast<std::uint32_t>(region.begin.column)};
}

std::string_view type_name(const toml::node& n) {
    switch (n.type()) {
        case toml::node_type::table:
            return "a table";
        case toml::node_type::array:
            return "an array";
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a number";
        case toml::node_type::boolean:
            return "a boolean";
        default:
            return "a date or time";
    }
}

}  // namespace

const KeySpec* TableSpec::find(std::string_view key) const {
    for (const auto& k : keys)
        if (k.name == key) return &k;
    return nullptr;
}

TableReader::TableReader(const toml::table& table, std::string path,
                         std::shared_ptr<const std::string> file, const TableSpec* spec)
    : table_(table), path_(std::move(path)), file_(std::move(file)), spec_(spec) {}

void TableReader::declared(std::string_view key, std::initializer_list<KeyType> types) const {
    if (spec_ == nullptr) return;
    const KeySpec* k = spec_->find(key);
    if (k == nullptr)
        throw std::logic_error(
            fmt::format("{}: the code reads key \"{}\", which {}'s spec does "
                        "not declare",
                        key_path(key), key, spec_->name));
    if (k->type == KeyType::any) return;
    for (auto t : types)
        if (t == k->type) return;
    throw std::logic_error(fmt::format("{}: read as another type than {}'s spec declares",
                                       key_path(key), spec_->name));
}

std::string TableReader::key_path(std::string_view key) const {
    if (path_.empty()) return std::string(key);
    return fmt::format("{}.{}", path_, key);
}

SourceLocation TableReader::where() const {
    return location_of(table_.source(), *file_);
}

SourceLocation TableReader::where(std::string_view key) const {
    if (const toml::node* n = table_.get(key)) {
        if (n->source().begin.line > 0) return location_of(n->source(), *file_);
    }
    return where();
}

bool TableReader::has(std::string_view key) const {
    return table_.contains(key);
}

void TableReader::fail(std::string_view key, const std::string& message) const {
    // A key that is missing because it was misspelt: say so, rather than what its absence causes.
    if (!table_.contains(key)) {
        for (const auto& [other, value] : table_) {
            std::string k(other.str());
            if (std::find(used_.begin(), used_.end(), k) != used_.end()) continue;
            if (closest_match(k, {std::string(key)}).empty()) continue;
            throw Error(location_of(other.source().begin.line > 0 ? other.source() : value.source(),
                                    *file_),
                        key_path(k), fmt::format("unknown key (did you mean \"{}\"?)", key));
        }
    }
    throw Error(where(key), key_path(key), message);
}

void TableReader::fail(const std::string& message) const {
    throw Error(where(), path_, message);
}

const toml::node* TableReader::node(std::string_view key) {
    if (spec_ != nullptr && spec_->find(key) == nullptr) declared(key, {});
    used_.emplace_back(key);
    return table_.get(key);
}

std::optional<std::string> TableReader::string(std::string_view key) {
    declared(key, {KeyType::string, KeyType::per_time});
    const toml::node* n = node(key);
    if (n == nullptr) return std::nullopt;
    if (!n->is_string()) fail(key, fmt::format("expected a string, found {}", type_name(*n)));
    return n->as_string()->get();
}

std::string TableReader::string(std::string_view key, std::string fallback) {
    auto s = string(key);
    return s ? *s : std::move(fallback);
}

std::string TableReader::required_string(std::string_view key) {
    auto s = string(key);
    if (!s) fail(key, "is required");
    if (s->empty()) fail(key, "must not be empty");
    return *s;
}

std::optional<std::string> TableReader::choice(std::string_view key,
                                               const std::vector<std::string>& allowed) {
    auto s = string(key);
    if (!s) return s;
    if (std::find(allowed.begin(), allowed.end(), *s) == allowed.end()) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        std::string hint = closest_match(*s, allowed);
        fail(key, fmt::format("\"{}\" is not one of {}{}", *s, list,
                              hint.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", hint)));
    }
    return s;
}

std::optional<double> TableReader::number(std::string_view key) {
    declared(key, {KeyType::number, KeyType::rate});
    const toml::node* n = node(key);
    if (n == nullptr) return std::nullopt;
    if (auto i = n->as_integer()) return static_cast<double>(i->get());
    if (auto f = n->as_floating_point()) return f->get();
    fail(key, fmt::format("expected a number, found {}", type_name(*n)));
}

std::optional<double> TableReader::number_in(std::string_view key, double low, double high) {
    auto v = number(key);
    if (v && (*v < low || *v > high || std::isnan(*v))) {
        fail(key, fmt::format("{} is outside [{}, {}]", *v, low, high));
    }
    return v;
}

std::optional<std::int64_t> TableReader::integer(std::string_view key, std::int64_t low,
                                                 std::int64_t high) {
    declared(key, {KeyType::integer});
    const toml::node* n = node(key);
    if (n == nullptr) return std::nullopt;
    auto i = n->as_integer();
    if (!i) fail(key, fmt::format("expected an integer, found {}", type_name(*n)));
    if (i->get() < low || i->get() > high) {
        fail(key, fmt::format("{} is outside [{}, {}]", i->get(), low, high));
    }
    return i->get();
}

std::optional<bool> TableReader::boolean(std::string_view key) {
    declared(key, {KeyType::boolean});
    const toml::node* n = node(key);
    if (n == nullptr) return std::nullopt;
    if (!n->is_boolean()) fail(key, fmt::format("expected true or false, found {}", type_name(*n)));
    return n->as_boolean()->get();
}

std::optional<Duration> TableReader::duration(std::string_view key) {
    declared(key, {KeyType::duration});
    const toml::node* n = node(key);
    if (n == nullptr) return std::nullopt;
    if (auto i = n->as_integer(); i && i->get() == 0) return Duration::zero();
    if (!n->is_string()) {
        fail(key, fmt::format("expected a duration string such as \"250ms\" or \"1h30m\", found {}",
                              type_name(*n)));
    }
    auto d = parse_duration(n->as_string()->get());
    if (!d)
        fail(key, fmt::format("\"{}\" is not a duration (e.g. \"250ms\", \"1.5s\", \"1h30m\")",
                              n->as_string()->get()));
    return d;
}

std::optional<std::vector<std::string>> TableReader::strings(std::string_view key) {
    declared(key, {KeyType::strings});
    const toml::node* n = node(key);
    if (n == nullptr) return std::nullopt;
    const toml::array* a = n->as_array();
    if (a == nullptr)
        fail(key, fmt::format("expected an array of strings, found {}", type_name(*n)));
    std::vector<std::string> out;
    for (std::size_t i = 0; i < a->size(); ++i) {
        const toml::node& item = *a->get(i);
        if (!item.is_string()) {
            throw Error(location_of(item.source(), *file_), fmt::format("{}[{}]", key_path(key), i),
                        fmt::format("expected a string, found {}", type_name(item)));
        }
        out.push_back(item.as_string()->get());
    }
    return out;
}

std::optional<TableReader> TableReader::table(std::string_view key) {
    declared(key, {KeyType::table, KeyType::rate});
    const toml::node* n = node(key);
    if (n == nullptr) return std::nullopt;
    if (!n->is_table()) fail(key, fmt::format("expected a table, found {}", type_name(*n)));
    const KeySpec* k = spec_ ? spec_->find(key) : nullptr;
    return TableReader(*n->as_table(), key_path(key), file_, k ? k->table : nullptr);
}

std::vector<TableReader> TableReader::tables(std::string_view key) {
    declared(key, {KeyType::tables});
    const KeySpec* k = spec_ ? spec_->find(key) : nullptr;
    const toml::node* n = node(key);
    std::vector<TableReader> out;
    if (n == nullptr) return out;
    const toml::array* a = n->as_array();
    if (a == nullptr)
        fail(key,
             fmt::format("expected an array of tables ([[{}]]), found {}", key, type_name(*n)));
    for (std::size_t i = 0; i < a->size(); ++i) {
        const toml::node& item = *a->get(i);
        std::string path = fmt::format("{}[{}]", key_path(key), i);
        if (!item.is_table()) {
            throw Error(location_of(item.source(), *file_), path,
                        fmt::format("expected a table, found {}", type_name(item)));
        }
        out.emplace_back(*item.as_table(), path, file_, k ? k->table : nullptr);
    }
    return out;
}

void TableReader::finish() const {
    std::vector<std::string> known = used_;
    ErrorCollector errors;
    for (const auto& [key, value] : table_) {
        std::string k(key.str());
        if (std::find(used_.begin(), used_.end(), k) != used_.end()) continue;
        std::string hint = closest_match(k, known);
        std::string note = spec_ != nullptr && spec_->unknown_key_note ? spec_->unknown_key_note(k)
                                                                       : std::string();
        // Outside the lambda: clang 14 cannot capture a structured binding.
        SourceLocation at =
            location_of(key.source().begin.line > 0 ? key.source() : value.source(), *file_);
        errors.attempt([&] {
            if (!note.empty()) throw Error(at, key_path(k), note);
            throw Error(at, key_path(k),
                        hint.empty() ? std::string("unknown key")
                                     : fmt::format("unknown key (did you mean \"{}\"?)", hint));
        });
    }
    errors.throw_if_any();
}

toml::table parse_toml_text(std::string_view text, const std::string& name) {
    try {
        return toml::parse(text, name);
    } catch (const toml::parse_error& e) {
        throw Error(location_of(e.source(), name), "", std::string(e.description()));
    }
}

toml::table parse_toml_file(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(SourceLocation{file, 0, 0}, "", "cannot open file");
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return parse_toml_text(buffer.str(), file);
}

}  // namespace brownout
