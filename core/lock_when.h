#pragma once
// A lock on a mutex when what it guards is reached from several threads, and none otherwise: a
// virtual scheduler, and the providers and journal it drives, run on the one thread that runs
// it and take no lock; a real scheduler's, reached from a fleet's threads, take it each call.

#include <mutex>

namespace brownout {

class LockWhen {
public:
    LockWhen(bool threaded, std::mutex& mutex) : mutex_(threaded ? &mutex : nullptr) {
        if (mutex_ != nullptr) mutex_->lock();
    }
    ~LockWhen() { unlock(); }
    LockWhen(const LockWhen&) = delete;
    LockWhen& operator=(const LockWhen&) = delete;

    // Lets go before the end of the scope (a no-op when no lock was taken, or after the first).
    void unlock() {
        if (mutex_ != nullptr) mutex_->unlock();
        mutex_ = nullptr;
    }

private:
    std::mutex* mutex_;
};

}  // namespace brownout
