#include "harness/outcome.h"

namespace brownout::harness {

std::string_view to_string(Served s) {
    switch (s) {
        case Served::answer:
            return "answer";
        case Served::degraded_answer:
            return "degraded_answer";
        case Served::graceful_failure:
            return "graceful_failure";
        case Served::wrong_answer:
            return "wrong_answer";
        case Served::failure:
            return "failure";
        case Served::hung:
            return "hung";
    }
    return "failure";
}

Served classify(const UserRecord& u, const WorkloadSpec& w, bool answerable) {
    Duration took = u.finished - u.arrival;
    switch (u.outcome) {
        case UserRecord::Outcome::answered:
            if (u.verdict == "stale" && u.outdated_by > w.max_staleness)
                return Served::wrong_answer;
            if (u.verdict != "ok" && u.verdict != "stale") return Served::wrong_answer;
            if (took > w.deadline) return Served::failure;  // the user had given up
            return u.verdict == "ok" ? Served::answer : Served::degraded_answer;
        case UserRecord::Outcome::failed:
            return !answerable && took <= w.fail_fast ? Served::graceful_failure : Served::failure;
        case UserRecord::Outcome::hung:
            return Served::hung;
        case UserRecord::Outcome::unfinished:
            return Served::failure;
    }
    return Served::failure;
}

bool received_answer(const UserRecord& u, const WorkloadSpec& w) {
    return u.outcome == UserRecord::Outcome::answered && received_answer(classify(u, w, true));
}

}  // namespace brownout::harness
