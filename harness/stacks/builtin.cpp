// A built-in policy's stack: the policy says what to do next (harness/policies/), this carries
// it out over a transport, with as many attempts in flight as the policy asks for.

#include <algorithm>
#include <boost/smart_ptr/intrusive_ptr.hpp>
#include <boost/smart_ptr/intrusive_ref_counter.hpp>

#include "core/keyed.h"
#include "harness/stacks/stack.h"

namespace brownout::harness {
namespace {

class PolicyStack final : public Stack {
public:
    PolicyStack(StackHost& host, const std::vector<UserRequest>& workload,
                std::unique_ptr<Policy> policy, std::unique_ptr<Transport> transport,
                const std::vector<wire::ConversationDigest>* digests)
        : host_(host),
          workload_(workload),
          digests_(digests),
          policy_(std::move(policy)),
          transport_(std::move(transport)) {}

    void start(std::size_t user) override {
        FlightRef f(new Flight(user));
        flights_[user] = f;
        f->run = policy_->begin(workload_[user], host_.now());
        step(f, f->run->next(host_.now(), nullptr));
    }

    void abandon(std::size_t user) override {
        auto it = flights_.find(user);
        if (it == flights_.end()) return;
        auto f = it->second;
        flights_.erase(it);
        land(*f);
    }

    void stop() override {
        auto flights = in_key_order(flights_);
        flights_.clear();
        for (auto& [user, f] : flights) land(*f);
    }

    void close() override { transport_->close_all(); }

private:
    struct Sent {
        std::uint64_t id;  // ours: the callbacks are made before send() returns the handle
        std::uint64_t handle = 0;
        Scheduler::TimerId hedge = 0;
    };
    // A user's request in flight, shared by its timers and callbacks: all on the runner's thread
    // (stack.h), so its count is a plain one, not a shared_ptr's atomic one.
    struct Flight : boost::intrusive_ref_counter<Flight, boost::thread_unsafe_counter> {
        std::size_t user;
        std::unique_ptr<PolicyRun> run;
        Scheduler::TimerId timer = 0;  // the policy's wait
        std::vector<Sent> sent;        // attempts in flight
        std::optional<AttemptResult> last;
        // The request as sent, made at its first attempt: a retry sends the same one, only
        // the model following the provider (outgoing_chat).
        std::optional<ChatToSend> request;
        bool done = false;
        explicit Flight(std::size_t u) : user(u) {}
    };
    using FlightRef = boost::intrusive_ptr<Flight>;

    // The request is over for this stack: nothing of it may still call back.
    void land(Flight& f) {
        f.done = true;
        host_.scheduler().cancel(f.timer);
        for (const auto& s : f.sent) {
            host_.scheduler().cancel(s.hedge);
            transport_->abandon(s.handle);
        }
        f.sent.clear();
    }

    void finish(const FlightRef& f, UserRecord::Outcome outcome, const std::string& text,
                int provider) {
        flights_.erase(f->user);
        land(*f);
        host_.finish(f->user, outcome, text, provider);
    }

    void step(const FlightRef& f, const Step& s) {
        if (f->done) return;
        switch (s.action) {
            case Step::Action::give_up:
                return finish(f, UserRecord::Outcome::failed, "", -1);
            case Step::Action::await_attempts:
                if (f->sent.empty()) return finish(f, UserRecord::Outcome::failed, "", -1);
                return;
            case Step::Action::serve_cached:
                return finish(f, UserRecord::Outcome::answered, s.cached, UserRecord::kFromCache);
            case Step::Action::wait:
                f->timer = host_.scheduler().after(s.delay, [this, f] {
                    if (f->done) return;
                    step(f, f->run->next(host_.now(), f->last ? &*f->last : nullptr));
                });
                return;
            case Step::Action::attempt:
                return send(f, s);
        }
    }

    void send(const FlightRef& f, const Step& s) {
        const auto& request = workload_[f->user];
        const auto& address = transport_->providers()[s.provider];
        host_.attempted(f->user);
        std::size_t provider = s.provider;
        std::uint64_t id = ++sent_;
        f->sent.push_back({id});
        if (f->request) {
            f->request->chat.model = address.model;
        } else if (digests_ != nullptr) {
            auto& to_send = f->request.emplace();  // made in place: nothing of it moved
            make_outgoing_chat(to_send.chat, request, address.model, (*digests_)[f->user]);
            to_send.text_of = &request;
        } else {
            f->request = ChatToSend{outgoing_chat(request, address.model)};
        }
        f->sent.back().handle = transport_->send_chat(
            provider, *f->request, s.timeout, [this, f, provider, id](AttemptResult&& r) {
                if (f->done) return;
                forget(*f, id);
                r.provider = provider;
                if (r.kind == AttemptResult::Kind::answer && !policy_->accepts(r))
                    r.kind = AttemptResult::Kind::broken_stream;
                if (r.kind == AttemptResult::Kind::answer) {
                    f->run->answered(host_.now(), provider, r.text);
                    return finish(f, UserRecord::Outcome::answered, r.text,
                                  static_cast<int>(provider));
                }
                f->last = std::move(r);
                step(f, f->run->next(host_.now(), &*f->last));
            });
        if (s.hedge_after > Duration::zero()) {
            f->sent.back().hedge = host_.scheduler().after(s.hedge_after, [this, f, id] {
                if (f->done) return;
                auto it = std::find_if(f->sent.begin(), f->sent.end(),
                                       [id](const Sent& x) { return x.id == id; });
                if (it == f->sent.end()) return;
                it->hedge = 0;
                step(f, f->run->hedge(host_.now()));
            });
        }
    }

    // An attempt came back: it is no longer in flight, and its hedge timer goes.
    void forget(Flight& f, std::uint64_t id) {
        auto it =
            std::find_if(f.sent.begin(), f.sent.end(), [id](const Sent& x) { return x.id == id; });
        if (it == f.sent.end()) return;
        host_.scheduler().cancel(it->hedge);
        f.sent.erase(it);
    }

    StackHost& host_;
    const std::vector<UserRequest>& workload_;
    const std::vector<wire::ConversationDigest>* digests_;  // by user; null: none made
    std::unique_ptr<Policy> policy_;
    std::unique_ptr<Transport> transport_;
    Keyed<std::size_t, FlightRef> flights_;
    std::uint64_t sent_ = 0;
};

}  // namespace

std::unique_ptr<Stack> make_policy_stack(StackHost& host, const std::vector<UserRequest>& workload,
                                         std::unique_ptr<Policy> policy,
                                         std::unique_ptr<Transport> transport,
                                         const std::vector<wire::ConversationDigest>* digests) {
    return std::make_unique<PolicyStack>(host, workload, std::move(policy), std::move(transport),
                                         digests);
}

// kind = "builtin": a built-in policy (harness/policies/) over the client's routes.
std::unique_ptr<Stack> make_builtin_stack(StackSetup setup, StackHost& host) {
    auto policy = make_policy(setup.client.params, setup.traits,
                              hash64(setup.client.name, setup.scenario.seed),
                              setup.scenario.workload.deadline);
    return make_policy_stack(host, setup.workload, std::move(policy),
                             host.connect(std::move(setup.addresses)), setup.digests);
}

}  // namespace brownout::harness
