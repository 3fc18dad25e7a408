#pragma once
// Reading TOML tables with errors that say where and what:
//   scenarios/x.toml:12:5: providers[0].latency.ttft: "fast" is not a duration (e.g. "250ms",
//   "1h30m")
// Every table is read through a TableReader; finish() rejects keys nobody asked for, with a
// "did you mean" when one is close.

#include <toml++/toml.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/duration.h"
#include "core/error.h"

namespace brownout {

class TableReader {
public:
    TableReader(const toml::table& table, std::string path,
                std::shared_ptr<const std::string> file);

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

    // Throws for the first key of this table that was never read.
    void finish() const;

    [[noreturn]] void fail(std::string_view key, const std::string& message) const;
    [[noreturn]] void fail(const std::string& message) const;

private:
    const toml::table& table_;
    std::string path_;
    std::shared_ptr<const std::string> file_;
    std::vector<std::string> used_;
};

// Parses a TOML file; syntax errors become brownout::Error with file, line and column.
toml::table parse_toml_file(const std::string& file);
toml::table parse_toml_text(std::string_view text, const std::string& name);

}  // namespace brownout
