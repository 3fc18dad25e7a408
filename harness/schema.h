#pragma once
// The JSON Schema (draft 7) of a table spec (core/toml_reader.h), for `brownout schema`: the
// scenario format as TOML editors (Taplo / Even Better TOML) read it, made from the same key
// declarations the validator reads through, so the two cannot drift apart.

#include <string>

#include "core/toml_reader.h"

namespace brownout::harness {

// Pretty-printed, two spaces an indent, a newline at the end; `id` becomes "$id".
std::string json_schema(const TableSpec& root, const std::string& id);

}  // namespace brownout::harness
