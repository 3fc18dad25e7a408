#pragma once
// Reading TOML tables with errors that say where and what:
//   scenarios/x.toml:12:5: providers[0].latency.ttft: "fast" is not a duration (e.g. "250ms",
//   "1h30m")
// Every table is read through a TableReader; finish() rejects keys nobody asked for, with a
// "did you mean" when one is close.

#include <toml++/toml.h>

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/duration.h"
#include "core/error.h"

namespace brownout {

// What a table may hold, declared once beside the code that reads it: a TableReader with a spec
// refuses to read a key its spec does not declare (a programming error, caught by the tests that
// load every scenario), and the scenario format's JSON Schema (`brownout schema`) is generated
// from the same specs — so editors and the validator know the same keys.
enum class KeyType {
    string,   // choices: one of them
    number,   // min/max when bounded
    integer,  // min/max when bounded
    boolean,
    duration,  // "250ms", "1h30m" (or 0)
    rate,      // a share in [0, 1], or {from, to, curve, steps} (faults/rate.h)
    per_time,  // "1000/h", "20/m", "5/s"
    strings,   // an array of strings
    table,     // `table`: what it holds (null: any string values)
    tables,    // an array of tables ([[x]] or [{…}, …]), each `table`
    any,       // read by hand (a union of types): `doc` says which
};

struct TableSpec;

struct KeySpec {
    std::string name;
    KeyType type = KeyType::string;
    std::string doc;
    std::vector<std::string> choices = {};
    std::optional<double> min = {};
    std::optional<double> max = {};
    const TableSpec* table = nullptr;
    bool required = false;
    // For KeyType::any: the JSON Schema of the value, as JSON text.
    std::string schema = {};
};

struct TableSpec {
    std::string name;  // for the schema's title and for errors
    std::string doc;
    std::vector<KeySpec> keys;
    // A table whose other keys depend on one of its values (a phase's `fault`, a client's
    // `kind`): the full spec for each value, and the value when the key is absent.
    std::string variant_key = {};
    std::string variant_default = {};
    std::vector<std::pair<std::string, const TableSpec*>> variants = {};
    // What to say of a key this table does not have when there is more to say than "unknown
    // key" (a key of another policy: whose it is); empty: nothing more.
    std::function<std::string(std::string_view key)> unknown_key_note = {};
    const KeySpec* find(std::string_view key) const;
};

class TableReader {
public:
    TableReader(const toml::table& table, std::string path, std::shared_ptr<const std::string> file,
                const TableSpec* spec = nullptr);

    const std::string& path() const { return path_; }
    std::string key_path(std::string_view key) const;
    SourceLocation where(std::string_view key) const;  // the key's value, or the table itself
    SourceLocation where() const;
    bool has(std::string_view key) const;

    std::optional<std::string> string(std::string_view key);
    std::string string(std::string_view key, std::string fallback);
    std::string required_string(std::string_view key);
    // One of `allowed`; the error lists them.
    std::optional<std::string> choice(std::string_view key,
                                      const std::vector<std::string>& allowed);

    std::optional<double> number(std::string_view key);  // integers are accepted
    std::optional<double> number_in(std::string_view key, double low, double high);
    std::optional<std::int64_t> integer(std::string_view key, std::int64_t low = INT64_MIN,
                                        std::int64_t high = INT64_MAX);
    std::optional<bool> boolean(std::string_view key);
    std::optional<Duration> duration(std::string_view key);
    std::optional<std::vector<std::string>> strings(std::string_view key);

    std::optional<TableReader> table(std::string_view key);
    // An array of tables ([[providers]]) or an array of inline tables (mix = [{...}, {...}]).
    std::vector<TableReader> tables(std::string_view key);
    const toml::node* node(std::string_view key);
    const toml::table& raw() const { return table_; }
    const TableSpec* spec() const { return spec_; }
    // A table whose keys depend on one of its values (a phase's `fault`): the spec from here on.
    void set_spec(const TableSpec* spec) { spec_ = spec; }

    // Throws for the first key of this table that was never read.
    void finish() const;

    [[noreturn]] void fail(std::string_view key, const std::string& message) const;
    [[noreturn]] void fail(const std::string& message) const;

private:
    // Throws std::logic_error when the spec does not declare `key` (as any of `types`).
    void declared(std::string_view key, std::initializer_list<KeyType> types) const;

    const toml::table& table_;
    std::string path_;
    std::shared_ptr<const std::string> file_;
    const TableSpec* spec_ = nullptr;
    std::vector<std::string> used_;
};

// Parses a TOML file; syntax errors become brownout::Error with file, line and column.
toml::table parse_toml_file(const std::string& file);
toml::table parse_toml_text(std::string_view text, const std::string& name);

}  // namespace brownout
