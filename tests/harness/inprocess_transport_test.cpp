#include "harness/inprocess_transport.h"

#include <catch2/catch.hpp>
#include <string>

using brownout::harness::HeadLines;

TEST_CASE("a reply's head is split once and read by header name", "[harness][inprocess]") {
    std::string head =
        "HTTP/1.1 429 Too Many Requests\r\n"
        "content-type: application/json\r\n"
        "retry-after: 2\r\n"
        "x-note: a: value with a colon\r\n"
        "retry-after: 9\r\n"
        "\r\n";
    HeadLines h(head);
    CHECK(h("content-type") == "application/json");
    CHECK(h("retry-after") == "2");  // the first of two
    CHECK(h("x-note") == "a: value with a colon");
    CHECK(h("retry").empty());  // a name, not a prefix
    CHECK(h("retry-after-ms").empty());
    CHECK(h("HTTP/1.1 429 Too Many Requests").empty());  // the status line is no header
    CHECK(HeadLines("HTTP/1.1 200 OK\r\n\r\n")("content-type").empty());
}

TEST_CASE("a head longer than the lines kept is still read to its end", "[harness][inprocess]") {
    std::string head = "HTTP/1.1 200 OK\r\n";
    for (int i = 0; i < 50; ++i) head += "x-filler-" + std::to_string(i) + ": " + "v\r\n";
    head += "retry-after-ms: 250\r\nx-should-retry: false\r\n\r\n";
    HeadLines h(head);
    CHECK(h("x-filler-0") == "v");
    CHECK(h("x-filler-49") == "v");
    CHECK(h("retry-after-ms") == "250");
    CHECK(h("x-should-retry") == "false");
    CHECK(h("x-filler-50").empty());
}
