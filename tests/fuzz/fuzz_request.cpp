// libFuzzer target: both dialects' request parsers, and the answer built from what they accept.
#include <cstdint>
#include <string_view>
#include <variant>

#include "wire/answer.h"
#include "wire/dialect.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace brownout::wire;
    static auto openai = make_dialect(DialectKind::openai, Vendor::openai);
    static auto anthropic = make_dialect(DialectKind::anthropic, Vendor::anthropic);
    std::string_view body(reinterpret_cast<const char*>(data), size);
    for (const auto* d : {openai.get(), anthropic.get()}) {
        auto parsed = d->parse_chat(body);
        if (auto* req = std::get_if<ChatRequest>(&parsed)) {
            auto c = generate_answer(1, *req, {}, true, "id", 0);
            (void)d->completion_body(c);
            (void)d->stream_frames(c, *req);
            (void)verify_answer(c.text(), *req);
        } else {
            (void)d->error_body(std::get<ApiError>(parsed), "req_1");
        }
    }
    return 0;
}
