#pragma once
// `brownout init`: a starter scenario modelled on a real incident and a client skeleton for the
// chosen stack, which `brownout run` accepts as written. The templates are files (init/ in the
// source tree, share/brownout/init when installed), so they read as what they are.

#include <filesystem>
#include <iosfwd>
#include <string>

namespace brownout::harness {

struct InitCommand {
    std::filesystem::path dir = ".";  // where the files go
    std::string stack = "node";       // node | python | gateway
    bool force = false;               // overwrite files that exist
    std::filesystem::path templates;  // init/
    std::filesystem::path schema;     // the scenario schema, for the #:schema line
};

// 0 written, 2 a usage error or a file that exists (nothing is written then).
int init_command(const InitCommand& command, std::ostream& out, std::ostream& err);

}  // namespace brownout::harness
