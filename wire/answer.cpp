#include "wire/answer.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "core/random.h"
#include "core/text.h"
#include "wire/common.h"

namespace brownout::wire {
namespace {

constexpr std::array<std::string_view, 64> kWords = {
    "amber",   "beacon",  "cinder", "delta",   "ember",  "fable",   "granite", "harbor",
    "island",  "jasper",  "kernel", "lantern", "meadow", "nectar",  "orbit",   "prairie",
    "quartz",  "river",   "signal", "timber",  "umbra",  "valley",  "willow",  "xenon",
    "yonder",  "zephyr",  "anchor", "bramble", "canyon", "drift",   "echo",    "fjord",
    "glacier", "horizon", "ivory",  "juniper", "kindle", "ledger",  "mosaic",  "nimbus",
    "onyx",    "pebble",  "quiver", "ripple",  "summit", "thistle", "uplift",  "vortex",
    "wander",  "yarrow",  "zenith", "aurora",  "basalt", "cobalt",  "dune",    "eddy",
    "falcon",  "grove",   "hollow", "inlet",   "jetty",  "knoll",   "lumen",   "marble"};

static_assert(std::all_of(kWords.begin(), kWords.end(), [](std::string_view w) {
    return !w.empty() && w.size() <= 7 && std::all_of(w.begin(), w.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x80;  // Ascii
    });
}));

// Each word as a piece after the first: a space and the word, padded to eight bytes, so that
// an answer is written eight bytes a word without a call.
struct Piece {
    std::array<char, 8> bytes{};
    std::uint32_t size = 0;
};
constexpr std::array<Piece, kWords.size()> kPieces = [] {
    std::array<Piece, kWords.size()> pieces{};
    for (std::size_t i = 0; i < kWords.size(); ++i) {
        pieces[i].bytes[0] = ' ';
        for (std::size_t k = 0; k < kWords[i].size(); ++k) pieces[i].bytes[k + 1] = kWords[i][k];
        pieces[i].size = static_cast<std::uint32_t>(kWords[i].size() + 1);
    }
    return pieces;
}();

constexpr std::string_view kTagPrefix = "[bo:";

std::string tool_arguments(const ToolSpec& tool, std::uint64_t text_digest) {
    std::string out = "{";
    bool first = true;
    for (const auto& [name, type] : tool.properties) {
        std::string value;
        if (type == "string")
            value = json_string(fmt::format("bo-{}", to_hex(text_digest, 8)));
        else if (type == "integer" || type == "number")
            value = "1";
        else if (type == "boolean")
            value = "true";
        else
            continue;
        if (!first) out += ",";
        first = false;
        append_json_string(out, name);
        out += ":" + value;
    }
    out += "}";
    return out;
}

}  // namespace

bool Tokens::all_ascii() const {
    return known_ascii_ || detail::ascii(text_);
}

void Tokens::push_back(std::string_view token) {
    known_ascii_ = known_ascii_ && detail::ascii(token);
    text_ += token;
    ends_.push_back(static_cast<std::uint32_t>(text_.size()));
}

void Tokens::insert(std::size_t at, std::string_view token) {
    known_ascii_ = known_ascii_ && detail::ascii(token);
    std::size_t begin = at == 0 ? 0 : ends_[at - 1];
    text_.insert(begin, token);
    ends_.insert(ends_.begin() + static_cast<std::ptrdiff_t>(at),
                 static_cast<std::uint32_t>(begin));
    for (std::size_t i = at; i < ends_.size(); ++i)
        ends_[i] += static_cast<std::uint32_t>(token.size());
}

int estimate_prompt_tokens(std::size_t text_bytes, int messages, int images) {
    return static_cast<int>((text_bytes + 3) / 4) + 3 * messages + 85 * images + 1;
}

namespace {

// [bo:<8 hex>-<4 hex>-<4 hex>]
constexpr std::size_t kTagSize = kTagPrefix.size() + 8 + 1 + 4 + 1 + 4 + 1;

// The tag for a body of digest `body_digest`, written at `out` (kTagSize bytes).
void write_tag(char* out, const ChatRequest& request, bool saw_images, std::uint64_t body_digest) {
    const std::uint64_t images = saw_images ? request.image_digest : 0;
    std::memcpy(out, kTagPrefix.data(), kTagPrefix.size());
    char* at = write_hex(out + kTagPrefix.size(), request.text_digest, 8);
    *at++ = '-';
    if (images == 0) {
        at = std::fill_n(at, 4, '0');  // no image seen
    } else {
        at = write_hex(at, images | 1, 4);
    }
    *at++ = '-';
    at = write_hex(at, body_digest, 4);
    *at = ']';
}

}  // namespace

void append_verification_tag(std::string& out, const ChatRequest& request, bool saw_images,
                             std::string_view body) {
    const std::uint64_t body_digest = hash64(body);  // before `out` grows: body may be in it
    const std::size_t at = out.size();
    out.resize(at + kTagSize);
    write_tag(out.data() + at, request, saw_images, body_digest);
}

std::string verification_tag(const ChatRequest& request, bool saw_images, std::string_view body) {
    std::string tag;
    append_verification_tag(tag, request, saw_images, body);
    return tag;
}

Completion generate_answer(std::uint64_t seed, const ChatRequest& request, const AnswerShape& shape,
                           bool saw_images, std::string id, std::int64_t created) {
    Completion c;
    c.endpoint = request.endpoint;
    c.id = std::move(id);
    c.model = request.model;
    c.created = created;
    c.prompt_tokens = request.prompt_tokens;
    std::uint64_t images = saw_images ? request.image_digest : 0;
    RandomStream rng(
        hash_combine(hash_combine(hash64(request.model, seed), request.text_digest), images));

    bool wants_tool = !request.tools.empty() && (request.tool_choice == ToolChoice::required ||
                                                 request.tool_choice == ToolChoice::named);
    if (wants_tool) {
        const ToolSpec* tool = &request.tools.front();
        for (const auto& t : request.tools) {
            if (t.name == request.tool_choice_name) tool = &t;
        }
        c.tool_call = ToolCall{fmt::format("call_{}", to_hex(rng.next(), 16)), tool->name,
                               tool_arguments(*tool, request.text_digest)};
        c.finish = FinishReason::tool_calls;
        c.completion_tokens = 1 + static_cast<int>(c.tool_call->arguments_json.size() / 4);
        return c;
    }

    int span = std::max(0, shape.max_tokens - shape.min_tokens);
    int target =
        shape.min_tokens + static_cast<int>(rng.next() % static_cast<std::uint64_t>(span + 1));
    int words = std::max(0, target - 1);  // the tag is the last token
    if (request.max_tokens && *request.max_tokens - 1 < words) {
        words = static_cast<int>(std::max<std::int64_t>(0, *request.max_tokens - 1));
        c.finish = FinishReason::length;
    }
    // The words, eight bytes at a time; the first without its space and capitalised.
    std::string text(static_cast<std::size_t>(words) * 8 + 32, '\0');
    std::vector<std::uint32_t> ends;
    ends.reserve(static_cast<std::size_t>(words) + 1);
    std::uint32_t at = 0;
    for (int i = 0; i < words; ++i) {
        const Piece& piece = kPieces[rng.next() % kPieces.size()];
        std::memcpy(text.data() + at, piece.bytes.data(), piece.bytes.size());
        if (i == 0) {
            std::memmove(text.data(), text.data() + 1, piece.size - 1);
            text[0] = static_cast<char>(text[0] - 'a' + 'A');
            at += piece.size - 1;
        } else {
            at += piece.size;
        }
        ends.push_back(at);
    }
    text.resize(at);
    if (words > 0) text += ' ';
    append_verification_tag(text, request, saw_images, std::string_view(text).substr(0, at));
    ends.push_back(static_cast<std::uint32_t>(text.size()));
    c.tokens = Tokens(std::move(text), std::move(ends), Tokens::Ascii{});  // kWords and the tag
    c.completion_tokens = static_cast<int>(c.tokens.size());
    return c;
}

std::string_view to_string(Verdict v) {
    switch (v) {
        case Verdict::ok:
            return "ok";
        case Verdict::missing_tag:
            return "missing_tag";
        case Verdict::wrong_request:
            return "wrong_request";
        case Verdict::image_ignored:
            return "image_ignored";
        case Verdict::corrupted:
            return "corrupted";
    }
    return "unknown";
}

Verdict verify_answer(std::string_view answer_text, const ChatRequest& request) {
    std::size_t at = answer_text.rfind(kTagPrefix);
    if (at == std::string_view::npos || answer_text.empty() || answer_text.back() != ']') {
        return Verdict::missing_tag;
    }
    std::string_view body = answer_text.substr(0, at);
    if (!body.empty() && body.back() == ' ') body.remove_suffix(1);
    std::string_view tag = answer_text.substr(at);
    std::array<char, kTagSize> written{};  // the tag expected, written in place
    write_tag(written.data(), request, true, hash64(body));
    const std::string_view expected(written.data(), written.size());
    if (tag == expected) return Verdict::ok;
    // Tag layout: "[bo:" + 8 hex + "-" + 4 hex + "-" + 4 hex + "]".
    if (tag.size() != expected.size()) return Verdict::missing_tag;
    if (tag.substr(4, 8) != expected.substr(4, 8)) return Verdict::wrong_request;
    if (tag.substr(13, 4) != expected.substr(13, 4)) {
        return request.image_count > 0 ? Verdict::image_ignored : Verdict::wrong_request;
    }
    return Verdict::corrupted;
}

}  // namespace brownout::wire
