#include "mockprovider/journal.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/text.h"

namespace brownout::mock {

std::uint64_t AttemptJournal::next_seq() {
    LockWhen lock(threaded_, mutex_);
    return ++next_seq_;
}

void AttemptJournal::restart(std::function<void(const Attempt&)> sink, std::size_t keep,
                             bool sink_reads_text) {
    LockWhen lock(threaded_, mutex_);
    records_.clear();
    sink_ = std::move(sink);
    sink_reads_text_ = sink_reads_text;
    capacity_ = keep;
}

bool AttemptJournal::keeps_text() const {
    LockWhen lock(threaded_, mutex_);
    return capacity_ > 0 || (sink_ && sink_reads_text_);
}

void AttemptJournal::record(Attempt&& attempt) {
    LockWhen lock(threaded_, mutex_);
    if (sink_) sink_(attempt);
    if (capacity_ == 0) return;
    // Attempts finish out of order; keep the journal ordered by seq for readers.
    if (records_.empty() || records_.back().seq < attempt.seq) {
        records_.push_back(std::move(attempt));
        if (records_.size() > capacity_) records_.pop_front();
        return;
    }
    auto it = std::upper_bound(records_.begin(), records_.end(), attempt.seq,
                               [](std::uint64_t seq, const Attempt& a) { return seq < a.seq; });
    records_.insert(it, std::move(attempt));
    while (records_.size() > capacity_) records_.pop_front();
}

std::vector<Attempt> AttemptJournal::since(std::uint64_t after, std::size_t limit) const {
    LockWhen lock(threaded_, mutex_);
    std::vector<Attempt> out;
    auto it = std::upper_bound(records_.begin(), records_.end(), after,
                               [](std::uint64_t seq, const Attempt& a) { return seq < a.seq; });
    for (; it != records_.end() && out.size() < limit; ++it) out.push_back(*it);
    return out;
}

std::size_t AttemptJournal::size() const {
    LockWhen lock(threaded_, mutex_);
    return records_.size();
}

std::uint64_t AttemptJournal::oldest() const {
    LockWhen lock(threaded_, mutex_);
    return records_.empty() ? 0 : records_.front().seq;
}

std::string attempt_to_json(const Attempt& a) {
    std::string out = fmt::format(
        "{{\"seq\":{},\"provider\":{},\"connection\":{},\"at_ms\":{:.6f},\"duration_ms\":{:.6f},",
        a.seq, json_string(a.provider), a.connection, to_seconds(a.at) * 1e3,
        to_seconds(a.duration) * 1e3);
    out += fmt::format("\"method\":{},\"path\":{},\"status\":{},\"model\":{},\"stream\":{},",
                       json_string(a.method), json_string(a.path), a.status, json_string(a.model),
                       a.stream ? "true" : "false");
    out += fmt::format("\"prompt_tokens\":{},\"completion_tokens\":{},\"retry_count\":{},",
                       a.prompt_tokens, a.completion_tokens,
                       a.retry_count < 0 ? std::string("null") : std::to_string(a.retry_count));
    out += fmt::format(
        "\"fault\":{},\"outcome\":{},\"request_id\":{},\"digest\":\"{}\",\"retry_after_ms\":{:.6f}}"
        "}",
        json_string(a.fault), json_string(a.outcome), json_string(a.request_id), to_hex(a.digest),
        to_seconds(a.retry_after) * 1e3);
    return out;
}

}  // namespace brownout::mock
