#pragma once
// A small blocking HTTP/1.1 client for tests over real loopback sockets.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace brownout::test {

struct HttpResult {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;                            // de-chunked
    std::vector<std::string> chunks;             // chunk bodies as they arrived
    std::vector<std::chrono::steady_clock::time_point> chunk_times;
    std::chrono::steady_clock::time_point sent_at;
    std::chrono::steady_clock::time_point head_at;
    std::string error;  // transport error ("connection reset", "end of stream"...), empty when fine

    std::string header(const std::string& name) const;
};

struct Header {
    std::string name;
    std::string value;
};

// One connection, kept open across requests (keep-alive).
class HttpConnection {
public:
    explicit HttpConnection(unsigned short port,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10));
    HttpResult request(const std::string& method, const std::string& target,
                       const std::string& body = "", const std::vector<Header>& headers = {});
    // Sends raw bytes and reads whatever comes back until the peer closes or `wait` passes.
    std::string raw(const std::string& bytes,
                    std::chrono::milliseconds wait = std::chrono::milliseconds(2000));
    // Sends raw bytes and reads nothing: false once the peer has closed or reset the connection
    // (a write after the peer's close is refused at the latest on the second try).
    bool send(const std::string& bytes);
    bool open() const;

private:
    boost::asio::io_context ioc_;
    boost::asio::ip::tcp::socket socket_;
    std::string buffer_;
    std::chrono::milliseconds timeout_;
};

HttpResult http(unsigned short port, const std::string& method, const std::string& target,
                const std::string& body = "", const std::vector<Header>& headers = {});

}  // namespace brownout::test
