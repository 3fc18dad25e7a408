// libFuzzer target: the harness's HTTP response reader, given the bytes whole and in pieces
// (split where the last byte says, then at every 7th byte), then told the peer closed; it must
// come to the same end either way, a whole answer or a cut one (what came of it), and never
// claim more bytes than it was given.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "harness/http_response.h"

namespace {

using brownout::harness::ResponseReader;
using Status = ResponseReader::Status;

Status read(ResponseReader& reader, std::string_view bytes, std::size_t first_cut) {
    auto status = Status::incomplete;
    for (std::size_t cut = first_cut; status == Status::incomplete; cut += 7) {
        status = reader.parse(bytes.substr(0, std::min(cut, bytes.size())));
        if (cut >= bytes.size()) break;
    }
    return status == Status::incomplete ? reader.end(bytes) : status;
}

bool same(const ResponseReader& a, const ResponseReader& b, std::string_view bytes) {
    return a.head_done() == b.head_done() && a.status() == b.status() &&
           a.consumed() == b.consumed() && a.keep_alive() == b.keep_alive() &&
           a.body(bytes) == b.body(bytes) &&
           a.header(bytes, "content-type") == b.header(bytes, "content-type") &&
           a.header(bytes, "retry-after") == b.header(bytes, "retry-after");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    ResponseReader whole(1024, 4096);
    auto once = read(whole, bytes, size);
    if (once == Status::complete && whole.consumed() > size) std::abort();
    if (size == 0) return 0;
    ResponseReader pieces(1024, 4096);
    auto status = read(pieces, bytes, data[size - 1] % size);
    if (status != once) std::abort();
    bool answered = once == Status::complete || once == Status::incomplete;  // whole, or cut
    if (answered && !same(whole, pieces, bytes)) std::abort();
    return 0;
}
