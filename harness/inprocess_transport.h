#pragma once
// The simulator's transport: each attempt goes straight to a mock::Provider in this process and
// its Reply is carried out on the scheduler as the server's session would carry it out on a
// socket — the delay, paced frames, stalls, cuts and resets, the capacity slot and the work a
// client abandons — with no sockets and no bytes on a wire. The answer is read back by the
// same dialect client half as over HTTP (read_result), its headers by name from the reply's
// fields (mock::Provider::HeadReader, held to the written head by the provider's tests), so
// policies, verification and the scorer see what they would see on the wire.
//
// Left out (the server's, not the provider's): the concurrent-stream cap (max_streams) and
// connection limits, and outages with mode "refuse" (the port closes): an attempt at a
// refusing provider is a connection error at once.

#include <boost/smart_ptr/intrusive_ptr.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/keyed.h"
#include "harness/transport.h"
#include "mockprovider/provider.h"

namespace brownout::harness {

class InProcessTransport final : public Transport {
public:
    // `targets[i]` serves `providers[i]`; both outlive the transport, as does `scheduler`.
    InProcessTransport(Scheduler& scheduler, std::vector<mock::Provider*> targets,
                       std::vector<ProviderAddress> providers);
    ~InProcessTransport() override;
    InProcessTransport(const InProcessTransport&) = delete;
    InProcessTransport& operator=(const InProcessTransport&) = delete;

    std::uint64_t send(std::size_t provider, wire::ClientRequest request, Duration timeout,
                       Done done) override;
    std::uint64_t send_chat(std::size_t provider, ChatToSend& request, Duration timeout,
                            Done done) override;
    void abandon(std::uint64_t handle) override;
    void close_all() override;
    const std::vector<ProviderAddress>& providers() const override { return providers_; }

private:
    struct Call;
    // A call is shared by the timers that carry it out, the table of those in flight and a
    // provider's queue of those waiting for a slot, all on the one thread that runs the
    // scheduler: its count is a plain one. (Each copy of a shared_ptr is an atomic add on a
    // machine that has started a thread: some 15 ns a copy and release, bench/README.md.)
    using CallRef = boost::intrusive_ptr<Call>;
    // Where a provider's dialect routes the last method and target read into a request (an
    // attempt goes where the one before went, almost always): found once, not at each attempt.
    struct Routed {
        std::string method, target;
        std::optional<wire::Route> route;
    };
    // Sets every field of `in` that a request's head gives (all but its body, its typed chat and
    // its connection), into the room it has; its route is `routed`'s.
    void read_head(std::size_t provider, const wire::ClientRequest& request,
                   mock::IncomingRequest& in, Routed& routed);
    // Hands `in` to the provider (its connection numbered here) and carries out the reply.
    std::uint64_t start(std::size_t provider, mock::IncomingRequest& in, Duration timeout,
                        Done done);
    // The client certainly has its answer before `timeout` (no timer is needed for it).
    bool answered_within(const Call& call, Duration timeout) const;
    void run_reply(const CallRef& call);
    void write_head(const CallRef& call);
    // A stream's frames, from the head on (stream) to its end (end_stream), or until its client
    // leaves (client_left).
    void stream(const CallRef& call);
    void end_stream(const CallRef& call);
    void client_left(const CallRef& call);
    static Duration frame_due(const Call& call);  // of the next frame
    static bool send_frame(Call& call);           // the next frame; true: it reached the cut
    // The client has its result (Call::result), or left (none): `done` runs unless the attempt
    // was abandoned.
    void client_done(const CallRef& call);
    // A reply on its way back: the client reads it after the provider's network delay. Its
    // result was read into the call (Call::result), and is handed to `done` from there.
    void arrive(const CallRef& call);
    // No connection (refused, or reset before the head): that result, then arrive().
    void connect_error(const CallRef& call);
    // The answer ends: the provider journals it, then the client reads what it received.
    void deliver(const CallRef& call, bool body_complete, std::string_view outcome);
    // The provider's side ends: journal, slot.
    void server_done(const CallRef& call, std::string_view outcome);
    void give_up(const CallRef& call);

    Scheduler& scheduler_;
    std::vector<mock::Provider*> targets_;
    std::vector<ProviderAddress> providers_;
    Keyed<std::uint64_t, CallRef> calls_;  // in flight, by handle
    // A request sent as bytes, handed to a provider, its strings' room kept from one attempt to
    // the next (each is read within Provider::handle, and nothing keeps it).
    mock::IncomingRequest incoming_;
    std::vector<Routed> routed_;  // by provider: where its bytes went last
    // A provider's typed request head (wire::Dialect::typed_head of its key), read once into
    // the request every typed attempt at it is handed (only its chat and connection change).
    struct TypedHead {
        bool made = false;
        bool typed = false;  // false: its dialect renders bytes
        mock::IncomingRequest in;
        Routed routed;  // where `in` goes (its own: routed_ follows the bytes sent)
    };
    std::vector<TypedHead> typed_heads_;  // by provider
    // What read_result reads of a head (ResultHead::kNames), as each provider's reader asks it.
    std::vector<mock::Provider::HeadQuery> result_heads_;  // by provider
    std::uint64_t next_handle_ = 0;
    std::uint64_t next_connection_ = 0;
};

}  // namespace brownout::harness
