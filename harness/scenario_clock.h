#pragma once
// External stacks in scenario time. A stdio or gateway child keeps its own timers — SDK backoff,
// request timeouts, breaker cooldowns, sleeps — whatever language it is written in. To run them
// at the scenario's time scale, the child starts with Debian's libfaketime preloaded
// (LD_PRELOAD, FAKETIME="+OFFSET xSCALE"): clock_gettime, gettimeofday, time and the sleep and
// poll calls of every dynamically linked program then run SCALE times faster, from the
// scenario's calendar (the provider's epoch_unix() + scenario time), so an HTTP-date means the
// same instant on both sides to within the child's start-up time × SCALE.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace brownout::harness {

// BROWNOUT_LIBFAKETIME, else the multithreaded libfaketime of Debian's `faketime` package;
// nullopt when there is none.
std::optional<std::string> find_libfaketime();

// The variables that warp a child: its clock reads `offset_seconds` later than the wall clock
// now and then runs `scale` times as fast. An LD_PRELOAD already set is kept after libfaketime.
std::map<std::string, std::string> scenario_clock_env(const std::string& libfaketime,
                                                      std::int64_t offset_seconds, double scale);

}  // namespace brownout::harness
