#include "mockprovider/shape.h"

#include <type_traits>
#include <utility>

namespace brownout::mock {

std::optional<int> Shape::stream_stops_after() const {
    std::optional<int> first;
    auto consider = [&](std::optional<int> n) {
        if (n && (!first || *n < *first)) first = n;
    };
    if (stall) consider(stall->after_tokens);
    consider(cut_after_tokens);
    if (stream_failure) consider(stream_failure->after_tokens);
    return first;
}

Shape shape_of(const faults::Effects& effects) {
    Shape s;
    for (const faults::Effect& effect : effects) {
        std::visit(
            [&](const auto& e) {
                using E = std::decay_t<decltype(e)>;
                if constexpr (std::is_same_v<E, faults::Rejection>) {
                    if (s.answers()) s.reject = &e;
                } else if constexpr (std::is_same_v<E, faults::Reset>) {
                    if (s.answers()) s.connection = faults::ConnectionAction::reset;
                } else if constexpr (std::is_same_v<E, faults::Hang>) {
                    if (s.answers()) s.connection = faults::ConnectionAction::hang;
                } else if constexpr (std::is_same_v<E, faults::Slowdown>) {
                    s.ttft_factor *= e.ttft_factor;
                    s.token_rate_factor *= e.token_rate_factor;
                } else if constexpr (std::is_same_v<E, faults::Stall>) {
                    s.stall = e;
                } else if constexpr (std::is_same_v<E, faults::Cut>) {
                    if (e.after_tokens) s.cut_after_tokens = e.after_tokens;
                    if (e.after_bytes) s.cut_after_bytes = e.after_bytes;
                } else if constexpr (std::is_same_v<E, faults::StreamFailure>) {
                    s.stream_failure = e;
                } else if constexpr (std::is_same_v<E, faults::Malform>) {
                    s.malformed = e.how;
                } else if constexpr (std::is_same_v<E, faults::Ignore>) {
                    switch (e.what) {
                        case faults::Ignored::images:
                            s.ignore_images = true;
                            break;
                        case faults::Ignored::tools:
                            s.ignore_tools = true;
                            break;
                        case faults::Ignored::stream:
                            s.ignore_stream = true;
                            break;
                    }
                } else if constexpr (std::is_same_v<E, faults::Substitute>) {
                    s.substitute_model = e.model;
                } else if constexpr (std::is_same_v<E, faults::ReportLimits>) {
                    s.limits = e.limits;
                } else {
                    static_assert(std::is_same_v<E, faults::Hold>, "an effect shape_of ignores");
                    s.hold = e;
                }
            },
            effect);
    }
    return s;
}

}  // namespace brownout::mock
