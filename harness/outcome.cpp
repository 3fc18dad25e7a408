#include "harness/outcome.h"

namespace brownout::harness {

Served classify(const UserRecord& u, const WorkloadSpec& w, bool answerable) {
    Duration took = u.finished - u.arrival;
    switch (u.outcome) {
        case UserRecord::Outcome::answered:
            if (u.verdict == AnswerVerdict::stale && u.outdated_by > w.max_staleness)
                return Served::wrong_answer;
            if (u.verdict != AnswerVerdict::ok && u.verdict != AnswerVerdict::stale)
                return Served::wrong_answer;
            if (took > w.deadline) return Served::failure;  // the user had given up
            return u.verdict == AnswerVerdict::ok ? Served::answer : Served::degraded_answer;
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
