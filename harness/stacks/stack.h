#pragma once
// A client stack under test, one file per kind in harness/stacks/:
//
//     workload ──► runner (run.cpp) ──start(user)──► Stack ──► providers (fleet or in process)
//                   arrivals, hung timers, ◄─finish──  builtin: a policy over a transport
//                   verdicts, the run log              gateway: a program, one attempt per user
//                                                      stdio:   a program, one line per user
//
// The runner owns time, the fleet and the records; a stack only says, for each user it was
// given, when and how the user was answered (StackHost::finish). Adding a kind is one file here
// and one row in registry.cpp.

#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/scheduler.h"
#include "harness/policies/policy.h"
#include "harness/run.h"
#include "harness/scenario.h"
#include "harness/transport.h"

namespace brownout::harness {

// What a stack can ask of the runner that drives it. Every call is on the runner's thread.
class StackHost {
public:
    virtual ~StackHost() = default;
    virtual Duration now() const = 0;
    virtual Scheduler& scheduler() = 0;
    virtual boost::asio::io_context& io() = 0;
    // A transport to these addresses: HTTP in a run, in process in the simulator.
    virtual std::unique_ptr<Transport> connect(std::vector<ProviderAddress> addresses) = 0;
    // The user's stack made one more attempt (or one more request to a program).
    virtual void attempted(std::size_t user) = 0;
    // The user's request is over: `provider` is the index into the client's providers that
    // answered, -2 for the stack's own cache, -1 when unknown or not answered. Ignored for a
    // user already finished (counted hung, or the run ended).
    virtual void finish(std::size_t user, UserRecord::Outcome outcome, const std::string& text,
                        int provider) = 0;
    // The run is ending (every user done, or stopped): what fails now is not the stack's fault.
    virtual bool ending() const = 0;
    // The user asked to stop (SIGINT): a stack does not restart its program.
    virtual bool stop_requested() const = 0;
    // A program's environment (BROWNOUT_* and, when warped, libfaketime's), and `${NAME}` in a
    // configured value replaced from it.
    virtual std::map<std::string, std::string> child_env() const = 0;
    virtual std::string expand(std::string value) const = 0;
    // Scenario time as wall time, at the run's time scale (a program not warped counts in it).
    virtual Duration to_wall(Duration scenario) const = 0;
    // Back to scenario time zero (after a warm-up, before the run starts).
    virtual void restart_clock() = 0;
    virtual void note(std::string text) = 0;
};

// What the runner tells a stack when it is made.
struct StackSetup {
    const Scenario& scenario;
    const ClientSpec& client;
    const std::vector<UserRequest>& workload;
    std::vector<ProviderAddress> addresses;  // the client's routes, in its order
    std::vector<ProviderTraits> traits;      // the same, as a policy sees them
    std::string log_file;                    // a program's stderr
    bool warped = false;  // a program's clock runs in scenario time (libfaketime)
    // What each request's text digests to (conversation_digests()), when the runner made it
    // once for every stack (the simulator): a built-in stack then sends requests without text.
    const std::vector<wire::ConversationDigest>* digests = nullptr;
};

class Stack {
public:
    virtual ~Stack() = default;
    // Before the scenario clock starts: start a program and wait until it is ready.
    virtual void prepare() {}
    // A user arrived (workload index): send the request; answer through StackHost::finish.
    virtual void start(std::size_t user) = 0;
    // The runner counted the user hung: give up what is in flight for it, without finishing it.
    virtual void abandon(std::size_t user) = 0;
    // The run ends: give up everything in flight, so that the runner's io_context runs out of
    // work (a program's pending read ends too).
    virtual void stop() = 0;
    // After the io_context ran out: close connections, end a program.
    virtual void close() = 0;
    // At the end: what happened to it that the records do not say (exits, garbage lines).
    virtual void notes(std::vector<std::string>& /*out*/) const {}
    // Answers that came for users already counted hung, each as its time after the arrival (the
    // runner notes them: late_answers_note).
    virtual std::vector<Duration> late_answers() const { return {}; }
};

using StackFactory = std::unique_ptr<Stack> (*)(StackSetup setup, StackHost& host);
std::unique_ptr<Stack> make_builtin_stack(StackSetup setup, StackHost& host);
std::unique_ptr<Stack> make_gateway_stack(StackSetup setup, StackHost& host);
std::unique_ptr<Stack> make_stdio_stack(StackSetup setup, StackHost& host);

// The kinds, in the order the README lists them (`kind = "…"` in a client table).
const std::vector<std::string>& stack_kinds();
// Throws brownout::Error naming the kinds when the client's kind is not one of them.
std::unique_ptr<Stack> make_stack(StackSetup setup, StackHost& host);

// A built-in policy's stack over a transport, for the builtin kind and a gateway's one attempt
// per user (builtin.cpp).
std::unique_ptr<Stack> make_policy_stack(
    StackHost& host, const std::vector<UserRequest>& workload, std::unique_ptr<Policy> policy,
    std::unique_ptr<Transport> transport,
    const std::vector<wire::ConversationDigest>* digests = nullptr);

}  // namespace brownout::harness
