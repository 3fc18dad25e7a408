#include "core/error.h"

#include <fmt/format.h>

namespace brownout {

std::string format_error(const SourceLocation& where, const std::string& key_path,
                         const std::string& message) {
    std::string out;
    if (!where.file.empty()) out += where.file + ":";
    if (where.line > 0) out += fmt::format("{}:{}:", where.line, where.column);
    if (!out.empty()) out += " ";
    if (!key_path.empty()) out += key_path + ": ";
    out += message;
    return out;
}

Error::Error(SourceLocation where, std::string key_path, std::string message)
    : std::runtime_error(format_error(where, key_path, message)), where_(std::move(where)),
      key_path_(std::move(key_path)), message_(std::move(message)) {}

Error::Error(std::string message) : std::runtime_error(message), message_(std::move(message)) {}

}  // namespace brownout
