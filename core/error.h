#pragma once
// Errors say where and what: "scenarios/x.toml:12:5: providers[0].latency.ttft: bad duration".

#include <cstdint>
#include <stdexcept>
#include <string>

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

// Renders file:line:col: key.path: message, leaving out the parts that are unknown.
std::string format_error(const SourceLocation& where, const std::string& key_path,
                         const std::string& message);

}  // namespace brownout
