#pragma once
// Beast's HTTP parser given the bytes a reader of our own was given, as one stream: the
// side-by-side tests of the mock's request reader and the harness's response reader compare
// the two.

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <string_view>

namespace brownout::test {

// Feeds `bytes` to `parser` (eager, its limits set) until it is done, needs more than there is,
// or fails; returns how many bytes it took, `ec` its last error (need_more when it wants more).
template <typename Parser>
std::size_t beast_feed(Parser& parser, std::string_view bytes, boost::beast::error_code& ec) {
    namespace http = boost::beast::http;
    std::size_t used = 0;
    while (!parser.is_done()) {
        auto n = parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
        used += n;
        if (ec == http::error::need_more && n > 0 && used < bytes.size()) {
            ec = {};
            continue;
        }
        if (ec || n == 0) break;
    }
    return used;
}

}  // namespace brownout::test
