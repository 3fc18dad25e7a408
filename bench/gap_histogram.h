// The gap errors of paced frames, for the stream benchmarks (bench/stream_load.cpp,
// bench/stream_floor.cpp): one count per 10 µs up to 1 s.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace brownout::bench {

// Gap errors in 10 µs buckets up to 1 s; beyond that, one overflow bucket.
class GapHistogram {
public:
    void add(double micros) {
        auto bucket = static_cast<std::size_t>(std::max(0.0, micros) / 10.0);
        ++buckets_[std::min(bucket, buckets_.size() - 1)];
        ++count_;
        max_ = std::max(max_, micros);
    }
    double quantile(double q) const {
        if (count_ == 0) return 0;
        auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count_ - 1));
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < buckets_.size(); ++i) {
            seen += buckets_[i];
            if (seen > rank) return static_cast<double>(i + 1) * 10.0;  // the bucket's upper edge
        }
        return max_;
    }
    std::uint64_t count() const { return count_; }
    double max() const { return max_; }

private:
    std::vector<std::uint64_t> buckets_ = std::vector<std::uint64_t>(100'001);
    std::uint64_t count_ = 0;
    double max_ = 0;
};

}  // namespace brownout::bench
