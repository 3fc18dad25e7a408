#pragma once
// A request a dialect's parser must accept, for the wire tests.
#include <catch2/catch.hpp>
#include <string>
#include <variant>

#include "wire/dialect.h"

namespace brownout::test {

inline wire::ChatRequest ok(const wire::Dialect& d, const std::string& body) {
    auto r = d.parse_chat(body);
    REQUIRE(std::holds_alternative<wire::ChatRequest>(r));
    return std::get<wire::ChatRequest>(r);
}

}  // namespace brownout::test
