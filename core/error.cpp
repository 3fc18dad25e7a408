#include "core/error.h"

#include <fmt/format.h>

#include <string_view>

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
    : std::runtime_error(format_error(where, key_path, message)),
      where_(std::move(where)),
      key_path_(std::move(key_path)),
      message_(std::move(message)) {}

Error::Error(std::string message) : std::runtime_error(message), message_(std::move(message)) {}

namespace {
std::string joined(const std::vector<Error>& errors) {
    std::string out;
    for (const auto& e : errors) out += (out.empty() ? "" : "\n") + std::string(e.what());
    return out;
}
}  // namespace

ErrorList::ErrorList(std::vector<Error> errors)
    : Error(joined(errors)), errors_(std::move(errors)) {}

void ErrorCollector::add(const Error& e) {
    for (const auto& known : errors_) {
        if (std::string_view(known.what()) == e.what()) return;
    }
    errors_.push_back(e);
}

void ErrorCollector::throw_if_any() const {
    if (errors_.empty()) return;
    if (errors_.size() == 1) throw errors_.front();
    throw ErrorList(errors_);
}

}  // namespace brownout
