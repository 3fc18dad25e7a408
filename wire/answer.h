#pragma once
// Synthetic answers: a pure function of (seed, model, request digest), ending in a verification
// tag so that a consumer can prove an answer is complete, belongs to its request and saw its
// image.
//
//   "Ledger orbit calm ... harbor [bo:3f2a9c1d-7e21-c4b0]"
//                                       │        │    └ checksum of all text before the tag
//                                       │        └ digest of the images the model saw (0000: none)
//                                       └ digest of the request's text

#include <cstdint>
#include <string>
#include <string_view>

#include "wire/chat.h"

namespace brownout::wire {

struct AnswerShape {
    int min_tokens = 12;
    int max_tokens = 48;
};

// Generates the answer for `request` as a provider with `seed` would. `saw_images` is false when
// a fault makes the provider ignore images.
Completion generate_answer(std::uint64_t seed, const ChatRequest& request, const AnswerShape& shape,
                           bool saw_images, std::string id, std::int64_t created);

std::string verification_tag(const ChatRequest& request, bool saw_images, std::string_view body);
// The same tag appended to `out`; `body` may be the text already in `out`, which is read before
// anything is appended.
void append_verification_tag(std::string& out, const ChatRequest& request, bool saw_images,
                             std::string_view body);

enum class Verdict {
    ok,
    missing_tag,    // truncated, empty, or not an answer from a brownout provider
    wrong_request,  // the answer belongs to another request
    image_ignored,  // the request had images but the answer did not see them
    corrupted,      // the text before the tag was changed
};
std::string_view to_string(Verdict v);

// The check the harness runs on every answer: is `answer_text` the complete answer to `request`?
Verdict verify_answer(std::string_view answer_text, const ChatRequest& request);

// Prompt token estimate shared by the dialects: about four characters a token, plus a fixed
// cost per message and per image.
int estimate_prompt_tokens(std::size_t text_bytes, int messages, int images);

}  // namespace brownout::wire
