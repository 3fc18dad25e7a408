#pragma once
// The idle deadlines of a server's connections, in one flat table the server's sweep reads in
// one pass. A connection writes its own slot as it turns idle (the instant past which it is
// closed) or busy (never); the sweep reads eight bytes a connection and visits only those past
// their deadline. Visiting every connection instead (a handler posted to each, every 250 ms)
// held the serving thread for 2.5 ms and more a sweep at 12,000 connections, while their
// streams' tokens waited (bench/README.md, "The idle sweep").
//
// Slots live in pages that never move, so a connection keeps a pointer to its own. Taking and
// giving back a place, and the sweep, are under the table's mutex. A slot is written by its
// connection alone and read by the sweep, both relaxed: the sweep may see a deadline a moment
// late, and the connection checks again on its own executor before it closes.

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <vector>

namespace brownout::mock {

template <class Owner>
class IdleDeadlines {
    using Clock = std::chrono::steady_clock;
    using Ticks = Clock::rep;
    static constexpr Ticks kNever = std::numeric_limits<Ticks>::max();
    static constexpr std::size_t kPage = 1024;
    struct Page {
        std::array<std::atomic<Ticks>, kPage> deadline;
        std::array<std::weak_ptr<Owner>, kPage> owner;
    };

public:
    // One connection's slot, given back when the place is destroyed. It must not outlive its
    // table (a session holds its server, which holds the table).
    class Place {
    public:
        Place() = default;
        // Due at `deadline` unless set again before.
        void set(Clock::time_point deadline) const {
            assert(held());
            slot_->store(deadline.time_since_epoch().count(), std::memory_order_relaxed);
        }
        void never() const {
            assert(held());
            slot_->store(kNever, std::memory_order_relaxed);
        }
        bool held() const { return slot_ != nullptr; }

    private:
        friend class IdleDeadlines;
        struct GiveBack {
            IdleDeadlines* table;
            std::uint32_t index;
            void operator()(std::atomic<Ticks>* slot) const { table->give_back(index, slot); }
        };
        explicit Place(IdleDeadlines* table, std::uint32_t index, std::atomic<Ticks>* slot)
            : slot_(slot, GiveBack{table, index}) {}
        std::unique_ptr<std::atomic<Ticks>, GiveBack> slot_;
    };

    IdleDeadlines() = default;
    IdleDeadlines(const IdleDeadlines&) = delete;
    IdleDeadlines& operator=(const IdleDeadlines&) = delete;

    // A place for `owner`, never due until it is set.
    Place take(std::weak_ptr<Owner> owner) {
        std::lock_guard lock(mutex_);
        std::uint32_t index;
        if (!free_.empty()) {
            index = free_.back();
            free_.pop_back();
        } else {
            index = static_cast<std::uint32_t>(used_);
            if (index / kPage == pages_.size()) {
                // (A slot is read only once taken, and taking it sets it below.)
                auto page = std::make_unique<Page>();
                // give_back never allocates (it runs in a session's destructor).
                free_.reserve((pages_.size() + 1) * kPage);
                pages_.push_back(std::move(page));
            }
            ++used_;
        }
        auto& page = *pages_[index / kPage];
        page.owner[index % kPage] = std::move(owner);
        auto* slot = &page.deadline[index % kPage];
        slot->store(kNever, std::memory_order_relaxed);
        return Place(this, index, slot);
    }

    // The owners alive whose deadline is before `now`.
    std::vector<std::shared_ptr<Owner>> due(Clock::time_point now) {
        auto limit = now.time_since_epoch().count();
        return alive(collect([limit](const Page& page, std::size_t i) {
            return page.deadline[i].load(std::memory_order_relaxed) < limit;
        }));
    }

    // Every owner alive.
    std::vector<std::shared_ptr<Owner>> owners() {
        return alive(collect([](const Page&, std::size_t) { return true; }));
    }

    // Lets go of every owner (their places stay taken until given back).
    void forget_owners() {
        std::lock_guard lock(mutex_);
        for (auto& page : pages_) {
            for (auto& owner : page->owner) owner.reset();
        }
    }

    // Places taken and not given back.
    std::size_t taken() {
        std::lock_guard lock(mutex_);
        return used_ - free_.size();
    }

private:
    // The owners of the places `wanted` picks, as weak references: taken under the mutex, and
    // locked only after it (alive()). The last reference to an owner may then be let go of here,
    // and its place given back, which takes the mutex again.
    template <class Wanted>
    std::vector<std::weak_ptr<Owner>> collect(Wanted wanted) {
        std::vector<std::weak_ptr<Owner>> found;
        std::lock_guard lock(mutex_);
        for (std::size_t p = 0; p < pages_.size(); ++p) {
            const auto& page = *pages_[p];
            std::size_t n = std::min(kPage, used_ - p * kPage);
            for (std::size_t i = 0; i < n; ++i) {
                if (wanted(page, i)) found.push_back(page.owner[i]);
            }
        }
        return found;
    }
    static std::vector<std::shared_ptr<Owner>> alive(std::vector<std::weak_ptr<Owner>> weak) {
        std::vector<std::shared_ptr<Owner>> found;
        for (auto& w : weak) {
            if (auto owner = w.lock()) found.push_back(std::move(owner));
        }
        return found;
    }

    void give_back(std::uint32_t index, std::atomic<Ticks>* slot) {
        std::lock_guard lock(mutex_);
        slot->store(kNever, std::memory_order_relaxed);
        pages_[index / kPage]->owner[index % kPage].reset();
        free_.push_back(index);
    }

    std::mutex mutex_;
    std::vector<std::unique_ptr<Page>> pages_;
    std::vector<std::uint32_t> free_;  // indexes given back, below used_
    std::size_t used_ = 0;             // indexes ever handed out
};

}  // namespace brownout::mock
