// Every dialect and vendor brownout speaks, one row each. Adding a dialect: its file (both
// halves of the Dialect interface), its tests, and one row here.

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "wire/dialect.h"

namespace brownout::wire {

const std::vector<DialectInfo>& dialects() {
    static const std::vector<DialectInfo> rows = {
        {"openai",
         DialectKind::openai,
         {Vendor::openai, Vendor::deepseek},
         "gpt-4o-mini",
         &make_openai_chat},
        {"anthropic",
         DialectKind::anthropic,
         {Vendor::anthropic},
         "claude-sonnet-4-5",
         &make_anthropic_messages},
        {"ollama", DialectKind::ollama, {Vendor::ollama}, "llama3.2", &make_ollama},
        {"gemini", DialectKind::gemini, {Vendor::google}, "gemini-2.5-flash", &make_gemini},
        {"openai-responses",
         DialectKind::openai_responses,
         {Vendor::openai},
         "gpt-4o-mini",
         &make_openai_responses},
    };
    return rows;
}

const std::vector<VendorInfo>& vendors() {
    static const std::vector<VendorInfo> rows = {
        {"openai", Vendor::openai},       {"deepseek", Vendor::deepseek},
        {"anthropic", Vendor::anthropic}, {"ollama", Vendor::ollama},
        {"google", Vendor::google},
    };
    return rows;
}

const DialectInfo* find_dialect(std::string_view name) {
    for (const auto& d : dialects()) {
        if (d.name == name) return &d;
    }
    return nullptr;
}

const DialectInfo& dialect_info(DialectKind kind) {
    for (const auto& d : dialects()) {
        if (d.kind == kind) return d;
    }
    throw std::logic_error("a DialectKind without a registry row");
}

const VendorInfo* find_vendor(std::string_view name) {
    for (const auto& v : vendors()) {
        if (v.name == name) return &v;
    }
    return nullptr;
}

std::string_view to_string(DialectKind kind) {
    return dialect_info(kind).name;
}

std::string_view to_string(Vendor vendor) {
    for (const auto& v : vendors()) {
        if (v.vendor == vendor) return v.name;
    }
    return "unknown";
}

std::vector<std::string> dialect_names() {
    std::vector<std::string> out;
    for (const auto& d : dialects()) out.emplace_back(d.name);
    return out;
}

std::vector<std::string> vendor_names() {
    std::vector<std::string> out;
    for (const auto& v : vendors()) out.emplace_back(v.name);
    return out;
}

std::unique_ptr<Dialect> make_dialect(DialectKind kind, Vendor vendor) {
    const auto& info = dialect_info(kind);
    bool speaks = std::find(info.vendors.begin(), info.vendors.end(), vendor) != info.vendors.end();
    return info.make(speaks ? vendor : info.vendors.front());
}

}  // namespace brownout::wire
