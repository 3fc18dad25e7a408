#include "mockprovider/provider.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstring>
#include <ctime>

#include "core/error.h"
#include "core/random.h"
#include "core/text.h"

namespace brownout::mock {
namespace {

using faults::ConnectionAction;
using namespace std::literals;

std::string cloudflare_page(int status) {
    std::string_view title = status == 502   ? "502 Bad Gateway"
                             : status == 504 ? "504 Gateway Time-out"
                                             : "520 Web server is returning an unknown error";
    return fmt::format(
        "<html>\r\n<head><title>{0}</title></head>\r\n<body>\r\n<center><h1>{0}</h1></"
        "center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n",
        title);
}

// A fault's own wording of an error (a phase's `message`, `type`, `code`) over the dialect's.
void reword(wire::ApiError& e, const faults::Rejection& r) {
    if (!r.error_type.empty()) e.type = r.error_type;
    if (!r.code.empty()) e.code = r.code;
    if (!r.message.empty()) e.message = r.message;
    if (!r.param.empty()) e.param = r.param;
}

}  // namespace

std::string request_api_key(std::string_view x_api_key, std::string_view x_goog_api_key,
                            std::string_view target) {
    if (!x_api_key.empty()) return std::string(x_api_key);
    if (!x_goog_api_key.empty()) return std::string(x_goog_api_key);
    return query_parameter(target, "key");
}

bool ProviderConfig::has_feature(std::string_view f) const {
    return contains(features, f);
}

bool ProviderConfig::serves_model(std::string_view m) const {
    return contains(models, m);
}

std::string_view reason_phrase(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 402:
            return "Payment Required";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 409:
            return "Conflict";
        case 413:
            return "Payload Too Large";
        case 422:
            return "Unprocessable Entity";
        case 429:
            return "Too Many Requests";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        case 520:
            return "Unknown Error";
        case 529:
            return "Site Overloaded";
        default:
            return "Unknown";
    }
}

const std::string& http_date_now() {
    thread_local std::time_t cached_second = 0;
    thread_local std::string cached;
    std::time_t now = std::time(nullptr);
    if (now != cached_second) {
        std::tm tm{};
        gmtime_r(&now, &tm);
        char buf[64];
        std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        cached = buf;
        cached_second = now;
    }
    return cached;
}

Provider::Provider(ProviderConfig config, Scheduler& scheduler, AttemptJournal& journal,
                   Metrics& metrics)
    : config_(std::move(config)),
      dialect_(wire::make_dialect(config_.dialect, config_.vendor)),
      scheduler_(scheduler),
      threaded_(scheduler.threaded()),
      journal_(journal),
      metrics_(metrics),
      epoch_unix_(static_cast<std::int64_t>(std::time(nullptr)) -
                  static_cast<std::int64_t>(to_seconds(scheduler.now()))),
      engine_(config_.phases, config_.seed, config_.id, config_.horizon),
      capacity_(config_.capacity.queue),
      network_rng_(RandomStream::derive(config_.seed, "network/" + config_.id)),
      limits_(config_.rate_limits.requests_per_minute, config_.rate_limits.tokens_per_minute),
      throttles_(scheduler.time_scale()) {
    Metrics::Labels labels{{"provider", config_.id}};
    counters_.in_flight = &metrics_.series(metric::in_flight, labels);
    counters_.active_streams = &metrics_.series(metric::active_streams, labels);
    counters_.connections = &metrics_.series(metric::connections, labels);
    counters_.prompt_tokens =
        &metrics_.series(metric::tokens, {{"provider", config_.id}, {"kind", "prompt"}});
    counters_.completion_tokens =
        &metrics_.series(metric::tokens, {{"provider", config_.id}, {"kind", "completion"}});
    counters_.send_lateness = &metrics_.histogram(metric::send_lateness, labels);
    // Every line a head of this provider writes that a reply's own fields do not: a reply with
    // a length and one without (chunked), both with a processing time, and no extra or limits.
    Reply probe;
    probe.fields.processing = std::chrono::milliseconds(0);
    for (bool with_length : {true, false}) {
        probe.fields.length = with_length ? std::optional<std::size_t>(0) : std::nullopt;
        head_lines(probe, {}, "0", "0", {}, [this](std::string_view name, std::string_view) {
            if (own_headers_.size() <= name.size()) own_headers_.resize(name.size() + 1);
            if (!own_header(name)) own_headers_[name.size()].emplace_back(name);
        });
    }
}

bool Provider::own_header(std::string_view name) const {
    // By length first: a client's names (retry-after, x-should-retry) meet one or two of ours.
    return name.size() < own_headers_.size() && contains(own_headers_[name.size()], name);
}

void Provider::set_planner(Planner planner) {
    std::lock_guard lock(mutex_);
    planner_ = std::move(planner);
}

void Provider::start_attempt(const IncomingRequest& in, Attempt& a) {
    a.seq = journal_.next_seq();
    a.provider = config_.id;
    a.connection = in.connection;
    a.at = scheduler_.now();
    a.retry_count = in.retry_count.value_or(-1);
    // Its text only where something reads it: a socket's head, and the journal's readers. An
    // attempt in process that no one reads the text of has none (its request id is made from its
    // seq where a head or an error body names it: request_id()).
    a.has_text = !in.reads || journal_.keeps_text();
    if (a.has_text) {
        a.method = in.method;
        a.path = std::string(strip_query(in.target));
        a.request_id = made_request_id(a.seq);
    }
}

std::string_view Provider::request_id(const Attempt& a, std::string& room) const {
    if (!a.request_id.empty()) return a.request_id;
    room = made_request_id(a.seq);
    return room;
}

std::string Provider::made_request_id(std::uint64_t seq) const {
    return dialect_->new_request_id(hash_combine(config_.seed, seq));
}

std::string Provider::error_body(const wire::ApiError& e, const Attempt& a) const {
    std::string room;
    return dialect_->error_body(e, request_id(a, room));
}

std::string IncomingRequest::client_identity() const {
    if (!api_key.empty()) return "key:" + api_key;
    if (!authorization.empty()) return "key:" + authorization;
    return "peer:" + peer;
}

bool Provider::authorized(const IncomingRequest& in) const {
    if (config_.api_key.empty()) return true;
    if (in.api_key == config_.api_key) return true;
    const std::string_view auth = in.authorization;  // "Bearer <key>", without making it
    return auth.size() == 7 + config_.api_key.size() && auth.starts_with("Bearer ") &&
           auth.ends_with(config_.api_key);
}

Reply Provider::handle(const IncomingRequest& in) {
    Reply reply;
    start_attempt(in, reply.attempt);
    std::string_view path = strip_query(in.target);
    std::optional<wire::Route> routed;  // unless the request comes with its route
    const wire::Route& route =
        in.route != nullptr ? *in.route : routed.emplace(dialect_->route(in.method, in.target));
    switch (route.target) {
        case wire::Route::Target::chat:
            handle_chat(in, route, reply);
            break;
        case wire::Route::Target::models:
        case wire::Route::Target::model:
            handle_models(in, route, reply);
            break;
        case wire::Route::Target::method_not_allowed:
            error_reply(dialect_->method_not_allowed(in.method, path), reply, false);
            break;
        case wire::Route::Target::not_found:
            error_reply(dialect_->not_found(in.method, path), reply, false);
            break;
    }
    write_head(reply, in.reads);
    return reply;
}

Reply Provider::error_reply(const wire::ApiError& error, const IncomingRequest& in, bool close) {
    Reply reply;
    start_attempt(in, reply.attempt);
    error_reply(error, reply, close);
    write_head(reply, in.reads);
    return reply;
}

void Provider::error_reply(const wire::ApiError& error, Reply& reply, bool close) {
    reply.body = error_body(error, reply.attempt);
    reply.fields.set(error.status, dialect_->json_content_type(), reply.body.size());
    reply.close = close;
    reply.attempt.status = error.status;
}

void Provider::handle_models(const IncomingRequest& in, const wire::Route& route, Reply& reply) {
    if (!authorized(in)) return rejection({.status = 401}, nullptr, reply, in.reads);
    std::vector<wire::ModelInfo> models;
    std::string owner(dialect_->models_owner());
    for (std::size_t i = 0; i < config_.models.size(); ++i) {
        models.push_back(
            {config_.models[i], 1715367049 + static_cast<std::int64_t>(i) * 86400, owner});
    }
    if (route.target == wire::Route::Target::model) {
        const std::string& id = route.model;
        auto it = std::find_if(models.begin(), models.end(),
                               [&](const wire::ModelInfo& m) { return m.id == id; });
        if (it == models.end()) {
            wire::ApiError e = dialect_->unknown_model(id);
            e.status = 404;
            return rejection(
                {.status = 404, .error_type = e.type, .code = e.code, .message = e.message},
                nullptr, reply, in.reads);
        }
        reply.body = dialect_->model_body(*it);
    } else {
        reply.body = dialect_->models_body(models);
    }
    reply.fields.set(200, dialect_->json_content_type(), reply.body.size());
    reply.attempt.status = 200;
}

void Provider::handle_chat(const IncomingRequest& in, const wire::Route& route, Reply& reply) {
    if (!authorized(in)) return rejection({.status = 401}, nullptr, reply, in.reads);
    // A request handed over as a value (the simulator's) is read where it is, not copied, and no
    // room is made for a parse (GCC 12 zeroes an empty optional's whole room).
    if (in.typed != nullptr) return handle_chat_request(in, *in.typed, reply);
    auto parsed = dialect_->parse_routed(route, in.body);
    if (auto* error = std::get_if<wire::ApiError>(&parsed))
        return error_reply(*error, reply, false);
    handle_chat_request(in, std::get<wire::ChatRequest>(parsed), reply);
}

void Provider::handle_chat_request(const IncomingRequest& in, const wire::ChatRequest& request,
                                   Reply& reply) {
    Attempt& attempt = reply.attempt;
    if (attempt.has_text) attempt.model = request.model;
    attempt.stream = request.stream;
    attempt.prompt_tokens = request.prompt_tokens;
    attempt.digest = hash_combine(request.text_digest, request.image_digest);

    auto reject_with = [&](const wire::ApiError& e) {
        return rejection({.status = e.status,
                          .error_type = e.type,
                          .code = e.code,
                          .message = e.message,
                          .param = e.param},
                         &request, reply, in.reads);
    };
    if (!config_.serves_model(request.model))
        return reject_with(dialect_->unknown_model(request.model));
    if (request.max_tokens && *request.max_tokens > config_.max_tokens_cap) {
        return reject_with(
            {400, "invalid_request_error", "", "max_tokens",
             fmt::format(
                 "max_tokens is too large: {}. This model supports at most {} completion tokens.",
                 *request.max_tokens, config_.max_tokens_cap)});
    }
    if (request.stream && !config_.has_feature("stream")) {
        return reject_with(dialect_->feature_unsupported("stream", request.model));
    }

    // A fault forced by the request's header (rare: made only then, a phase is a large value).
    std::unique_ptr<const faults::PhaseSpec> forced;
    if (!in.forced_fault.empty()) {
        try {
            forced = std::make_unique<const faults::PhaseSpec>(
                faults::phase_from_header(in.forced_fault));
        } catch (const Error& e) {
            return reject_with({400, "invalid_request_error", "", "",
                                fmt::format("x-brownout-fault: {}", e.what())});
        }
    }
    faults::RequestFacts facts{
        request.model,
        request.stream,
        request.image_count,
        !request.tools.empty() && request.tool_choice != wire::ToolChoice::none,
        request.prompt_tokens,
        static_cast<int>(request.max_tokens.value_or(config_.answer.max_tokens))};
    std::uint64_t random = hash_combine(config_.seed, attempt.seq);
    // The plan and its shape are made in place, under the lock (a rejection's strings are not
    // moved from one to the next).
    LockWhen lock(threaded_, mutex_);
    // A forced fault is the test's explicit choice for that request: it goes past a throttle.
    // The client's identity is only built once some client has been held to a wait.
    // (No optional rejection is declared on the way of every attempt: GCC 12 zeroes its 272 bytes.)
    bool again = false;
    faults::Plan plan = [&] {
        if (!forced && !throttles_.empty()) {
            // Back before the wait this client was given: rejected again, with what remains.
            if (auto rejection = throttles_.check(in.client_identity(), attempt.at)) {
                again = true;
                return faults::Plan::throttled(std::move(*rejection));
            }
        }
        return planner_ ? planner_(PlanQuery{attempt.at, &request, in.forced_fault})
                        : engine_.decide(attempt.at, facts, forced.get());
    }();
    if (!again) {
        // A forced fault is for that request alone: it throttles only when it says so.
        auto* r = plan.find<faults::Rejection>();
        if (forced && r && !r->enforce_retry_after) r->enforce_retry_after = false;
    }
    // A dialect whose server does not refuse images (Ollama) passes over them instead.
    for (auto& effect : plan.effects) {
        auto* r = std::get_if<faults::Rejection>(&effect);
        if (r && r->unsupported_feature == "vision" && !dialect_->refuses_images_without_vision())
            effect = faults::Ignore{faults::Ignored::images};
    }
    Shape shape = shape_of(plan.effects);  // pointing at the plan's rejection
    if (shape.reject && shape.reject->throttles())
        throttles_.impose(in.client_identity(), attempt.at, *shape.reject);
    std::unique_ptr<const faults::Rejection> limited;  // the provider's own limit's rejection
    if (shape.answers()) {
        // The provider's own limits apply to requests the fault model lets through.
        if (auto rejection = limits_.admit(facts.prompt_tokens + facts.max_tokens, attempt.at)) {
            limited = std::make_unique<const faults::Rejection>(std::move(*rejection));
            shape.reject = limited.get();
            plan.applied.emplace_back("provider_rate_limit");
        }
    }
    faults::LimitSnapshot limits = limits_.snapshot(attempt.at);
    if (shape.limits) limits = *shape.limits;  // a rate_limit phase reports its own buckets
    lock.unlock();
    plan.append_label(attempt.fault);  // an attempt's fault is empty until here
    if (shape.connection != ConnectionAction::none) {
        reply.connection = shape.connection;
        return;
    }
    if (shape.reject) {
        return rejection(*shape.reject, &request, reply, in.reads, rate_limit_headers(limits));
    }
    if (request.image_count > 0 && !shape.ignore_images && !config_.has_feature("vision")) {
        if (dialect_->refuses_images_without_vision())
            return reject_with(dialect_->feature_unsupported("vision", request.model));
        shape.ignore_images = true;  // the model answers from the text alone
    }
    if (!request.tools.empty() && request.tool_choice != wire::ToolChoice::none &&
        !config_.has_feature("tools") && !shape.ignore_tools) {
        return reject_with(dialect_->feature_unsupported("tools", request.model));
    }
    if (shape.ignore_tools || shape.ignore_stream || !shape.substitute_model.empty()) {
        wire::ChatRequest changed = request;  // what the model is asked, as a fault changes it
        if (shape.ignore_tools) changed.tool_choice = wire::ToolChoice::none;
        if (shape.ignore_stream) changed.stream = false;
        if (!shape.substitute_model.empty()) changed.model = shape.substitute_model;
        attempt.stream = changed.stream;
        return answer(changed, shape, reply, random, in.reads, rate_limit_headers(limits));
    }
    return answer(request, shape, reply, random, in.reads, rate_limit_headers(limits));
}

Duration Provider::for_client(Duration scenario_span) const {
    return client_in_scenario_time_ ? scenario_span : scheduler_.to_wall(scenario_span);
}

std::int64_t Provider::client_unix_now() const {
    if (!client_in_scenario_time_) return static_cast<std::int64_t>(std::time(nullptr));
    return epoch_unix_ + static_cast<std::int64_t>(to_seconds(scheduler_.now()));
}

wire::Headers Provider::rate_limit_headers(const faults::LimitSnapshot& limits) const {
    std::vector<wire::RateLimitWindow> windows;
    auto add = [&](std::string_view what, long limit, long remaining, Duration reset) {
        if (limit < 0) return;
        auto wall = for_client(reset);
        auto reset_unix =
            client_unix_now() + static_cast<std::int64_t>(std::max(0.0, to_seconds(wall)) + 0.999);
        windows.push_back({what, limit, remaining, wall, reset_unix});
    };
    add("requests", limits.requests_limit, limits.requests_remaining, limits.requests_reset);
    add("tokens", limits.tokens_limit, limits.tokens_remaining, limits.tokens_reset);
    return dialect_->rate_limit_headers(windows);
}

void Provider::rejection(const faults::Rejection& r, const wire::ChatRequest* request, Reply& reply,
                         bool reads, wire::Headers limits) {
    Attempt& attempt = reply.attempt;
    std::string_view model = request ? std::string_view(request->model) : "";
    std::vector<std::pair<std::string, std::string>> extra;
    // Retry hints are scenario time in the Plan and wall time on the wire: in headers, or, for a
    // dialect that says them in the body (Gemini), in the error (retry_seconds below).
    bool in_headers = r.html || dialect_->retry_hint_in_headers();
    if (!in_headers) {
    } else if (r.retry_after) {
        double seconds = to_seconds(for_client(*r.retry_after));
        extra.emplace_back("retry-after",
                           seconds >= 1 && std::abs(seconds - std::round(seconds)) < 1e-9
                               ? fmt::format("{}", static_cast<long>(std::round(seconds)))
                               : fmt::format("{:.3f}", seconds));
    } else if (!r.retry_after_date.empty()) {
        extra.emplace_back("retry-after", r.retry_after_date);
    }
    if (r.retry_after_ms && in_headers)
        extra.emplace_back("retry-after-ms",
                           fmt::format("{}", to_seconds(for_client(*r.retry_after_ms)) * 1e3));
    if (r.should_retry) extra.emplace_back("x-should-retry", *r.should_retry ? "true" : "false");
    int status = r.status;
    if (auto wait = r.announced_wait()) attempt.retry_after = *wait;
    if (r.html) {
        reply.body = cloudflare_page(status);
        reply.fields.set(status, "text/html", reply.body.size(), std::nullopt, std::move(extra));
    } else if (const bool plain = reads && in_headers && !r.unknown_model &&
                                  r.unsupported_feature.empty() && !r.rate_limit_on_tokens;
               plain && (reply.error_read = known_status_error_read(status, model, r))) {
        // The same plain error as the one before (a busy storm is thousands of them): its read,
        // without wording it again. The body is not written: the client reads this instead.
        status = reply.error_read->status;
        reply.fields.set(status, dialect_->json_content_type(), 0, std::nullopt, std::move(extra));
    } else {
        wire::ApiError e;
        if (r.unknown_model) {
            e = dialect_->unknown_model(model);
        } else if (!r.unsupported_feature.empty()) {
            e = dialect_->feature_unsupported(r.unsupported_feature, model);
        } else if (r.rate_limit_on_tokens) {
            double wait = r.retry_after ? to_seconds(for_client(*r.retry_after)) : 1.0;
            e = dialect_->rate_limited(model, *r.rate_limit_on_tokens, r.rate_limit_value,
                                       r.rate_limit_used, wait);
        } else {
            e = dialect_->status_error(status, model);
        }
        reword(e, r);
        if (!in_headers) {
            if (auto wait = r.retry_after ? r.retry_after : r.retry_after_ms)
                e.retry_seconds = to_seconds(for_client(*wait));
        }
        status = e.status;
        if (reads) {
            if (auto read = dialect_->error_read(e))
                reply.error_read = std::make_shared<const wire::ReadError>(std::move(*read));
        }
        // Kept under the status it is looked for by (the rejection's, which the dialect's error
        // may name otherwise).
        if (plain && reply.error_read) keep_status_error_read(r.status, model, r, reply.error_read);
        if (!reply.error_read) {
            reply.body = error_body(e, attempt);
        }
        reply.fields.set(status, dialect_->json_content_type(), reply.body.size(), std::nullopt,
                         std::move(extra));
    }
    attempt.status = status;
    reply.fields.limits = std::move(limits);
}

bool Provider::StatusErrorRead::matches(int s, std::string_view m,
                                        const faults::Rejection& r) const {
    return status == s && model == m && type == r.error_type && code == r.code &&
           message == r.message && param == r.param;
}

std::shared_ptr<const wire::ReadError> Provider::known_status_error_read(
    int status, std::string_view model, const faults::Rejection& r) {
    LockWhen lock(threaded_, status_read_mutex_);
    if (status_read_ && status_read_->matches(status, model, r)) return status_read_->read;
    return nullptr;
}

void Provider::keep_status_error_read(int status, std::string_view model,
                                      const faults::Rejection& r,
                                      std::shared_ptr<const wire::ReadError> read) {
    LockWhen lock(threaded_, status_read_mutex_);
    status_read_ = StatusErrorRead{status,  std::string(model), r.error_type, r.code, r.message,
                                   r.param, std::move(read)};
}

void Provider::answer(const wire::ChatRequest& request, const Shape& shape, Reply& reply,
                      std::uint64_t random, bool reads, wire::Headers limits) {
    Attempt& attempt = reply.attempt;
    RandomStream rng(random);
    const LatencyModel& lat = config_.latency;
    auto jittered = [&](double seconds) {
        return seconds * (1.0 + lat.jitter * rng.uniform(-1.0, 1.0));
    };
    Duration ttft = from_seconds(std::max(0.0, jittered(to_seconds(lat.ttft) * shape.ttft_factor)));
    double tps = lat.tokens_per_second * shape.token_rate_factor;
    auto gap = [&]() {
        return tps > 0 ? from_seconds(std::max(0.0, jittered(1.0 / tps))) : Duration::zero();
    };

    std::int64_t created = epoch_unix_ + static_cast<std::int64_t>(to_seconds(attempt.at));
    // An answer that arrives as rendered: no fault cuts, holds or spoils its bytes.
    const bool whole = shape.malformed == faults::Malformed::none && !shape.cut_after_bytes &&
                       !shape.hold && !shape.stream_stops_after();
    // One read in process whole is read as the dialect says (completion_read, stream_outline),
    // which holds its text and finish only: its id is made only if its bytes are rendered after
    // all. Every dialect's ids are ASCII, as the reads ask of the head, so an answer without one
    // reads the same (tests/wire/client_half_test.cpp).
    const bool read_whole = reads && whole;
    wire::Completion c = wire::generate_answer(
        config_.seed, request, config_.answer, !shape.ignore_images,
        read_whole ? std::string() : dialect_->new_completion_id(random), created);
    auto give_id = [&] {
        if (c.id.empty()) c.id = dialect_->new_completion_id(random);
    };
    attempt.status = 200;
    if (shape.hold && shape.hold->then == faults::HoldEnd::interrupted) {
        // Generation stops early: the text so far, no verification tag, no tool call.
        c.tool_call.reset();
        c.tokens.truncate(static_cast<std::size_t>(std::max(0, shape.hold->after_tokens)));
        if (!c.tokens.empty() && c.tokens.size() == static_cast<std::size_t>(c.completion_tokens))
            c.tokens.truncate(c.tokens.size() - 1);
        c.completion_tokens = static_cast<int>(c.tokens.size());
        c.finish = wire::FinishReason::insufficient_system_resource;
    }

    c.prompt_eval_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(ttft).count();
    if (!request.stream) {
        Duration generation{};
        for (int i = 0; i < c.completion_tokens; ++i) generation += gap();
        c.eval_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(generation).count();
        reply.delay = ttft + generation;
        if (read_whole) reply.read = dialect_->completion_read(c);
        if (!reply.read) {
            give_id();
            reply.body = dialect_->completion_body(c);
            if (shape.malformed == faults::Malformed::invalid_json)
                reply.body.resize(reply.body.size() / 2);
        }
        reply.fields.set(
            200, dialect_->json_content_type(), reply.body.size(),
            std::chrono::duration_cast<std::chrono::milliseconds>(for_client(reply.delay)));
        if (shape.cut_after_bytes)
            reply.cut_after_bytes = static_cast<std::size_t>(*shape.cut_after_bytes);
        attempt.completion_tokens = c.completion_tokens;
        reply.needs_slot = true;
        if (shape.hold) hold(reply, *shape.hold, false, c.completion_tokens);
        reply.fields.limits = std::move(limits);
        return;
    }

    reply.streaming = true;
    reply.delay = ttft;
    if (tps > 0)  // what the stream's last frame reports; the gaps themselves are drawn below
        c.eval_ns = static_cast<std::int64_t>(c.completion_tokens / tps * 1e9);
    reply.fields.set(200, dialect_->stream_content_type_for(request));
    // A whole stream the client reads in process comes outlined: what the client reads from it,
    // and its frames' gaps and tokens, with no bytes and no frame of the dialect's made only to
    // be read back. Any other is its frames' bytes, cut, stalled or spoiled as the shape says.
    std::optional<wire::StreamOutline> outline;
    if (read_whole) outline = dialect_->stream_outline(c, request);
    if (outline) {
        reply.read = std::move(outline->read);
        // Every frame made in place, empty; the token frames then given their gaps, in order.
        const auto prelude = static_cast<std::size_t>(outline->prelude);
        const auto token_frames = static_cast<std::size_t>(outline->token_frames);
        reply.frames.resize(prelude + token_frames + static_cast<std::size_t>(outline->epilogue));
        for (std::size_t i = prelude; i < prelude + token_frames; ++i) {
            reply.frames[i].gap = gap();
            reply.frames[i].tokens = 1;
        }
    } else {
        give_id();
        // Sent on a socket, a token's frame is made when it is due, where the dialect gives the
        // form: the stream holds its tokens, not every frame's bytes from its start, and the
        // dialect renders only the frames around them (Dialect::token_frame_form).
        std::optional<wire::TokenFrameForm> form;
        if (!reads) form = dialect_->token_frame_form(c, request);
        if (form) reply.tokens = std::exchange(c.tokens, wire::Tokens());
        std::vector<wire::StreamFrame> frames = dialect_->stream_frames(c, request);
        if (form) {  // the token frames in their place, without bytes
            auto after_prelude = std::find_if(frames.begin(), frames.end(), [](const auto& f) {
                return f.kind != wire::StreamFrame::Kind::prelude;
            });
            frames.insert(after_prelude, reply.tokens.size(),
                          wire::StreamFrame{wire::StreamFrame::Kind::token, {}, 1});
        }
        int token = 0;

        // Stream faults cut the frame list after N tokens.
        std::optional<int> cut_at_tokens = shape.stream_stops_after();
        if (shape.malformed == faults::Malformed::truncated_sse)
            cut_at_tokens = c.completion_tokens / 2;
        int tokens_sent = 0;
        bool cut = false;
        std::string next_event;  // the first event not sent, when the stream is cut
        reply.frames.reserve(frames.size() + 1);  // and a last frame a fault may add
        for (auto& frame : frames) {
            if (cut_at_tokens && frame.kind != wire::StreamFrame::Kind::prelude &&
                tokens_sent >= *cut_at_tokens) {
                cut = true;
                next_event = std::move(frame.bytes);
                if (form && frame.kind == wire::StreamFrame::Kind::token)
                    form->append(next_event, reply.tokens[static_cast<std::size_t>(token)]);
                break;
            }
            const bool is_token = frame.kind == wire::StreamFrame::Kind::token;
            Duration g = is_token ? gap() : Duration::zero();
            tokens_sent += frame.tokens;
            if (form && is_token) {
                reply.frames.push_back({g, {}, frame.tokens, token++});
            } else {
                reply.frames.push_back({g, std::move(frame.bytes), frame.tokens});
            }
        }
        reply.token_form = std::move(form);
        if (!cut && shape.malformed == faults::Malformed::missing_done && !reply.frames.empty()) {
            reply.frames.pop_back();  // the [DONE] line, or Anthropic's message_stop
        }
        if (cut) {
            if (shape.stream_failure && tokens_sent >= shape.stream_failure->after_tokens) {
                const faults::Rejection& failure = shape.stream_failure->error;
                wire::ApiError e = dialect_->status_error(failure.status, request.model);
                reword(e, failure);
                reply.frames.push_back({gap(), dialect_->stream_error_frame_for(e, request), 0});
                reply.stream_end = Reply::StreamEnd::clean;
            } else if (shape.stall && tokens_sent >= shape.stall->after_tokens) {
                // A stream form without comments (NDJSON) has no keep-alive: its stall is silent.
                reply.keepalive_bytes = dialect_->keepalive_frame();
                reply.stream_end = shape.stall->keepalive && !reply.keepalive_bytes.empty()
                                       ? Reply::StreamEnd::stall_keepalive
                                       : Reply::StreamEnd::stall_silent;
                reply.keepalive_interval = shape.stall->keepalive_interval;
            } else if (shape.malformed == faults::Malformed::truncated_sse) {
                // Half of the next event, in the dialect's own form, then the connection ends
                // without the chunked terminator.
                std::string partial = next_event.substr(0, next_event.size() / 2);
                reply.frames.push_back({gap(), std::move(partial), 0});
                reply.stream_end = Reply::StreamEnd::cut;
            } else {
                reply.stream_end = Reply::StreamEnd::cut;
            }
        }
    }
    if (shape.cut_after_bytes) {
        reply.cut_after_bytes = static_cast<std::size_t>(*shape.cut_after_bytes);
        reply.stream_end = Reply::StreamEnd::cut;
    }
    attempt.completion_tokens = 0;  // counted by the server as frames go out
    reply.needs_slot = true;
    if (shape.hold) hold(reply, *shape.hold, true, 0);
    reply.fields.limits = std::move(limits);
}

void Provider::hold(Reply& reply, const faults::Hold& h, bool stream, int body_tokens) const {
    // The head goes out at once (chunked), then keep-alives for `wait`, then what `then` says.
    std::vector<PacedFrame> frames;
    std::string keepalive = stream ? dialect_->keepalive_frame() : "\n";
    Duration held{};
    frames.push_back({Duration::zero(), keepalive, 0});
    while (held + h.interval <= h.wait) {
        held += h.interval;
        frames.push_back({h.interval, keepalive, 0});
    }
    Duration rest = h.wait - held + reply.delay;  // the answer's own latency comes after the wait
    bool answers = h.then == faults::HoldEnd::answer || h.then == faults::HoldEnd::interrupted;
    if (!stream) {
        if (answers) frames.push_back({rest, std::move(reply.body), body_tokens});
        reply.body.clear();
        reply.read.reset();
        reply.fields.set(200, dialect_->json_content_type());
        reply.streaming = true;
        reply.stream_end = Reply::StreamEnd::clean;
    } else if (answers) {
        if (!reply.frames.empty()) reply.frames.front().gap += rest;
        for (auto& f : reply.frames) frames.push_back(std::move(f));
    } else {
        reply.stream_end = Reply::StreamEnd::clean;
    }
    if (h.then == faults::HoldEnd::close) {
        frames.push_back({rest, "", 0});  // the close comes when the wait is over
        reply.stream_end = Reply::StreamEnd::cut;
    }
    reply.frames = std::move(frames);
    reply.delay = Duration::zero();
}

namespace {

std::string_view decimal(std::array<char, 24>& text, std::int64_t value) {
    auto [end, ec] = std::to_chars(text.data(), text.data() + text.size(), value);
    return {text.data(), static_cast<std::size_t>(end - text.data())};
}

}  // namespace

template <typename Line>
void Provider::head_lines(const Reply& reply, std::string_view request_id,
                          std::string_view length_digits, std::string_view processing_digits,
                          std::string_view date, Line&& line) const {
    const HeadFields& f = reply.fields;
    line("date", date);
    line("content-type", f.content_type);
    if (f.length) {
        line("content-length", length_digits);
    } else {
        line("transfer-encoding", "chunked");
        line("cache-control", "no-cache");
    }
    line("connection", "keep-alive");
    if (auto name = dialect_->request_id_header(); !name.empty()) line(name, request_id);
    for (const auto& [k, v] : dialect_->common_headers()) line(k, v);
    if (f.processing && !dialect_->processing_header().empty())
        line(dialect_->processing_header(), processing_digits);
    for (const auto& [k, v] : f.extra) line(k, v);
    line("x-brownout-provider", config_.id);
    for (const auto& [k, v] : f.limits) line(k, v);
}

std::string Provider::render_head(const Reply& reply) const {
    // The numbers as text first, then the head's pieces in order, gone through twice: once to
    // size the string, once to fill it. A head is some thirty pieces, and appending them one by
    // one (a call and a capacity check each) was most of what it cost.
    const HeadFields& f = reply.fields;
    std::array<char, 24> status_text{}, length_text{}, processing_text{};
    const std::string_view status_digits = decimal(status_text, f.status);
    const std::string_view length_digits =
        f.length ? decimal(length_text, static_cast<std::int64_t>(*f.length)) : std::string_view();
    const std::string_view processing_digits =
        f.processing ? decimal(processing_text, f.processing->count()) : std::string_view();
    // Read once: both passes must see the same text (the date changes with the second).
    const std::string_view date = http_date_now();
    const std::string_view reason = reason_phrase(f.status);
    std::string id_room;
    const std::string_view id = request_id(reply.attempt, id_room);

    auto pieces = [&](auto&& put) {
        put("HTTP/1.1 "sv);
        put(status_digits);
        put(" "sv);
        put(reason);
        put("\r\n"sv);
        head_lines(reply, id, length_digits, processing_digits, date,
                   [&put](std::string_view name, std::string_view value) {
                       put(name);
                       put(": "sv);
                       put(value);
                       put("\r\n"sv);
                   });
        put("\r\n"sv);
    };
    std::size_t size = 0;
    pieces([&size](std::string_view piece) { size += piece.size(); });
    std::string h(size, '\0');
    char* out = h.data();
    pieces([&out](std::string_view piece) {
        std::memcpy(out, piece.data(), piece.size());
        out += piece.size();
    });
    return h;
}

void Provider::write_head(Reply& reply, bool reads) const {
    if (!reads && reply.fields.status != 0) reply.head = render_head(reply);
}

Provider::HeadReader::HeadReader(const Provider& provider, const Reply& reply)
    : provider_(provider), reply_(reply) {
    const HeadFields& f = reply.fields;
    if (f.length) length_digits_ = decimal(length_, static_cast<std::int64_t>(*f.length));
    if (f.processing) processing_digits_ = decimal(processing_, f.processing->count());
}

std::string_view Provider::HeadReader::operator()(std::string_view name) const {
    if (name == "date") return http_date_now();
    const HeadFields& f = reply_.fields;
    if (name == "content-type") return f.content_type;  // the second line: no other before it
    if (!provider_.own_header(name)) {
        // Only the reply's own fields may carry it, and the head writes them in this order.
        for (const auto& [n, value] : f.extra)
            if (n == name) return value;
        for (const auto& [n, value] : f.limits)
            if (n == name) return value;
        return {};
    }
    if (!gathered_) {
        // The date is left out here (it is the first line: answered above).
        provider_.head_lines(
            reply_, provider_.request_id(reply_.attempt, request_id_), length_digits_,
            processing_digits_, {},
            [this](std::string_view n, std::string_view value) { lines_.emplace_back(n, value); });
        gathered_ = true;
    }
    for (const auto& [n, value] : lines_)
        if (n == name) return value;
    return {};
}

Provider::HeadQuery Provider::head_query(std::span<const std::string_view> names) const {
    if (names.size() > 64) throw Error("a head is read by at most 64 names at once");
    HeadQuery query{names};
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (names[i] != "date" && names[i] != "content-type" && !own_header(names[i]))
            query.own_fields |= std::uint64_t{1} << i;
    }
    return query;
}

void Provider::HeadReader::read(const HeadQuery& query, std::span<std::string_view> values) const {
    const auto names = query.names;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (query.own_fields >> i & 1) {
            values[i] = {};
        } else {
            values[i] = (*this)(names[i]);
        }
    }
    // The first line of each name, as operator() finds it: the extra fields, then the limits.
    std::uint64_t left_to_find = query.own_fields;
    auto take = [&](const wire::Headers& lines) {
        for (const auto& [n, value] : lines) {
            if (left_to_find == 0) return;
            for (std::uint64_t left = left_to_find; left != 0; left &= left - 1) {
                const auto i = static_cast<std::size_t>(std::countr_zero(left));
                if (n != names[i]) continue;
                values[i] = value;  // and the same name's other places, if it is asked twice
                left_to_find &= ~(std::uint64_t{1} << i);
            }
        }
    };
    take(reply_.fields.extra);
    take(reply_.fields.limits);
}

bool Provider::refusing(Duration now) {
    LockWhen lock(threaded_, mutex_);
    return engine_.refusing(now);
}

faults::StatusSnapshot Provider::status(Duration now) {
    std::lock_guard lock(mutex_);
    return faults::status_at(engine_, config_.status_page, now);
}

int Provider::current_limit(Duration now) {
    if (config_.capacity.concurrency <= 0) return 0;
    double factor = engine_.capacity_factor(now);
    return std::max(0, static_cast<int>(std::floor(config_.capacity.concurrency * factor + 1e-9)));
}

Provider::Admission Provider::admit(InlineTask resume) {
    LockWhen lock(threaded_, mutex_);
    if (config_.capacity.concurrency <= 0) return Admission::now;
    auto ticket = next_ticket_++;
    auto admission = capacity_.admit(ticket, current_limit(scheduler_.now()));
    if (admission == Admission::queued) {
        resumes_.emplace(ticket, std::move(resume));
        admitted({}, lock);  // arms a review if a lowered limit holds it back
    }
    return admission;
}

void Provider::release(Duration after) {
    if (config_.capacity.concurrency <= 0) return;
    if (after > Duration::zero()) {
        // The backend keeps generating for a client that is gone: the slot stays busy.
        scheduler_.after(after, [this] { release(); });
        return;
    }
    LockWhen lock(threaded_, mutex_);
    admitted(capacity_.release(current_limit(scheduler_.now())), lock);
}

void Provider::review() {
    LockWhen lock(threaded_, mutex_);
    review_pending_ = false;
    admitted(capacity_.review(current_limit(scheduler_.now())), lock);
}

void Provider::admitted(const std::vector<faults::CapacityModel::Ticket>& tickets, LockWhen& lock) {
    Duration now = scheduler_.now();
    if (!review_pending_ && capacity_.held_back(current_limit(now), config_.capacity.concurrency)) {
        Duration wait = faults::kCapacityReview;
        if (auto boundary = engine_.next_boundary(now)) wait = std::min(wait, *boundary - now);
        review_pending_ = true;
        scheduler_.after(wait, [this] { review(); });
    }
    std::vector<InlineTask> resumes;
    for (auto t : tickets) {
        auto it = resumes_.find(t);
        resumes.push_back(std::move(it->second));
        resumes_.erase(it);
    }
    lock.unlock();
    for (auto& resume : resumes) resume();
}

Provider::Load Provider::load() {
    std::lock_guard lock(mutex_);
    return {capacity_.in_service(), capacity_.waiting(), current_limit(scheduler_.now())};
}

Duration Provider::network_delay() {
    const auto& lat = config_.latency;
    if (lat.rtt <= Duration::zero()) return Duration::zero();
    LockWhen lock(threaded_, network_mutex_);
    return from_seconds(
        std::max(0.0, to_seconds(lat.rtt) * (1.0 + lat.jitter * network_rng_.uniform(-1.0, 1.0))));
}

Duration Provider::network_delay_bound() const {
    const auto& lat = config_.latency;
    if (lat.rtt <= Duration::zero()) return Duration::zero();
    return from_seconds(to_seconds(lat.rtt) * (1.0 + std::abs(lat.jitter))) +
           std::chrono::microseconds(1);
}

Reply Provider::overloaded(Reply original, std::string_view cause, bool reads) {
    faults::Rejection r;
    r.status = config_.capacity.busy_status != 0 ? config_.capacity.busy_status
                                                 : dialect_->overloaded_status();
    Reply reply;
    reply.attempt = std::move(original.attempt);
    Attempt& attempt = reply.attempt;
    attempt.fault =
        attempt.fault.empty() ? std::string(cause) : fmt::format("{}+{}", attempt.fault, cause);
    rejection(r, nullptr, reply, reads);
    write_head(reply, reads);
    return reply;
}

Duration Provider::slot_held_after(const Reply& reply, std::string_view outcome,
                                   Duration took) const {
    bool abandoned = outcome == "client_closed" || outcome == "stalled" || outcome == "cut";
    return abandoned && config_.capacity.abandoned_work_continues ? reply.expected_duration() - took
                                                                  : Duration::zero();
}

void Provider::finish(Reply& reply, std::string_view outcome, Duration took, int tokens_sent) {
    // Completed where it is and handed on: the reply's attempt is spent after this.
    Attempt& a = reply.attempt;
    if (reply.streaming) a.completion_tokens = tokens_sent;
    a.outcome = outcome;
    a.duration = took;
    finish(std::move(a));
}

void Provider::finish(Attempt&& attempt) {
    Metrics::Series* attempts = nullptr;
    {
        LockWhen lock(threaded_, attempts_mutex_);
        // Attempts come in runs of one status and fault (a storm, a quiet hour): the last
        // series is looked at before the table.
        if (last_series_ != nullptr && last_series_->first.first == attempt.status &&
            last_series_->first.second == attempt.fault) {
            attempts = last_series_->second;
        } else {
            std::pair<int, std::string> key{attempt.status, attempt.fault};
            auto it = attempt_series_.find(key);
            if (it == attempt_series_.end()) {
                // The series first: a table entry is never left without one.
                auto* series =
                    &metrics_.series(metric::attempts, {{"provider", attempt.provider},
                                                        {"status", std::to_string(attempt.status)},
                                                        {"fault", attempt.fault}});
                it = attempt_series_.emplace(std::move(key), series).first;
            }
            last_series_ = &*it;
            attempts = it->second;
        }
    }
    attempts->fetch_add(1);
    if (attempt.prompt_tokens > 0 && attempt.status == 200)
        counters_.prompt_tokens->fetch_add(attempt.prompt_tokens);
    if (attempt.completion_tokens > 0)
        counters_.completion_tokens->fetch_add(attempt.completion_tokens);
    journal_.record(std::move(attempt));
}

}  // namespace brownout::mock
