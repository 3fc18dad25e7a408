#include "core/random.h"

#include <cmath>
#include <cstring>

namespace brownout {

std::uint64_t mix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

std::uint64_t hash64(std::string_view bytes, std::uint64_t seed) {
    // Eight bytes a step (the hot path digests every prompt), FNV-1a for the tail.
    std::uint64_t h = 0xcbf29ce484222325ULL ^ mix64(seed);
    std::size_t i = 0;
    for (; i + 8 <= bytes.size(); i += 8) {
        std::uint64_t word;
        std::memcpy(&word, bytes.data() + i, 8);
        h = (h ^ word) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 32;
    }
    for (; i < bytes.size(); ++i) {
        h ^= static_cast<unsigned char>(bytes[i]);
        h *= 0x100000001b3ULL;
    }
    return mix64(h ^ bytes.size());
}

RandomStream::RandomStream(std::uint64_t seed) {
    std::uint64_t x = seed;
    for (auto& word : s_) {
        x += 0x9e3779b97f4a7c15ULL;
        word = mix64(x);
    }
}

RandomStream RandomStream::derive(std::uint64_t scenario_seed, std::string_view name) {
    return RandomStream(hash64(name, scenario_seed));
}

static inline std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

std::uint64_t RandomStream::next() {
    std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
}

double RandomStream::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double RandomStream::uniform(double low, double high) { return low + (high - low) * uniform(); }

double RandomStream::normal() {
    // Box–Muller; one value per call keeps the stream position easy to reason about.
    double u1 = uniform();
    double u2 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

double RandomStream::exponential(double rate) {
    double u = uniform();
    return -std::log1p(-u) / rate;
}

bool RandomStream::chance(double probability) {
    if (probability <= 0) return false;
    if (probability >= 1) return true;
    return uniform() < probability;
}

}  // namespace brownout
