#pragma once
// Determinism: every random choice in brownout comes from a named stream derived from the
// scenario seed, so that the same scenario, seed and request sequence replay exactly.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace brownout {

// Eight bytes a step, FNV-1a over the last few, then a splitmix64 finaliser so that nearby
// inputs spread over all bits.
std::uint64_t hash64(std::string_view bytes, std::uint64_t seed = 0);

// hash64 of bytes given in pieces: finish() is hash64 of everything added, joined, without
// keeping it (a request's digest is made as its messages are read).
class Hash64Stream {
public:
    explicit Hash64Stream(std::uint64_t seed = 0);
    void add(std::string_view bytes);
    void add(char byte) { add(std::string_view(&byte, 1)); }
    std::uint64_t finish() const;

private:
    std::uint64_t h_;
    std::array<char, 8> pending_{};  // the bytes after the last whole word
    std::size_t pending_size_ = 0;
    std::size_t size_ = 0;
};
inline std::uint64_t mix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}
// hash_combine(a, b) for one `a` and many `b`: what depends on `a` alone is worked out once.
class HashCombiner {
public:
    explicit HashCombiner(std::uint64_t a = 0)
        : a_(a), salt_(0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2)) {}
    std::uint64_t operator()(std::uint64_t b) const { return mix64(a_ ^ (b + salt_)); }
    std::uint64_t base() const { return a_; }  // the `a` it was made with

private:
    std::uint64_t a_;
    std::uint64_t salt_;
};
inline std::uint64_t hash_combine(std::uint64_t a, std::uint64_t b) {
    return HashCombiner(a)(b);
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
    // [low, high)
    double uniform(double low, double high) { return low + (high - low) * uniform(); }
    double normal();                  // mean 0, sd 1
    double exponential(double rate);  // mean 1/rate
    bool chance(double probability) {
        if (probability <= 0) return false;
        if (probability >= 1) return true;
        return uniform() < probability;
    }

private:
    std::uint64_t state_;
};

}  // namespace brownout
