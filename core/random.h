#pragma once
// Determinism: every random choice in brownout comes from a named stream derived from the
// scenario seed, so that the same scenario, seed and request sequence replay exactly.

#include <cstdint>
#include <string_view>

namespace brownout {

// FNV-1a over bytes, then a splitmix64 finaliser so that nearby inputs spread over all bits.
std::uint64_t hash64(std::string_view bytes, std::uint64_t seed = 0);
std::uint64_t mix64(std::uint64_t x);
inline std::uint64_t hash_combine(std::uint64_t a, std::uint64_t b) {
    return mix64(a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2)));
}

// xoshiro256** seeded through splitmix64: small, fast, and identical on every platform
// (std:: distributions are not, so the few we need are written here).
class RandomStream {
public:
    explicit RandomStream(std::uint64_t seed);
    // A stream for one purpose ("provider/deepseek/latency"), independent of all others.
    static RandomStream derive(std::uint64_t scenario_seed, std::string_view name);

    std::uint64_t next();
    double uniform();                        // [0, 1)
    double uniform(double low, double high);  // [low, high)
    double normal();                         // mean 0, sd 1
    double exponential(double rate);         // mean 1/rate
    bool chance(double probability);

private:
    std::uint64_t s_[4];
};

}  // namespace brownout
