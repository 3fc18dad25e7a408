// libFuzzer target: the mock's HTTP request reader, given the bytes whole and then in two pieces
// split where the first byte says; both must come to the same end.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mockprovider/http_request.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using brownout::mock::RequestReader;
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    RequestReader whole(1024, 4096);
    auto once = whole.parse(bytes);
    if (size == 0) return 0;
    RequestReader pieces(1024, 4096);
    auto status = pieces.parse(bytes.substr(0, data[0] % size));
    if (status == RequestReader::Status::incomplete) status = pieces.parse(bytes);
    if (status != once) std::abort();
    if (once == RequestReader::Status::complete &&
        (whole.consumed() != pieces.consumed() || whole.request().body != pieces.request().body))
        std::abort();
    return 0;
}
