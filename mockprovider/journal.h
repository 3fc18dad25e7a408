#pragma once
// The attempt journal: one record per HTTP attempt that reached a provider. The harness scores
// from it (never from what a client says about itself), and /_brownout/journal serves it.

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "core/duration.h"
#include "core/lock_when.h"

namespace brownout::mock {

struct Attempt {
    std::uint64_t seq = 0;
    std::string provider;
    std::uint64_t connection = 0;
    Duration at{};        // scenario time the request was read
    Duration duration{};  // scenario time until the answer ended
    std::string method;
    std::string path;
    int status = 0;  // 0 when no HTTP status was sent (reset, hang, refused)
    std::string model;
    bool stream = false;
    // Whether it has its text (method, path, model, request id): only where something reads it
    // (AttemptJournal::keeps_text, or a socket's head).
    bool has_text = false;
    int prompt_tokens = 0;
    int completion_tokens = 0;  // tokens actually sent
    int retry_count = -1;       // X-Stainless-Retry-Count, -1 when absent
    std::string fault;          // "busy", "stall+latency", "" when none
    std::string outcome;        // complete | client_closed | reset | hung | stalled | cut | error
    std::string request_id;
    std::uint64_t digest = 0;  // the request's content digest: retries of one request share it
    Duration retry_after{};    // the Retry-After this answer carried (scenario time), 0 if none
};

class AttemptJournal {
public:
    // Keeps the newest `capacity` records (0: all of them, as `[server] journal_entries` says):
    // a long-running `serve` keeps a window, so its memory stays flat. A run keeps its own record
    // of every attempt from the sink (restart()).
    // `threaded`: written and read from several threads (a fleet's), so every call takes the
    // lock; a simulator's journal is written by the one thread that runs its scheduler, and
    // takes none.
    explicit AttemptJournal(std::size_t capacity = 0, bool threaded = true)
        : capacity_(capacity == 0 ? SIZE_MAX : capacity), threaded_(threaded) {}

    std::uint64_t next_seq();
    void record(Attempt&& attempt);
    // Forgets every record and sets the sink, at once: nothing recorded before is seen or kept.
    // The sink is called with every record from then on, under the journal's lock: `brownout
    // run` appends it to the report directory and keeps what scoring needs as the run goes, and
    // the journal keeps the newest `keep` records from then on (SIZE_MAX: all; 0: none).
    // `sink_reads_text`: whether the sink reads a record's method, path, model and request id (a
    // run's log does; scoring does not).
    void restart(std::function<void(const Attempt&)> sink, std::size_t keep,
                 bool sink_reads_text = true);
    // Whether anything reads a record's text: the journal keeps records, or its sink reads it.
    // A provider in process leaves the text out of an attempt no one reads it of, as it stands
    // when the attempt starts (a run restarts its journal before its first attempt).
    bool keeps_text() const;
    // Records with seq > after, oldest first, at most `limit`.
    std::vector<Attempt> since(std::uint64_t after, std::size_t limit = SIZE_MAX) const;
    std::size_t size() const;
    // The seq of the oldest record still kept (0 when there is none).
    std::uint64_t oldest() const;

private:
    mutable std::mutex mutex_;
    std::deque<Attempt> records_;
    std::function<void(const Attempt&)> sink_;
    bool sink_reads_text_ = true;
    std::size_t capacity_;
    std::uint64_t next_seq_ = 0;
    bool threaded_;
};

std::string attempt_to_json(const Attempt& a);

}  // namespace brownout::mock
