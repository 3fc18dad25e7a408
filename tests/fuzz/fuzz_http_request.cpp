// libFuzzer target: the mock's HTTP request reader, given the bytes whole and in pieces (split
// where the last byte says, then at every 7th byte); it must come to the same end either way.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mockprovider/http_request.h"

namespace {

using brownout::mock::RequestReader;

bool same(RequestReader& a, RequestReader& b) {
    const auto &x = a.request(), &y = b.request();
    return a.consumed() == b.consumed() && x.method == y.method && x.target == y.target &&
           x.body == y.body && x.authorization == y.authorization && x.x_api_key == y.x_api_key &&
           x.x_goog_api_key == y.x_goog_api_key && x.brownout_fault == y.brownout_fault &&
           x.retry_count == y.retry_count && x.keep_alive == y.keep_alive;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    RequestReader whole(1024, 4096);
    auto once = whole.parse(bytes);
    if (size == 0) return 0;
    RequestReader pieces(1024, 4096);
    auto status = RequestReader::Status::incomplete;
    for (std::size_t cut = data[size - 1] % size; status == RequestReader::Status::incomplete;
         cut += 7) {
        status = pieces.parse(bytes.substr(0, std::min(cut, size)));
        if (cut >= size) break;
    }
    if (status != once) std::abort();
    if (once == RequestReader::Status::complete && !same(whole, pieces)) std::abort();
    return 0;
}
