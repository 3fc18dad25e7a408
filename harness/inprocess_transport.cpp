#include "harness/inprocess_transport.h"

#include <algorithm>
#include <boost/smart_ptr/intrusive_ref_counter.hpp>
#include <cassert>

namespace brownout::harness {

using mock::Reply;
using namespace std::literals;

struct InProcessTransport::Call : boost::intrusive_ref_counter<Call, boost::thread_unsafe_counter> {
    struct Answered {};  // the reply made in place, from `answer()`
    Call() = default;
    // `answer()`'s result is not moved into the call: a Reply is some thirty members.
    template <typename Answer>
    Call(Answered /*tag*/, Answer&& answer) : reply(answer()) {}

    std::uint64_t handle = 0;
    std::size_t provider = 0;
    Reply reply;
    Done done;
    std::optional<AttemptResult> result;  // what the client read, once it has it
    Duration started{};                   // running time
    Scheduler::TimerId timeout = 0;
    Scheduler::TimerId step = 0;
    std::string body;       // what the client has received
    std::size_t frame = 0;  // the next frame to send
    Duration sent_at{};     // running time of the last frame sent (or of the head)
    int tokens_sent = 0;
    bool header_seen = false;
    bool client_finished = false;
    bool server_finished = false;
    mock::SlotLease slot;  // the provider's capacity slot, given back when the work ends
    bool queued = false;
    bool stalled = false;
    bool streaming = false;  // frames still to send, `step` set for the stream's end
};

InProcessTransport::InProcessTransport(Scheduler& scheduler, std::vector<mock::Provider*> targets,
                                       std::vector<ProviderAddress> providers)
    : scheduler_(scheduler),
      targets_(std::move(targets)),
      providers_(std::move(providers)),
      routed_(targets_.size()),
      typed_heads_(targets_.size()) {
    for (const auto* target : targets_)
        result_heads_.push_back(target->head_query(ResultHead::kNames));
}

InProcessTransport::~InProcessTransport() {
    close_all();
}

std::uint64_t InProcessTransport::send(std::size_t provider, wire::ClientRequest request,
                                       Duration timeout, Done done) {
    mock::IncomingRequest& in = incoming_;  // every field set anew, into the room it has
    read_head(provider, request, in, routed_[provider]);
    in.body = std::move(request.body);
    in.typed = nullptr;
    return start(provider, in, timeout, std::move(done));
}

std::uint64_t InProcessTransport::send_chat(std::size_t provider, ChatToSend& request,
                                            Duration timeout, Done done) {
    const auto& address = providers_[provider];
    const auto& dialect = client_dialect(address.dialect);
    // A path of the address's own may route elsewhere: only the dialect's chat path is typed.
    if (address.path.empty()) {
        auto& head = typed_heads_[provider];
        if (!head.made) {
            if (auto typed = dialect.typed_head(address.api_key)) {
                read_head(provider, *typed, head.in, head.routed);
                head.typed = true;
            }
            head.made = true;
        }
        if (head.typed) {
            if (request.made_for != provider) {
                request.typed = dialect.typed_request(request.chat);
                request.made_for = provider;
            }
            if (request.typed) {
                head.in.typed = &*request.typed;  // the rest is the head's, read once
                auto handle = start(provider, head.in, timeout, std::move(done));
                head.in.typed = nullptr;  // read within start(); the chat is the flight's
                return handle;
            }
        }
    }
    // Rendered to bytes, as any transport sends it (its send() above takes them in process).
    return Transport::send_chat(provider, request, timeout, std::move(done));
}

void InProcessTransport::read_head(std::size_t provider, const wire::ClientRequest& request,
                                   mock::IncomingRequest& in, Routed& routed) {
    in.method = request.method;
    in.target = providers_[provider].path.empty() ? request.path : providers_[provider].path;
    std::string_view authorization, x_api_key, x_goog_api_key;
    for (const auto& [k, v] : request.headers) {
        const std::string_view name = k;  // compared by length first, no strlen
        if (name == "authorization"sv) authorization = v;
        if (name == "x-api-key"sv) x_api_key = v;
        if (name == "x-goog-api-key"sv) x_goog_api_key = v;
    }
    in.authorization = authorization;
    in.api_key = mock::request_api_key(x_api_key, x_goog_api_key, in.target);
    in.retry_count.reset();
    in.forced_fault.clear();
    in.peer_loopback = true;
    in.peer = "127.0.0.1";
    in.reads = true;
    if (!routed.route || routed.method != in.method || routed.target != in.target) {
        routed.route = targets_[provider]->dialect().route(in.method, in.target);
        routed.method = in.method;
        routed.target = in.target;
    }
    in.route = &*routed.route;
}

std::uint64_t InProcessTransport::start(std::size_t provider, mock::IncomingRequest& in,
                                        Duration timeout, Done done) {
    auto& target = *targets_[provider];
    auto track = [&](CallRef call) {
        call->handle = ++next_handle_;
        call->provider = provider;
        call->done = std::move(done);
        call->started = scheduler_.running();
        calls_[call->handle] = call;
        return call;
    };
    if (target.refusing(scheduler_.now())) {
        auto call = track(CallRef(new Call()));
        // As a socket would: the result comes after send() returns, never inside it.
        scheduler_.after(Duration::zero(), [this, call] { connect_error(call); });
        return call->handle;
    }
    in.connection = ++next_connection_;
    auto call = track(CallRef(new Call(Call::Answered{}, [&] { return target.handle(in); })));
    // A provider of finite capacity may set a timer of its own as it admits (a review of its
    // queue): the timeout takes its place before it, as it always did, so that their order stays;
    // it is set only once it is known that it can fire.
    const bool admits = call->reply.needs_slot && target.config().capacity.concurrency > 0;
    const Scheduler::Place timeout_place = admits ? scheduler_.take_place() : 0;
    if (call->reply.needs_slot) {
        switch (target.admit([this, call] {
            // A client that left while queued is not noticed until the answer is written, as
            // on a socket: the work occupies its slot meanwhile.
            call->queued = false;
            call->slot = mock::SlotLease(*targets_[call->provider]);
            scheduler_.after(Duration::zero(), [this, call] { run_reply(call); });
        })) {
            case mock::Provider::Admission::now:
                call->slot = mock::SlotLease(target);
                break;
            case mock::Provider::Admission::queued:
                call->queued = true;
                break;
            case mock::Provider::Admission::rejected:
                call->reply = target.overloaded(std::move(call->reply), "capacity", true);
                break;
        }
    }
    if (!answered_within(*call, timeout))
        call->timeout = scheduler_.after(
            timeout, [this, call] { give_up(call); }, timeout_place);
    if (call->queued) return call->handle;
    // Carried out from the scheduler, so that no result reaches the caller inside send(). A reply
    // that connects is written after its delay, with no hop in between (run_reply() would set
    // that very timer from a timer of no delay: a third of the simulator's timers). One order
    // differs from the hop's, at a tie only: a timer other code set after this send() for the
    // instant the reply is written ran before the write, and now runs after it (a rejection has
    // no delay: it may meet another timer of no delay). tests/cli/sim_golden_test.sh holds every
    // library, paper and validity scenario, at three seeds each, to the numbers the hop gave.
    if (call->reply.connection == faults::ConnectionAction::none) {
        call->step = scheduler_.after(call->reply.delay, [this, call] { write_head(call); });
        return call->handle;
    }
    scheduler_.after(Duration::zero(), [this, call] { run_reply(call); });
    return call->handle;
}

bool InProcessTransport::answered_within(const Call& call, Duration timeout) const {
    // A timeout that cannot fire sets no timer: most attempts are answered well within theirs,
    // and each timer costs the simulator as much as a step of the answer. Certain only for a
    // reply carried out at once that ends (no hang, no stall), within its delay and gaps and
    // the slowest network; the timers left keep their order.
    const auto& reply = call.reply;
    if (call.queued || reply.connection == faults::ConnectionAction::hang) return false;
    if (reply.streaming && (reply.stream_end == Reply::StreamEnd::stall_silent ||
                            reply.stream_end == Reply::StreamEnd::stall_keepalive))
        return false;
    Duration longest = reply.expected_duration() + targets_[call.provider]->network_delay_bound();
    return longest < timeout;
}

void InProcessTransport::run_reply(const CallRef& call) {
    switch (call->reply.connection) {
        case faults::ConnectionAction::reset: {
            server_done(call, "reset");
            return connect_error(call);
        }
        case faults::ConnectionAction::hang:
            call->stalled = true;  // nothing is sent: the client's timeout ends it ("hung")
            return;
        case faults::ConnectionAction::none:
            break;
    }
    call->step = scheduler_.after(call->reply.delay, [this, call] { write_head(call); });
}

void InProcessTransport::write_head(const CallRef& call) {
    call->step = 0;
    // The server learns that its client left when it writes, as on a socket.
    if (call->client_finished) return server_done(call, "client_closed");
    call->header_seen = true;
    auto& reply = call->reply;
    if (!reply.streaming) {
        call->body = std::move(reply.body);
        bool cut = reply.cut_after_bytes && *reply.cut_after_bytes < call->body.size();
        if (cut) call->body.resize(*reply.cut_after_bytes);
        return deliver(call, !cut, cut ? "cut" : "complete");
    }
    call->sent_at = scheduler_.running();
    stream(call);
}

void InProcessTransport::deliver(const CallRef& call, bool body_complete,
                                 std::string_view outcome) {
    auto& reply = call->reply;
    // An answer sent whole that says what it reads (a body's or a stream's, Reply::read): taken,
    // not parsed back (its text moved into the result: nothing reads it after).
    wire::ReadAnswer* read = nullptr;
    if (body_complete && (!reply.streaming || call->frame == reply.frames.size()) && reply.read)
        read = &*reply.read;
    const wire::ReadError* error_read =
        !reply.streaming && body_complete ? reply.error_read.get() : nullptr;
    // The head read by name from its fields, before server_done() journals the attempt and so
    // takes the request id the head names. Reading has no effect: the order is the socket's.
    // The result is read into the call, where it waits for the client; a client that gave up
    // has its own result, and reads none.
    if (!call->client_finished) {
        // The reader outlives what it read: a value may point into it (a line of the provider's
        // own, were one of them asked).
        const mock::Provider::HeadReader headers(*targets_[call->provider], reply);
        ResultHead head;
        headers.read(result_heads_[call->provider], head.values);
        read_result(call->result.emplace(), client_dialect(providers_[call->provider].dialect),
                    reply.fields.status, head, call->body, body_complete, scheduler_.time_scale(),
                    read, error_read);
    }
    server_done(call, outcome);
    arrive(call);
}

void InProcessTransport::connect_error(const CallRef& call) {
    if (!call->client_finished) call->result.emplace().kind = AttemptResult::Kind::connect_error;
    arrive(call);
}

void InProcessTransport::arrive(const CallRef& call) {
    // The provider is done with it (its slot is free); the client reads it a network later. A
    // client that gave up meanwhile has its own result, and reads none.
    Duration network = targets_[call->provider]->network_delay();
    if (call->client_finished) return;
    if (network <= Duration::zero()) return client_done(call);
    scheduler_.after(network, [this, call] { client_done(call); });
}

Duration InProcessTransport::frame_due(const Call& call) {
    return call.sent_at + std::max(call.reply.frames[call.frame].gap, Duration::zero());
}

bool InProcessTransport::send_frame(Call& call) {
    const auto& reply = call.reply;
    const auto& frame = reply.frames[call.frame];
    call.sent_at = frame_due(call);
    // In process every frame has its bytes (or the reply its read): the provider leaves a token's
    // frame to be made when sent only on a socket (IncomingRequest::reads, Reply::append_frame).
    assert(frame.token < 0 && "a token frame to be made when sent, in process");
    call.body += frame.bytes;
    call.tokens_sent += frame.tokens;
    ++call.frame;
    if (!reply.cut_after_bytes || call.body.size() < *reply.cut_after_bytes) return false;
    call.body.resize(*reply.cut_after_bytes);
    return true;
}

void InProcessTransport::stream(const CallRef& call) {
    // Each frame goes out `gap` after the one before; nothing in between changes what the
    // client reads, and the server would notice a client that left only at its next write. So
    // one timer carries the stream to its end (its last frame, or the frame that reaches the
    // cut), and a client that leaves before it has what was sent by then (client_left()).
    // The frames due with the head (no gap: a prelude) go out with it, as a socket writes them.
    // One order differs from a timer a frame, at an exact tie only: a client leaving at the very
    // nanosecond a later frame is due is taken to leave first (a timer a frame ran in the order
    // the two timers were set, which no model intends). With jittered latencies a tie does not
    // happen; tests/cli/sim_golden_test.sh holds every library scenario to it.
    const auto& reply = call->reply;
    Duration now = scheduler_.running();
    while (call->frame < reply.frames.size() && frame_due(*call) <= now) {
        if (send_frame(*call)) return deliver(call, false, "cut");
    }
    Duration end = call->sent_at;
    std::size_t size = call->body.size();
    for (std::size_t i = call->frame; i < reply.frames.size(); ++i) {
        end += std::max(reply.frames[i].gap, Duration::zero());
        size += reply.frames[i].bytes.size();
        if (reply.cut_after_bytes && size >= *reply.cut_after_bytes) break;
    }
    if (end <= now) return end_stream(call);
    call->streaming = true;
    call->step = scheduler_.after(end - now, [this, call] {
        call->streaming = false;
        call->step = 0;
        end_stream(call);
    });
}

void InProcessTransport::end_stream(const CallRef& call) {
    auto& reply = call->reply;
    while (call->frame < reply.frames.size()) {
        if (send_frame(*call)) return deliver(call, false, "cut");
    }
    switch (reply.stream_end) {
        case Reply::StreamEnd::clean:
            return deliver(call, true, "complete");
        case Reply::StreamEnd::cut:
            return deliver(call, false, "cut");
        case Reply::StreamEnd::stall_silent:
        case Reply::StreamEnd::stall_keepalive:
            call->stalled = true;  // keep-alives change nothing a client reads: its timeout ends it
            return;
    }
}

void InProcessTransport::client_left(const CallRef& call) {
    // The frames due before now went out; the server notices at the next one's write. (Not the
    // end: its timer would have run.)
    call->streaming = false;
    scheduler_.cancel(call->step);
    Duration now = scheduler_.running();
    const auto& frames = call->reply.frames;
    while (call->frame < frames.size() && frame_due(*call) < now) send_frame(*call);
    Duration notice = call->frame < frames.size() ? frame_due(*call) : now;
    call->step =
        scheduler_.after(notice - now, [this, call] { server_done(call, "client_closed"); });
}

void InProcessTransport::give_up(const CallRef& call) {
    call->timeout = 0;
    if (call->client_finished) return;
    AttemptResult& r = call->result.emplace();
    r.kind = call->header_seen ? AttemptResult::Kind::broken_stream : AttemptResult::Kind::timeout;
    // A hung or stalled answer watches its connection and ends when the client leaves; any other
    // goes on until its next write finds the client gone (write_head, client_left).
    if (call->stalled && !call->server_finished)
        server_done(call,
                    call->reply.connection == faults::ConnectionAction::hang ? "hung" : "stalled");
    client_done(call);
}

void InProcessTransport::client_done(const CallRef& call) {
    if (call->client_finished) return;
    call->client_finished = true;
    scheduler_.cancel(call->timeout);
    if (call->streaming) client_left(call);
    calls_.erase(call->handle);
    auto done = std::move(call->done);
    if (done && call->result) done(std::move(*call->result));
}

void InProcessTransport::server_done(const CallRef& call, std::string_view outcome) {
    if (call->server_finished) return;
    call->server_finished = true;
    auto& target = *targets_[call->provider];
    Duration took = scheduler_.running() - call->started;
    if (call->slot.held()) call->slot.release(target.slot_held_after(call->reply, outcome, took));
    const auto& a = call->reply.attempt;
    if (a.seq == 0 && a.provider.empty()) return;  // not a provider attempt
    target.finish(call->reply, outcome, took, call->tokens_sent);
}

void InProcessTransport::abandon(std::uint64_t handle) {
    auto it = calls_.find(handle);
    if (it == calls_.end()) return;
    auto call = it->second;
    call->done = nullptr;
    give_up(call);
}

void InProcessTransport::close_all() {
    for (auto& [handle, call] : in_key_order(calls_)) {
        call->done = nullptr;
        give_up(call);
    }
}

}  // namespace brownout::harness
