#pragma once
// The keys of a phase table, declared beside the code that reads them (core/toml_reader.h):
// the phase's own (timeline.cpp), the error-answer fields several kinds share (common.cpp), a
// share of requests (rate.cpp) and each kind's (its file, one registry row in common.cpp).
// TableReader checks every read against them; `brownout schema` turns them into JSON Schema.

#include <string>
#include <string_view>
#include <vector>

#include "core/toml_reader.h"

namespace brownout::faults {

// name, start, end, duration, fault, models, status_page: what every phase has.
const std::vector<KeySpec>& phase_keys();
// The phase keys alone: what a phase is read with until its kind is known.
const TableSpec& phase_spec();
// status, message, retry_after, retry_after_ms, should_retry, enforce_retry_after.
std::vector<KeySpec> rejection_keys(int default_status);
// A share of requests: a number in [0, 1] or {from, to, curve, steps}.
KeySpec rate_key(std::string name, std::string doc);
// A kind's table: the phase keys and its own.
TableSpec kind_spec(const std::string& kind, std::string doc, std::vector<KeySpec> own);
// The kind's table spec, or null for a kind the registry does not know.
const TableSpec* find_fault_spec(std::string_view kind);

}  // namespace brownout::faults
