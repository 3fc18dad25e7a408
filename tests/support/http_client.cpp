#include "tests/support/http_client.h"

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace brownout::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

std::string HttpResult::header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
}

HttpConnection::HttpConnection(unsigned short port, std::chrono::milliseconds timeout)
    : socket_(ioc_), timeout_(timeout) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
}

bool HttpConnection::open() const {
    return socket_.is_open();
}

namespace {

// Runs the io_context until `done` or the deadline; on the deadline the socket is closed so
// that the pending operation ends with an error.
void run_until(asio::io_context& ioc, tcp::socket& socket, const bool& done,
               std::chrono::steady_clock::time_point deadline) {
    ioc.restart();
    while (!done) {
        auto now = std::chrono::steady_clock::now();
        if (now >= deadline) {
            beast::error_code ignored;
            socket.close(ignored);
            ioc.restart();
            ioc.run();
            return;
        }
        ioc.run_one_for(deadline - now);
    }
}

}  // namespace

HttpResult HttpConnection::request(const std::string& method, const std::string& target,
                                   const std::string& body, const std::vector<Header>& headers) {
    HttpResult result;
    bhttp::request<bhttp::string_body> req(bhttp::string_to_verb(method), target, 11);
    req.set(bhttp::field::host, "127.0.0.1");
    req.set(bhttp::field::content_type, "application/json");
    for (const auto& h : headers) req.set(h.name, h.value);
    req.body() = body;
    req.prepare_payload();
    beast::error_code ec;
    auto deadline = std::chrono::steady_clock::now() + timeout_;
    result.sent_at = std::chrono::steady_clock::now();
    bhttp::write(socket_, req, ec);
    if (ec) {
        result.error = ec.message();
        return result;
    }
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    auto on_header = [&](std::uint64_t size, beast::string_view, beast::error_code&) {
        if (size == 0) return;
        result.chunks.emplace_back();
        result.chunk_times.push_back(std::chrono::steady_clock::now());
    };
    auto on_chunk = [&](std::uint64_t, beast::string_view data, beast::error_code&) -> std::size_t {
        if (result.chunks.empty()) result.chunks.emplace_back();
        result.chunks.back().append(data.data(), data.size());
        return data.size();
    };
    parser.on_chunk_header(on_header);
    parser.on_chunk_body(on_chunk);

    bool done = false;
    bhttp::async_read_header(socket_, buffer, parser, [&](beast::error_code e, std::size_t) {
        ec = e;
        done = true;
    });
    run_until(ioc_, socket_, done, deadline);
    result.head_at = std::chrono::steady_clock::now();
    if (ec) {
        result.error = ec.message();
        return result;
    }
    result.status = static_cast<int>(parser.get().result_int());
    for (const auto& field : parser.get()) {
        std::string name(field.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        result.headers[name] = std::string(field.value());
    }
    while (!parser.is_done()) {
        done = false;
        bhttp::async_read_some(socket_, buffer, parser, [&](beast::error_code e, std::size_t) {
            ec = e;
            done = true;
        });
        run_until(ioc_, socket_, done, deadline);
        if (ec) {
            result.error = ec.message();
            break;
        }
    }
    if (!parser.chunked())
        result.body = parser.get().body();
    else
        for (const auto& c : result.chunks) result.body += c;
    return result;
}

std::string HttpConnection::raw(const std::string& bytes, std::chrono::milliseconds wait) {
    beast::error_code ec;
    asio::write(socket_, asio::buffer(bytes), ec);
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + wait;
    std::array<char, 4096> buf{};
    while (socket_.is_open()) {
        bool done = false;
        std::size_t got = 0;
        socket_.async_read_some(asio::buffer(buf), [&](beast::error_code e, std::size_t n) {
            ec = e;
            got = n;
            done = true;
        });
        run_until(ioc_, socket_, done, deadline);
        out.append(buf.data(), got);
        if (ec) {
            socket_.close(ec);
            break;
        }
    }
    return out;
}

bool HttpConnection::send(const std::string& bytes) {
    if (!socket_.is_open()) return false;
    beast::error_code ec;
    asio::write(socket_, asio::buffer(bytes), ec);
    if (ec) socket_.close(ec);
    return socket_.is_open();
}

HttpResult http(unsigned short port, const std::string& method, const std::string& target,
                const std::string& body, const std::vector<Header>& headers) {
    HttpConnection c(port);
    return c.request(method, target, body, headers);
}

}  // namespace brownout::test
