#pragma once
// Determinism: every random choice in brownout comes from a named stream derived from the
// scenario seed, so that the same scenario, seed and request sequence replay exactly.

#include <cstdint>
#include <string_view>

namespace brownout {

// FNV-1a over bytes, then a splitmix64 finaliser so that nearby inputs spread over all bits.
std::uint64_t hash64(std::string_view bytes, std::uint64_t seed = 0);
inline std::uint64_t mix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}
inline std::uint64_t hash_combine(std::uint64_t a, std::uint64_t b) {
    return mix64(a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2)));
}

// SplitMix64: one word of state, so a stream per (phase, request) costs nothing to create;
// identical on every platform (std:: distributions are not, so the few we need are here).
class RandomStream {
public:
    explicit RandomStream(std::uint64_t seed) : state_(mix64(seed)) {}
    // A stream for one purpose ("provider/deepseek/latency"), independent of all others.
    static RandomStream derive(std::uint64_t scenario_seed, std::string_view name);

    std::uint64_t next() {
        state_ += 0x9e3779b97f4a7c15ULL;
        return mix64(state_);
    }
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
    double uniform(double low, double high);                                    // [low, high)
    double normal();                                                            // mean 0, sd 1
    double exponential(double rate);                                            // mean 1/rate
    bool chance(double probability) {
        if (probability <= 0) return false;
        if (probability >= 1) return true;
        return uniform() < probability;
    }

private:
    std::uint64_t state_;
};

}  // namespace brownout
