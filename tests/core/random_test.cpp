#include "core/random.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <set>
#include <string>

#include "core/token_bucket.h"

using namespace brownout;
using namespace std::chrono_literals;

TEST_CASE("a named stream replays exactly from the same seed", "[core][random]") {
    auto a = RandomStream::derive(20250508, "provider/deepseek/latency");
    auto b = RandomStream::derive(20250508, "provider/deepseek/latency");
    for (int i = 0; i < 1000; ++i) REQUIRE(a.next() == b.next());
}

TEST_CASE("streams with different names or seeds are independent", "[core][random]") {
    auto a = RandomStream::derive(1, "workload");
    auto b = RandomStream::derive(1, "faults");
    auto c = RandomStream::derive(2, "workload");
    int same_ab = 0, same_ac = 0;
    for (int i = 0; i < 1000; ++i) {
        auto x = a.next();
        same_ab += x == b.next();
        same_ac += x == c.next();
    }
    CHECK(same_ab == 0);
    CHECK(same_ac == 0);
}

TEST_CASE("uniform draws cover the unit interval evenly and chance() follows its probability",
          "[core][random]") {
    RandomStream r(42);
    double sum = 0;
    int hits = 0;
    const int n = 100000;
    for (int i = 0; i < n; ++i) {
        double u = r.uniform();
        REQUIRE(u >= 0.0);
        REQUIRE(u < 1.0);
        sum += u;
        hits += r.chance(0.3);
    }
    CHECK(sum / n == Approx(0.5).margin(0.01));
    CHECK(hits / double(n) == Approx(0.3).margin(0.01));
    CHECK_FALSE(r.chance(0.0));
    CHECK(r.chance(1.0));
}

TEST_CASE("exponential draws have mean 1/rate", "[core][random]") {
    RandomStream r(7);
    double sum = 0;
    for (int i = 0; i < 100000; ++i) sum += r.exponential(4.0);
    CHECK(sum / 100000 == Approx(0.25).margin(0.01));
}

TEST_CASE("a token bucket empties, refills linearly and reports the time to full",
          "[core][bucket]") {
    TokenBucket bucket(60, 1min);  // one token a second
    Duration t = 0s;
    for (int i = 0; i < 60; ++i) REQUIRE(bucket.try_take(1, t));
    CHECK_FALSE(bucket.try_take(1, t));
    CHECK(bucket.time_to_full(t) == 60s);
    CHECK(bucket.time_until(1, t) == 1s);
    t = 10s;
    CHECK(bucket.available(t) == Approx(10));
    CHECK(bucket.time_to_full(t) == 50s);
    t = 5min;
    CHECK(bucket.available(t) == Approx(60));  // never above capacity
}

TEST_CASE("a hash given in pieces is the hash of the pieces joined", "[random][hash]") {
    RandomStream rng(42);
    for (int round = 0; round < 300; ++round) {
        std::string whole;
        Hash64Stream stream(static_cast<std::uint64_t>(round));
        int pieces = static_cast<int>(rng.next() % 8);
        for (int p = 0; p < pieces; ++p) {
            std::string piece(rng.next() % 20, '\0');
            for (auto& ch : piece) ch = static_cast<char>(rng.next() & 0xff);
            stream.add(std::string_view{});  // nothing, without data (UBSan: no memcpy of it)
            if (rng.next() % 3 == 0) {
                for (char ch : piece) stream.add(ch);
            } else {
                stream.add(piece);
            }
            whole += piece;
        }
        CHECK(stream.finish() == hash64(whole, static_cast<std::uint64_t>(round)));
    }
    // hash64's own values do not move (every scenario's answers and digests hang on them).
    CHECK(hash64("") == 0x5b21f68ffa77f14cULL);
    CHECK(hash64("hello world, brownout", 7) == 0x5f29bf4645869334ULL);
}
