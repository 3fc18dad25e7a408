#pragma once
// Errors say where and what: "scenarios/x.toml:12:5: providers[0].latency.ttft: bad duration".

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace brownout {

struct SourceLocation {
    std::string file;
    std::uint32_t line = 0;    // 1-based; 0 when unknown
    std::uint32_t column = 0;  // 1-based; 0 when unknown
};

class Error : public std::runtime_error {
public:
    Error(SourceLocation where, std::string key_path, std::string message);
    explicit Error(std::string message);

    const SourceLocation& where() const { return where_; }
    const std::string& key_path() const { return key_path_; }
    const std::string& message() const { return message_; }

private:
    SourceLocation where_;
    std::string key_path_;
    std::string message_;
};

// Several errors found in one pass over a file (validation reports every one, not only the
// first); what() is one formatted error a line.
class ErrorList : public Error {
public:
    explicit ErrorList(std::vector<Error> errors);
    const std::vector<Error>& errors() const { return errors_; }

private:
    std::vector<Error> errors_;
};

// Runs one part of a reading after another, keeping the errors instead of stopping at the first.
class ErrorCollector {
public:
    // Runs `read`; returns false (and keeps its errors) when it threw.
    template <class Read>
    bool attempt(Read&& read) {
        try {
            read();
            return true;
        } catch (const ErrorList& list) {
            for (const auto& e : list.errors()) add(e);
        } catch (const Error& e) {
            add(e);
        }
        return false;
    }
    bool empty() const { return errors_.empty(); }
    // Throws the one error, or an ErrorList of all of them, if there is any.
    void throw_if_any() const;

private:
    // The same error found twice (a misspelt key: once where it was missed, once as unknown)
    // is reported once.
    void add(const Error& e);
    std::vector<Error> errors_;
};

// Renders file:line:col: key.path: message, leaving out the parts that are unknown.
std::string format_error(const SourceLocation& where, const std::string& key_path,
                         const std::string& message);

}  // namespace brownout
