#include "core/random.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace brownout {

namespace {

std::uint64_t add_word(std::uint64_t h, const char* bytes) {
    std::uint64_t word;
    std::memcpy(&word, bytes, 8);
    h = (h ^ word) * 0x9e3779b97f4a7c15ULL;
    return h ^ (h >> 32);
}

}  // namespace

Hash64Stream::Hash64Stream(std::uint64_t seed) : h_(0xcbf29ce484222325ULL ^ mix64(seed)) {}

void Hash64Stream::add(std::string_view bytes) {
    // Nothing to add; and an empty view may have no data, which memcpy must not be given.
    if (bytes.empty()) return;
    size_ += bytes.size();
    std::size_t i = 0;
    if (pending_size_ > 0) {
        i = std::min(pending_.size() - pending_size_, bytes.size());
        std::memcpy(pending_.data() + pending_size_, bytes.data(), i);
        pending_size_ += i;
        if (pending_size_ < pending_.size()) return;
        h_ = add_word(h_, pending_.data());
        pending_size_ = 0;
    }
    for (; i + 8 <= bytes.size(); i += 8) h_ = add_word(h_, bytes.data() + i);
    pending_size_ = bytes.size() - i;
    std::memcpy(pending_.data(), bytes.data() + i, pending_size_);
}

std::uint64_t Hash64Stream::finish() const {
    std::uint64_t h = h_;
    for (std::size_t i = 0; i < pending_size_; ++i) {
        h ^= static_cast<unsigned char>(pending_[i]);
        h *= 0x100000001b3ULL;
    }
    return mix64(h ^ size_);
}

std::uint64_t hash64(std::string_view bytes, std::uint64_t seed) {
    Hash64Stream stream(seed);
    stream.add(bytes);
    return stream.finish();
}

RandomStream RandomStream::derive(std::uint64_t scenario_seed, std::string_view name) {
    return RandomStream(hash64(name, scenario_seed));
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
