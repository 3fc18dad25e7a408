#include "core/random.h"

#include <cmath>
#include <cstring>

namespace brownout {

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

RandomStream RandomStream::derive(std::uint64_t scenario_seed, std::string_view name) {
    return RandomStream(hash64(name, scenario_seed));
}

double RandomStream::uniform(double low, double high) {
    return low + (high - low) * uniform();
}

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

}  // namespace brownout
