#include "harness/workload.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <deque>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "harness/run.h"
#include "harness/transport.h"
#include "wire/answer.h"
#include "wire/dialect.h"

using namespace brownout;
using namespace brownout::harness;
using namespace std::chrono_literals;

TEST_CASE("the arrival sequence depends only on the seed and follows the rate", "[workload]") {
    WorkloadSpec spec;
    spec.rate_per_hour = 3600;  // one a second
    auto a = generate_workload(spec, 1h, 42);
    auto b = generate_workload(spec, 1h, 42);
    auto c = generate_workload(spec, 1h, 43);
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        REQUIRE(a[i].arrival == b[i].arrival);
        REQUIRE(a[i].question == b[i].question);
        REQUIRE(prompt_of(a[i]) == prompt_of(b[i]));
    }
    CHECK(a.size() != c.size());
    CHECK(static_cast<double>(a.size()) == Approx(3600).margin(200));  // Poisson: ±3.3σ
}

TEST_CASE("the request mix and the share of repeated questions follow the spec", "[workload]") {
    WorkloadSpec spec;
    spec.rate_per_hour = 20000;
    spec.mix = {{RequestKind::chat, 50}, {RequestKind::stream, 30}, {RequestKind::vision, 20}};
    spec.repeat = 0.25;
    auto w = generate_workload(spec, 1h, 7);
    std::map<RequestKind, double> kinds;
    std::map<std::uint64_t, int> seen;
    double repeats = 0;
    for (const auto& r : w) {
        kinds[r.kind] += 1;
        if (seen[r.question]++ > 0) ++repeats;
        CHECK(outgoing_chat(r, "m").image_url.empty() == (r.kind != RequestKind::vision));
    }
    double n = static_cast<double>(w.size());
    CHECK(kinds[RequestKind::chat] / n == Approx(0.5).margin(0.02));
    CHECK(kinds[RequestKind::vision] / n == Approx(0.2).margin(0.02));
    CHECK(repeats / n == Approx(0.25).margin(0.02));
}

TEST_CASE("a request rendered in either dialect digests to what the harness expects",
          "[workload]") {
    WorkloadSpec spec;
    spec.mix = {{RequestKind::vision, 1}};
    auto r = generate_workload(spec, 1h, 1).front();
    auto expected = expected_request(r);
    auto anthropic = wire::make_dialect(wire::DialectKind::anthropic, wire::Vendor::anthropic);
    auto parsed = std::get<wire::ChatRequest>(
        anthropic->parse_chat(render_request(r, wire::DialectKind::anthropic, "claude")));
    CHECK(parsed.text_digest == expected.text_digest);
    CHECK(parsed.image_digest == expected.image_digest);
}

TEST_CASE("a request's text: its question, topic and words, and the hour it asks about",
          "[workload]") {
    UserRequest r;
    r.question = 0xabcdef123456ULL;
    r.freshness = 17;
    r.prompt_words = 3;
    auto chat = outgoing_chat(r, "m");
    CHECK(chat.system == "You are a support assistant. Answer with what is known as of hour 17.");
    CHECK(chat.prompt.starts_with("Question 123456 about "));
    // Pinned: every digest rests on this text, and a simulation's answers verify against it
    // whatever it says, so only a pin shows that it changed.
    CHECK(chat.prompt == "Question 123456 about the release notes: team support response");
    CHECK(chat.prompt.find(": ") != std::string::npos);
    r.warm_up = true;
    CHECK(prompt_of(r).starts_with("Warm-up Question 123456 about "));
    r.prompt_words = 0;
    CHECK(prompt_of(r).back() == ':');
    // The words are the question's: the same question, the same words.
    auto other = r;
    other.id = 99;
    other.freshness = 3;
    CHECK(prompt_of(other) == prompt_of(r));
}

TEST_CASE("the model is all that differs between one provider's request and the next's",
          "[workload]") {
    // A stack's retries keep the request and change only its model (harness/stacks/builtin.cpp).
    for (auto kind :
         {RequestKind::chat, RequestKind::stream, RequestKind::vision, RequestKind::tools}) {
        UserRequest r;
        r.question = 0xabcdef123456ULL;
        r.kind = kind;
        r.prompt_words = 5;
        auto a = outgoing_chat(r, "model-a");
        auto b = outgoing_chat(r, "model-b");
        CHECK(a.model == "model-a");
        b.model = a.model;
        const auto& dialect = client_dialect(wire::DialectKind::openai);
        CHECK(dialect.render_chat(a, "k").body == dialect.render_chat(b, "k").body);
    }
}

namespace {

// A workload of every kind of request, in equal parts.
WorkloadSpec every_kind(double repeat, double rate_per_hour) {
    WorkloadSpec spec;
    spec.mix = {{RequestKind::chat, 1},
                {RequestKind::stream, 1},
                {RequestKind::vision, 1},
                {RequestKind::tools, 1}};
    spec.repeat = repeat;
    spec.rate_per_hour = rate_per_hour;
    return spec;
}

}  // namespace

TEST_CASE("the remembered digests are the rendered request's, slots shared or not",
          "[workload][verify]") {
    auto w = generate_workload(every_kind(0.5, 3000), 6h, 3);  // ~18,000: more than the slots
    REQUIRE(w.size() > 10000);
    auto same = [](const wire::ChatRequest& a, const wire::ChatRequest& b) {
        return a.text_digest == b.text_digest && a.image_digest == b.image_digest &&
               a.image_count == b.image_count && a.prompt_tokens == b.prompt_tokens;
    };
    for (int pass = 0; pass < 2; ++pass) {  // the second pass reads what the first remembered
        for (const auto& r : w) REQUIRE(same(expected_digests(r), expected_request(r)));
    }
    // Requests that differ only in a field the text depends on are told apart.
    auto r = w.front();
    for (auto change :
         {+[](UserRequest& u) { u.freshness += 1; }, +[](UserRequest& u) { u.prompt_words += 1; },
          +[](UserRequest& u) { u.warm_up = !u.warm_up; },
          +[](UserRequest& u) {
              u.kind = u.kind == RequestKind::vision ? RequestKind::chat : RequestKind::vision;
          }}) {
        auto other = r;
        change(other);
        REQUIRE(same(expected_digests(r), expected_request(r)));
        REQUIRE(same(expected_digests(other), expected_request(other)));
        CHECK_FALSE(same(expected_digests(other), expected_digests(r)));
    }
}

TEST_CASE("a request sent without its text, its digests said instead, types as the one with it",
          "[workload][verify]") {
    auto w = generate_workload(every_kind(0.3, 600), 1h, 5);
    w.front().warm_up = true;
    auto digests = conversation_digests(w);
    REQUIRE(digests.size() == w.size());
    std::map<RequestKind, int> kinds;
    for (std::size_t i = 0; i < w.size(); ++i) {
        const auto& r = w[i];
        ++kinds[r.kind];
        auto sent = outgoing_chat(r, "model-x", digests[i]);
        CHECK(sent.prompt.empty());  // no text is made
        for (auto kind : {wire::DialectKind::openai, wire::DialectKind::anthropic}) {
            const auto& dialect = client_dialect(kind);
            auto typed = dialect.typed_chat(sent, "key");
            auto whole = dialect.typed_chat(outgoing_chat(r, "model-x"), "key");
            REQUIRE(typed);
            REQUIRE(whole);
            const auto& a = typed->chat;
            const auto& b = whole->chat;
            CHECK(a.model == b.model);
            CHECK(a.stream == b.stream);
            CHECK(a.include_usage == b.include_usage);
            CHECK(a.max_tokens == b.max_tokens);
            CHECK(a.text_digest == b.text_digest);
            CHECK(a.image_digest == b.image_digest);
            CHECK(a.image_count == b.image_count);
            CHECK(a.prompt_tokens == b.prompt_tokens);
            CHECK(a.tools.size() == b.tools.size());
            CHECK(a.tool_choice == b.tool_choice);
            CHECK(typed->request.path == whole->request.path);
            CHECK(typed->request.headers == whole->request.headers);
            // A transport that renders bytes gets the text put back: the same bytes.
            ChatToSend lazy{sent, &r};
            CHECK(dialect.render_chat(lazy.with_text(), "key").body ==
                  dialect.render_chat(outgoing_chat(r, "model-x"), "key").body);
            CHECK(lazy.text_of == nullptr);
        }
        // The answer is judged the same from the list as from the request.
        auto answer = wire::generate_answer(7, expected_request(r), {}, true, "id", 0);
        auto text = answer.tool_call ? answer.tool_call->arguments_json : answer.tokens.text();
        CHECK(judge_answer(r, digests[i], text).verdict == judge_answer(r, text).verdict);
        CHECK(judge_answer(r, digests[i], text).verdict == AnswerVerdict::ok);
    }
    CHECK(kinds.size() == 4);
}

TEST_CASE(
    "judging answers: ok, truncated, ignored image, and stale from an earlier hour with its age",
    "[workload][verify]") {
    WorkloadSpec spec;
    spec.mix = {{RequestKind::vision, 1}};
    auto r = generate_workload(spec, 3h, 1).back();
    REQUIRE(r.freshness >= 1);
    auto answer = [](const UserRequest& u, bool saw_images) {
        return wire::generate_answer(1, expected_request(u), {}, saw_images, "id", 0).text();
    };
    CHECK(judge_answer(r, answer(r, true)).verdict == AnswerVerdict::ok);
    CHECK(judge_answer(r, answer(r, false)).verdict == AnswerVerdict::image_ignored);
    std::string full = answer(r, true);
    CHECK(judge_answer(r, full.substr(0, full.size() - 3)).verdict == AnswerVerdict::missing_tag);
    auto older = r;
    older.freshness -= 1;
    auto stale = judge_answer(r, answer(older, true));
    CHECK(stale.verdict == AnswerVerdict::stale);
    // The previous hour's answer went out of date when this hour began.
    CHECK(stale.outdated_by == r.arrival - std::chrono::hours(r.freshness));
    older.freshness -= 1;
    CHECK(judge_answer(r, answer(older, true)).outdated_by ==
          r.arrival - std::chrono::hours(r.freshness - 1));
}

TEST_CASE("a burst adds users who arrive together, and leaves the Poisson stream as it was",
          "[workload]") {
    WorkloadSpec plain;
    plain.rate_per_hour = 600;
    auto without = generate_workload(plain, 1h, 9);
    WorkloadSpec bursty = plain;
    bursty.bursts.push_back({30min, 100, 2s});
    auto with = generate_workload(bursty, 1h, 9);
    REQUIRE(with.size() == without.size() + 100);
    int in_burst = 0;
    for (const auto& r : with) in_burst += r.arrival >= 30min && r.arrival < 30min + 2s;
    CHECK(in_burst >= 100);
    CHECK(std::is_sorted(with.begin(), with.end(),
                         [](const auto& a, const auto& b) { return a.arrival < b.arrival; }));
    // Everything before the burst is the same request for request.
    for (std::size_t i = 0; i < without.size() && without[i].arrival < 30min; ++i) {
        CHECK(with[i].arrival == without[i].arrival);
        CHECK(with[i].question == without[i].question);
    }
}

TEST_CASE("a stack's attempts are put in the order they were read, ties as given", "[harness]") {
    // sort_by_seq moves each record along its permutation's cycles: every record lands once, in
    // seq order, whatever order the journal saw them end in. Dense seqs are placed in one pass;
    // ties and sparse ones are sorted.
    std::mt19937_64 rng(7);
    const std::vector<std::pair<std::string, std::function<std::uint64_t(std::size_t)>>>
        numberings = {
            {"dense", [](std::size_t i) { return i + 5; }},
            {"with gaps", [](std::size_t i) { return 2 * i + 1; }},
            {"sparse", [](std::size_t i) { return i * 1000 + 3; }},
            {"ties", [](std::size_t i) { return i / 3 * 3 + 1; }},  // three share each seq
        };
    for (const auto& [what, seq_of] : numberings) {
        for (std::size_t n : {0U, 1U, 2U, 3U, 17U, 1000U}) {
            INFO(what << ", " << n << " attempts");
            std::deque<AttemptRecord> attempts;
            for (std::size_t i = 0; i < n; ++i) {
                AttemptRecord a;
                a.seq = seq_of(i);
                a.provider = static_cast<std::uint32_t>(i);
                attempts.push_back(a);
            }
            std::shuffle(attempts.begin(), attempts.end(), rng);
            auto expected = std::vector<AttemptRecord>(attempts.begin(), attempts.end());
            std::stable_sort(expected.begin(), expected.end(),
                             [](const auto& a, const auto& b) { return a.seq < b.seq; });
            sort_by_seq(attempts);
            REQUIRE(attempts.size() == expected.size());
            for (std::size_t i = 0; i < n; ++i) {
                CHECK(attempts[i].seq == expected[i].seq);
                CHECK(attempts[i].provider == expected[i].provider);
            }
        }
    }
}
