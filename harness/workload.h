#pragma once
// The workload: open-loop arrivals in scenario time, a request mix, repeated prompts, a user
// deadline. The arrival sequence depends only on the seed.

#include <cstdint>
#include <string>
#include <vector>

#include "core/duration.h"
#include "wire/chat.h"
#include "wire/dialect.h"

namespace brownout {
class TableReader;
struct KeySpec;
struct TableSpec;
}  // namespace brownout

namespace brownout::harness {

enum class RequestKind : std::uint8_t { chat, stream, vision, tools };
std::string_view to_string(RequestKind k);

struct WorkloadSpec {
    double rate_per_hour = 1000;                   // arrivals per scenario hour (Poisson)
    Duration deadline = std::chrono::seconds(60);  // a user gives up after this
    Duration fail_fast =
        std::chrono::seconds(10);  // a clean error this fast is good when no path exists
    std::vector<std::pair<RequestKind, double>> mix = {
        {RequestKind::chat, 70}, {RequestKind::stream, 20}, {RequestKind::vision, 10}};
    double repeat = 0.2;  // share of prompts asked before (cacheable)
    // How long an answer may have been out of date and still help its user: questions are
    // answered "as of hour N", so an answer from hour N-1 served at N:20 is 20 minutes out of
    // date. Within it, a cached answer is degraded (better than an error); beyond, wrong.
    Duration max_staleness = std::chrono::hours(1);
    // Users who arrive together on top of the Poisson stream: everyone who was waiting comes back
    // when the status page turns green, a batch job starts, a push notification goes out.
    struct Burst {
        Duration at{};
        int requests = 0;
        Duration over = std::chrono::seconds(1);  // spread evenly across this span
    };
    std::vector<Burst> bursts;
    int prompt_words = 40;
    int max_tokens = 256;
};

WorkloadSpec read_workload(TableReader& t);
// The [workload] table's keys (core/toml_reader.h).
const TableSpec& workload_spec();

struct UserRequest {
    std::uint64_t id = 0;
    Duration arrival{};
    RequestKind kind = RequestKind::chat;
    bool warm_up = false;  // asked before the run (a stdio stack's warm-up): its prompt says so
    std::uint64_t question = 0;  // the question asked; repeats share it
    std::int64_t freshness =
        0;  // the scenario hour the question is asked in (answers go stale after it)
    int prompt_words = 40;
    int max_tokens = 256;

    bool stream() const { return kind == RequestKind::stream; }
};

// A request's text is a function of its question, made when it is sent: a workload of a
// million requests keeps no text (48 bytes each), and a repeat asks the same words.
std::string prompt_of(const UserRequest& r);
std::string image_url_of(const UserRequest& r);  // what a vision request shows

std::vector<UserRequest> generate_workload(const WorkloadSpec& spec, Duration duration,
                                           std::uint64_t seed);

// The request as a client sends it, before it has a dialect, asking `model`: the model is the
// only thing that differs from one provider to the next (a stack's retries keep the rest).
wire::OutgoingChat outgoing_chat(const UserRequest& r, const std::string& model);
// The same without its text (system, prompt, image), which `digest` stands for
// (wire::OutgoingChat::digest): a typed request reads no text. add_text() puts it in.
wire::OutgoingChat outgoing_chat(const UserRequest& r, const std::string& model,
                                 const wire::ConversationDigest& digest);
void add_text(wire::OutgoingChat& chat, const UserRequest& r);
// The same request without its text, made in `chat` (a chat just made), where it is kept.
void make_outgoing_chat(wire::OutgoingChat& chat, const UserRequest& r, const std::string& model,
                        const wire::ConversationDigest& digest);
// The client half of each registered dialect (stateless, shared by every thread).
const wire::Dialect& client_dialect(wire::DialectKind kind);
std::string render_request(const UserRequest& r, wire::DialectKind dialect,
                           const std::string& model);
// The dialect-neutral digest of the request, for verifying whatever answer comes back.
wire::ChatRequest expected_request(const UserRequest& r);
// Only what verifying an answer reads of it (text_digest, image_digest, image_count), remembered:
// a stale answer is checked against up to 48 earlier hours, and repeats of a question ask for
// the same ones. A pure function of the request's text, so a remembered one is exact; a fixed
// table per thread bounds the memory.
wire::ChatRequest expected_digests(const UserRequest& r);
// Lets this thread's table hold `requests` (up to a million) before it forgets: a thread that
// judges several stacks' answers to one workload in turn (the simulator's workers) then makes
// each request's digests once. Tables start at 4,096 slots (256 KiB); this one stays as large.
void keep_expected_digests(std::size_t requests);
// What each request's text digests to, in workload order: made once for a run that every stack
// reads (the simulator's), so that no stack makes a request's text to send or to judge it.
std::vector<wire::ConversationDigest> conversation_digests(const std::vector<UserRequest>& w);
// The content digest a provider journals for this request's attempts (mock::Attempt::digest).
std::uint64_t request_digest(const UserRequest& r);

}  // namespace brownout::harness
