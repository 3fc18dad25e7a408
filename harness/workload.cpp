#include "harness/workload.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "core/random.h"
#include "core/text.h"
#include "core/toml_reader.h"
#include "wire/common.h"

namespace brownout::harness {
namespace {

constexpr std::string_view kTopics[] = {
    "the refund policy", "a failed payment", "the incident report", "our SLA",
    "the on-call rota",  "a shipping delay", "the release notes",   "a login problem",
    "the invoice total", "the API quota"};
constexpr std::string_view kFiller[] = {
    "please", "summarise", "briefly", "explain", "customer", "account",  "details",  "support",
    "ticket", "context",   "status",  "update",  "history",  "priority", "response", "team"};

RequestKind kind_from(const std::string& s) {
    if (s == "stream") return RequestKind::stream;
    if (s == "vision") return RequestKind::vision;
    if (s == "tools") return RequestKind::tools;
    return RequestKind::chat;
}

}  // namespace

std::string_view to_string(RequestKind k) {
    switch (k) {
        case RequestKind::chat:
            return "chat";
        case RequestKind::stream:
            return "stream";
        case RequestKind::vision:
            return "vision";
        case RequestKind::tools:
            return "tools";
    }
    return "chat";
}

const TableSpec& workload_spec() {
    static const TableSpec mix{
        "mix entry",
        "one kind of request and its weight",
        {{"kind",
          KeyType::string,
          "the request kind",
          {"chat", "stream", "vision", "tools"},
          {},
          {},
          nullptr,
          true},
         {"weight", KeyType::number, "relative weight (default 1)", {}, 0, 1e9}}};
    static const TableSpec burst{
        "burst",
        "users who arrive together",
        {{"at", KeyType::duration, "scenario time they arrive", {}, {}, {}, nullptr, true},
         {"requests", KeyType::integer, "how many", {}, 1, 1e6, nullptr, true},
         {"over", KeyType::duration, "spread over this long"}}};
    static const TableSpec spec{
        "workload",
        "the users: how many, what they ask, how long they wait",
        {{"rate", KeyType::per_time,
          "Poisson arrivals: \"1000/h\", \"20/m\", \"5/s\" (\"0/h\": only the bursts)"},
         {"deadline", KeyType::duration, "a user gives up after this"},
         {"fail_fast", KeyType::duration,
          "when no provider could answer, an error this fast is the best outcome"},
         {"mix", KeyType::tables, "request kinds and weights", {}, {}, {}, &mix},
         {"repeat", KeyType::number, "share of questions asked before", {}, 0, 1},
         {"max_staleness", KeyType::duration, "how old a cached answer may be and still count"},
         {"bursts", KeyType::tables, "users who arrive together", {}, {}, {}, &burst},
         {"prompt_words", KeyType::integer, "words a prompt", {}, 1, 100000},
         {"max_tokens", KeyType::integer, "max_tokens asked for", {}, 1, 100000}}};
    return spec;
}

WorkloadSpec read_workload(TableReader& t) {
    WorkloadSpec w;
    if (auto rate = t.string("rate")) {
        // "1000/h", "20/m", "5/s"
        std::string_view text = *rate;
        auto slash = text.find('/');
        std::string number(text.substr(0, slash));
        std::string_view unit =
            slash == std::string_view::npos ? std::string_view() : text.substr(slash + 1);
        char* end = nullptr;
        double n = std::strtod(number.c_str(), &end);
        bool numeric = !number.empty() && end == number.c_str() + number.size();
        double per_hour = !numeric      ? -1
                          : unit == "h" ? n
                          : unit == "m" ? n * 60
                          : unit == "s" ? n * 3600
                                        : -1;
        if (per_hour < 0)
            t.fail(
                "rate",
                fmt::format("\"{}\" is not a rate such as \"1000/h\", \"20/m\" or \"5/s\"", *rate));
        w.rate_per_hour = per_hour;
    }
    if (auto d = t.duration("deadline")) w.deadline = *d;
    if (auto d = t.duration("fail_fast")) w.fail_fast = *d;
    if (t.has("mix")) {
        w.mix.clear();
        for (auto& entry : t.tables("mix")) {
            auto kind = entry.choice("kind", {"chat", "stream", "vision", "tools"});
            if (!kind) entry.fail("kind", "is required (chat, stream, vision or tools)");
            double weight = entry.number_in("weight", 0, 1e9).value_or(1.0);
            entry.finish();
            w.mix.emplace_back(kind_from(*kind), weight);
        }
        double total = 0;
        for (const auto& [k, weight] : w.mix) total += weight;
        if (total <= 0) t.fail("mix", "needs at least one kind with a weight above zero");
    } else {
        t.node("mix");
    }
    if (auto r = t.number_in("repeat", 0, 1)) w.repeat = *r;
    if (auto d = t.duration("max_staleness")) w.max_staleness = *d;
    for (auto& b : t.tables("bursts")) {
        WorkloadSpec::Burst burst;
        auto at = b.duration("at");
        if (!at) b.fail("at", "is required (when the burst arrives, e.g. \"25m\")");
        burst.at = *at;
        auto n = b.integer("requests", 1, 1'000'000);
        if (!n) b.fail("requests", "is required (how many users arrive together)");
        burst.requests = static_cast<int>(*n);
        if (auto over = b.duration("over")) burst.over = *over;
        b.finish();
        w.bursts.push_back(burst);
    }
    if (w.rate_per_hour == 0 && w.bursts.empty())
        t.fail("rate", "is 0 and there are no bursts: no user would ever arrive");
    if (auto n = t.integer("prompt_words", 1, 100'000)) w.prompt_words = static_cast<int>(*n);
    if (auto n = t.integer("max_tokens", 1, 100'000)) w.max_tokens = static_cast<int>(*n);
    t.finish();
    return w;
}

std::vector<UserRequest> generate_workload(const WorkloadSpec& spec, Duration duration,
                                           std::uint64_t seed) {
    auto arrivals = RandomStream::derive(seed, "workload/arrivals");
    auto choices = RandomStream::derive(seed, "workload/choices");
    double total_weight = 0;
    for (const auto& [k, w] : spec.mix) total_weight += w;
    std::vector<UserRequest> out;
    std::vector<std::uint64_t> asked;
    double rate_per_second = spec.rate_per_hour / 3600.0;
    double end = to_seconds(duration);
    // Arrival times first: the Poisson stream, then the bursts merged in (without bursts the
    // sequence, and so every request, is what it always was).
    std::vector<double> times;
    for (double t = arrivals.exponential(rate_per_second); rate_per_second > 0 && t < end;
         t += arrivals.exponential(rate_per_second))
        times.push_back(t);
    for (const auto& b : spec.bursts) {
        for (int i = 0; i < b.requests; ++i) {
            double t = to_seconds(b.at) + to_seconds(b.over) * i / b.requests;
            if (t < end) times.push_back(t);
        }
    }
    if (!spec.bursts.empty()) std::stable_sort(times.begin(), times.end());
    out.reserve(times.size());
    std::uint64_t id = 0;
    for (double t : times) {
        UserRequest r;
        r.id = ++id;
        r.arrival = from_seconds(t);
        double pick = choices.uniform(0, total_weight);
        for (const auto& [k, w] : spec.mix) {
            if (pick < w) {
                r.kind = k;
                break;
            }
            pick -= w;
        }
        bool repeat = !asked.empty() && choices.chance(spec.repeat);
        r.question =
            repeat ? asked[choices.next() % asked.size()] : hash64(fmt::format("q{}", r.id), seed);
        if (!repeat) asked.push_back(r.question);
        r.freshness = static_cast<std::int64_t>(t / 3600.0);
        r.prompt_words = spec.prompt_words;
        r.max_tokens = spec.max_tokens;
        out.push_back(r);
    }
    return out;
}

std::string prompt_of(const UserRequest& r) {
    RandomStream words(r.question);
    // "[Warm-up ]Question <6 hex> about <topic>:" and the words. One allocation for a request's
    // text (the simulator makes it at each attempt), and each word written as a fixed 16 bytes
    // from a padded copy, of which its own length counts: no call and no bounds check a word.
    static constexpr std::size_t kPadded = 16;
    static constexpr auto kPaddedFiller = [] {
        std::array<std::array<char, kPadded>, std::size(kFiller)> padded{};
        for (std::size_t i = 0; i < std::size(kFiller); ++i) {
            padded[i][0] = ' ';
            for (std::size_t j = 0; j < kFiller[i].size(); ++j) padded[i][j + 1] = kFiller[i][j];
        }
        return padded;
    }();
    static_assert(std::all_of(std::begin(kFiller), std::end(kFiller),
                              [](std::string_view w) { return w.size() + 1 <= kPadded; }));
    const auto count = static_cast<std::size_t>(std::max(r.prompt_words, 0));
    std::string prompt;
    prompt.reserve(64 + count * kPadded);
    if (r.warm_up) prompt += "Warm-up ";
    prompt += "Question ";
    append_hex(prompt, r.question, 6);
    prompt += " about ";
    prompt += kTopics[r.question % std::size(kTopics)];
    prompt += ':';
    std::size_t at = prompt.size();
    prompt.resize(at + count * kPadded);  // the room the words may take; cut to what they took
    char* out = prompt.data() + at;
    for (std::size_t i = 0; i < count; ++i) {
        std::size_t pick = words.next() % std::size(kFiller);
        std::memcpy(out, kPaddedFiller[pick].data(), kPadded);
        out += kFiller[pick].size() + 1;
    }
    prompt.resize(static_cast<std::size_t>(out - prompt.data()));
    return prompt;
}

std::string image_url_of(const UserRequest& r) {
    return fmt::format("https://images.brownout.test/{}.png", to_hex(r.question, 8));
}

namespace {

void set_without_text(wire::OutgoingChat& chat, const UserRequest& r, const std::string& model) {
    chat.model = model;
    chat.max_tokens = r.max_tokens;
    chat.stream = r.stream();
    if (r.kind == RequestKind::tools)
        chat.tool = wire::ToolSpec{"lookup_order", {{"order_id", "string"}}};
}

}  // namespace

void add_text(wire::OutgoingChat& chat, const UserRequest& r) {
    chat.system = "You are a support assistant. Answer with what is known as of hour ";
    chat.system += std::to_string(r.freshness);
    chat.system += '.';
    chat.prompt = prompt_of(r);
    if (r.kind == RequestKind::vision) chat.image_url = image_url_of(r);
}

wire::OutgoingChat outgoing_chat(const UserRequest& r, const std::string& model) {
    wire::OutgoingChat chat;
    set_without_text(chat, r, model);
    add_text(chat, r);
    return chat;
}

wire::OutgoingChat outgoing_chat(const UserRequest& r, const std::string& model,
                                 const wire::ConversationDigest& digest) {
    wire::OutgoingChat chat;
    make_outgoing_chat(chat, r, model, digest);
    return chat;
}

void make_outgoing_chat(wire::OutgoingChat& chat, const UserRequest& r, const std::string& model,
                        const wire::ConversationDigest& digest) {
    set_without_text(chat, r, model);
    chat.digest = digest;
}

const wire::Dialect& client_dialect(wire::DialectKind kind) {
    // Dialects are stateless: one per kind serves every thread, found by the kind's number (the
    // simulator asks at every attempt).
    static const auto dialects = [] {
        std::vector<std::unique_ptr<wire::Dialect>> out;
        for (const auto& d : wire::dialects()) {
            auto at = static_cast<std::size_t>(d.kind);
            if (out.size() <= at) out.resize(at + 1);
            out[at] = d.make(d.vendors.front());
        }
        return out;
    }();
    const auto at = static_cast<std::size_t>(kind);
    if (at >= dialects.size() || !dialects[at])
        throw Error(fmt::format("no dialect of kind {}", at));
    return *dialects[at];
}

std::string render_request(const UserRequest& r, wire::DialectKind dialect,
                           const std::string& model) {
    return client_dialect(dialect).render_chat(outgoing_chat(r, model), "").body;
}

wire::ChatRequest expected_request(const UserRequest& r) {
    const auto& dialect = client_dialect(wire::DialectKind::openai);
    // The same as parsing the rendered body (the shortcut is held to it), without the bytes.
    if (auto typed = dialect.typed_request(outgoing_chat(r, "any"))) return std::move(*typed);
    auto parsed = dialect.parse_chat(render_request(r, wire::DialectKind::openai, "any"));
    return std::get<wire::ChatRequest>(parsed);
}

namespace {

// expected_request's digests, from the request's text alone: what its typed request digests
// (the workload's text is ASCII), without the request.
wire::ConversationDigest text_digest(const UserRequest& r) {
    wire::OutgoingChat text;
    add_text(text, r);
    if (auto digest = wire::detail::text_digest(text)) return *digest;
    return wire::ConversationDigest::of(expected_request(r));
}

// What expected_digests() remembers: every field outgoing_chat reads but the model
// (expected_request asks "any"), and the digests they give.
struct DigestKey {
    std::uint64_t question = 0;
    std::int64_t freshness = 0;
    int prompt_words = 0;
    int max_tokens = 0;
    RequestKind kind = RequestKind::chat;
    bool warm_up = false;
    bool operator==(const DigestKey& o) const {
        return std::tie(question, freshness, prompt_words, max_tokens, kind, warm_up) ==
               std::tie(o.question, o.freshness, o.prompt_words, o.max_tokens, o.kind, o.warm_up);
    }
};
struct DigestSlot {
    DigestKey key;
    bool filled = false;
    wire::ConversationDigest digest;
};

// A thread's table, direct-mapped; its size is a power of two. 4096 slots (256 KiB) unless the
// thread asked for more (keep_expected_digests()).
std::vector<DigestSlot>& digest_table() {
    thread_local std::vector<DigestSlot> table(std::size_t{1} << 12);
    return table;
}

// The request's slot in this thread's table, filled for it.
const DigestSlot& digest_slot(const UserRequest& r) {
    auto& table = digest_table();
    DigestKey key{r.question, r.freshness, r.prompt_words, r.max_tokens, r.kind, r.warm_up};
    // The question is a hash already; the hour spreads one question's hours over the slots.
    auto& slot =
        table[(r.question + static_cast<std::uint64_t>(r.freshness) * 0x9e3779b97f4a7c15ULL) &
              (table.size() - 1)];
    if (!slot.filled || !(slot.key == key)) slot = {key, true, text_digest(r)};
    return slot;
}

}  // namespace

void keep_expected_digests(std::size_t requests) {
    auto& table = digest_table();
    std::size_t wanted = std::bit_ceil(std::min(requests, std::size_t{1} << 20));
    if (table.size() < wanted) table.assign(wanted, DigestSlot{});
}

wire::ChatRequest expected_digests(const UserRequest& r) {
    wire::ChatRequest out;
    digest_slot(r).digest.set_in(out);
    return out;
}

std::vector<wire::ConversationDigest> conversation_digests(const std::vector<UserRequest>& w) {
    std::vector<wire::ConversationDigest> out;
    out.reserve(w.size());
    for (const auto& r : w) out.push_back(digest_slot(r).digest);
    return out;
}

std::uint64_t request_digest(const UserRequest& r) {
    auto d = expected_digests(r);
    return hash_combine(d.text_digest, d.image_digest);
}

}  // namespace brownout::harness
