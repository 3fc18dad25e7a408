// The client half of every registered dialect: requests rendered as that API's SDKs send them,
// answers and errors read back — errors classified by status, type and code, never by wording.

#include <catch2/catch.hpp>
#include <set>
#include <type_traits>

#include "wire/answer.h"
#include "wire/common.h"
#include "wire/dialect.h"

using namespace brownout;
using namespace brownout::wire;

namespace {

// What the server half reads from a request the client half rendered (the route carries the
// model and the stream flag for dialects that put them in the URL).
ParseResult parse_sent(const Dialect& d, const ClientRequest& sent) {
    return d.parse_routed(d.route(sent.method, sent.path), sent.body);
}

std::string stream_of(const Dialect& d, const ChatRequest& req, const Completion& c) {
    std::string body;
    for (const auto& f : d.stream_frames(c, req)) body += f.bytes;
    return body;
}

OutgoingChat question(bool stream) {
    OutgoingChat chat;
    chat.model = "m";
    chat.system = "You are a support assistant.";
    chat.prompt = "Where is order 1234?";
    chat.stream = stream;
    return chat;
}

}  // namespace

TEST_CASE("every dialect reads back the request it renders, with the same neutral digest",
          "[wire][client]") {
    std::optional<std::uint64_t> digest;
    for (const auto& info : dialects()) {
        auto d = info.make(info.vendors.front());
        for (bool with_image : {false, true}) {
            auto chat = question(true);
            if (with_image) chat.image_url = "https://example.com/a.png";
            chat.tool = ToolSpec{"lookup_order", {{"order_id", "string"}}};
            auto sent = d->render_chat(chat, "sk-test");
            CHECK(d->route(sent.method, sent.path).target == Route::Target::chat);
            auto parsed = parse_sent(*d, sent);
            REQUIRE(std::holds_alternative<ChatRequest>(parsed));
            const auto& req = std::get<ChatRequest>(parsed);
            CHECK(req.stream);
            CHECK(req.image_count == (with_image ? 1 : 0));
            REQUIRE(req.tools.size() == 1);
            CHECK(req.tools[0].properties.front().first == "order_id");
            if (!with_image) {
                // The same conversation gives the same digest whichever dialect carried it.
                if (digest) CHECK(req.text_digest == *digest);
                digest = req.text_digest;
            }
        }
    }
}

TEST_CASE("the key goes where each API's SDKs put it", "[wire][client]") {
    auto header = [](const ClientRequest& r, std::string_view name) {
        for (const auto& [k, v] : r.headers) {
            if (k == name) return v;
        }
        return std::string();
    };
    auto openai =
        make_dialect(DialectKind::openai, Vendor::openai)->render_chat(question(false), "k1");
    CHECK(header(openai, "authorization") == "Bearer k1");
    CHECK(header(openai, "x-api-key").empty());
    auto anthropic =
        make_dialect(DialectKind::anthropic, Vendor::anthropic)->render_chat(question(false), "k2");
    CHECK(header(anthropic, "x-api-key") == "k2");
    CHECK(header(anthropic, "anthropic-version") == "2023-06-01");
    CHECK(header(anthropic, "authorization").empty());
}

TEST_CASE("streams of every dialect are read back into the answer text", "[wire][client]") {
    for (const auto& info : dialects()) {
        auto d = info.make(info.vendors.front());
        auto req = std::get<ChatRequest>(parse_sent(*d, d->render_chat(question(true), "")));
        auto c = generate_answer(1, req, {6, 6}, true, "id", 0);
        auto read = d->read_answer(true, stream_of(*d, req, c), true);
        CHECK_FALSE(read.broken);
        CHECK(read.text == c.text());
        CHECK(verify_answer(read.text, req) == Verdict::ok);
        // Cut mid-way (the connection ended before the body did): broken.
        std::string full = stream_of(*d, req, c);
        CHECK(d->read_answer(true, full.substr(0, full.size() / 2), false).broken);
    }
}

TEST_CASE("an error sent in-band breaks a stream", "[wire][client]") {
    auto openai = make_dialect(DialectKind::openai, Vendor::openai);
    CHECK(openai->read_answer(true, "data: {\"error\":{\"message\":\"boom\"}}\n\n", true).broken);
    auto anthropic = make_dialect(DialectKind::anthropic, Vendor::anthropic);
    CHECK(anthropic
              ->read_answer(true,
                            "event: error\ndata: "
                            "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
                            "\"message\":\"Overloaded\"}}\n\n",
                            true)
              .broken);
    // Each dialect's own in-band error frame, as the server half renders it.
    for (const auto& info : dialects()) {
        auto d = info.make(info.vendors.front());
        CHECK(d->read_answer(true, d->stream_error_frame(d->status_error(503, "m")), true).broken);
    }
}

TEST_CASE("a stream that ends cleanly without [DONE] is accepted, as the SDKs do",
          "[wire][client]") {
    auto openai = make_dialect(DialectKind::openai, Vendor::openai);
    auto req =
        std::get<ChatRequest>(openai->parse_chat(openai->render_chat(question(true), "").body));
    auto c = generate_answer(1, req, {6, 6}, true, "id", 0);
    std::string full = stream_of(*openai, req, c);
    full.resize(full.size() - std::string("data: [DONE]\n\n").size());
    auto read = openai->read_answer(true, full, true);
    CHECK_FALSE(read.broken);
    CHECK(verify_answer(read.text, req) == Verdict::ok);
}

TEST_CASE("non-streamed answers and tool calls are read; a cut JSON body is broken",
          "[wire][client]") {
    auto openai = make_dialect(DialectKind::openai, Vendor::openai);
    CHECK(
        openai->read_answer(false, R"({"choices":[{"message":{"content":"hello"}}]})", true).text ==
        "hello");
    CHECK(
        openai
            ->read_answer(
                false,
                R"({"choices":[{"message":{"content":null,"tool_calls":[{"function":{"arguments":"{\"a\":1}"}}]}}]})",
                true)
            .text == "{\"a\":1}");
    CHECK(openai->read_answer(false, R"({"choices":[{"mess)", true).broken);
    auto anthropic = make_dialect(DialectKind::anthropic, Vendor::anthropic);
    CHECK(
        anthropic->read_answer(false, R"({"content":[{"type":"text","text":"hi"}]})", true).text ==
        "hi");
}

TEST_CASE("errors are classified by status, type and code — a reworded message changes nothing",
          "[wire][client]") {
    struct Case {
        DialectKind kind;
        Vendor vendor;
    };
    for (auto [kind, vendor] :
         {Case{DialectKind::openai, Vendor::openai}, Case{DialectKind::openai, Vendor::deepseek},
          Case{DialectKind::anthropic, Vendor::anthropic},
          Case{DialectKind::ollama, Vendor::ollama}, Case{DialectKind::gemini, Vendor::google}}) {
        auto d = make_dialect(kind, vendor);
        INFO(to_string(kind) << " / " << to_string(vendor));
        auto classify = [&](ApiError e) {
            auto as_sent = d->read_error(e.status, d->error_body(e, "req_1")).klass;
            e.message = "something else entirely";
            CHECK(d->read_error(e.status, d->error_body(e, "req_1")).klass == as_sent);
            return as_sent;
        };
        CHECK(classify(d->unknown_model("nope")) == ErrorClass::unsupported);
        for (auto feature : {"vision", "tools", "stream"})
            CHECK(classify(d->feature_unsupported(feature, "m")) == ErrorClass::unsupported);
        CHECK(classify(d->status_error(401, "m")) == ErrorClass::auth);
        CHECK(classify(d->status_error(429, "m")) == ErrorClass::rate_limited);
        CHECK(classify(d->status_error(503, "m")) == ErrorClass::overloaded);
        CHECK(classify(d->status_error(500, "m")) == ErrorClass::server_error);
    }
}

TEST_CASE(
    "SSE events are split as the clients read them: names, data lines joined, comments "
    "and a cut last event left out",
    "[wire][sse]") {
    std::string body =
        "event: message_start\ndata: {\"a\":1}\n\n"  // one data line, named
        ": keep-alive\n\n"                           // a comment: no event
        "data: {\"b\":\ndata: 2}\n\n"                // two data lines, joined
        "data: \ndata: {\"c\":3}\n\n"                // an empty first line
        "data: {\"d\":4}\ndata: \n\n"                // an empty last line
        "data: {\"cut\"";                            // the stream was cut here
    std::vector<std::pair<std::string, std::string>> seen;
    brownout::wire::detail::for_each_sse_event(body,
                                               [&](std::string_view name, std::string_view data) {
                                                   seen.emplace_back(name, data);
                                                   return true;
                                               });
    std::vector<std::pair<std::string, std::string>> expected = {
        {"message_start", "{\"a\":1}"}, {"", "{\"b\":2}"}, {"", "{\"c\":3}"}, {"", "{\"d\":4}"}};
    CHECK(seen == expected);

    int calls = 0;
    brownout::wire::detail::for_each_sse_event(body, [&](std::string_view, std::string_view) {
        return ++calls < 2;  // stops when told
    });
    CHECK(calls == 2);
}

namespace {

bool same_request(const ChatRequest& a, const ChatRequest& b) {
    auto tools = [](const ChatRequest& r) {
        std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>> out;
        for (const auto& t : r.tools) out.emplace_back(t.name, t.properties);
        return out;
    };
    return a.endpoint == b.endpoint && a.model == b.model && a.stream == b.stream &&
           a.include_usage == b.include_usage && a.max_tokens == b.max_tokens &&
           a.text_digest == b.text_digest && a.image_digest == b.image_digest &&
           a.image_count == b.image_count && a.prompt_tokens == b.prompt_tokens &&
           tools(a) == tools(b) && a.tool_choice == b.tool_choice &&
           a.tool_choice_name == b.tool_choice_name;
}

}  // namespace

TEST_CASE(
    "the simulator's typed request is exactly what each server half parses from the "
    "rendered body, and it declines where the two could differ",
    "[wire][client][typed]") {
    // Every shape the harness sends, and text that JSON escapes or a parser might read otherwise.
    std::vector<OutgoingChat> chats;
    for (bool stream : {false, true}) {
        for (bool image : {false, true}) {
            for (bool tool : {false, true}) {
                for (std::string prompt : {"Where is order 1234?", "",
                                           "quote \" back\\slash\nnew line\ttab \x01 control"}) {
                    auto chat = question(stream);
                    chat.prompt = prompt;
                    if (image) chat.image_url = "https://images.brownout.test/\"a\".png";
                    if (tool) chat.tool = ToolSpec{"lookup_order", {{"order_id", "string"}}};
                    chat.max_tokens = stream ? 1 : 4096;
                    chats.push_back(chat);
                }
            }
        }
    }
    auto declined = chats.front();
    std::vector<OutgoingChat> odd;
    for (int i = 0; i < 6; ++i) odd.push_back(declined);
    odd[0].model = "";                 // the parse refuses it
    odd[1].max_tokens = 0;             // refused too
    odd[2].prompt = "caf\xc3\xa9";     // outside ASCII
    odd[3].system = "\xff not UTF-8";  // rendered as U+FFFD: the digest would differ
    odd[4].tool = ToolSpec{"t", {{"a", "string"}, {"a", "int"}}};  // a repeated property
    odd[5].tool = ToolSpec{"t", {{"a", ""}}};                      // no type: read as string

    int typed_dialects = 0;
    for (const auto& info : dialects()) {
        auto client = info.make(info.vendors.front());
        bool any = false;
        for (const auto& chat : chats) {
            auto typed = client->typed_chat(chat, "sk-test");
            if (!typed) continue;
            any = true;
            auto sent = client->render_chat(chat, "sk-test");
            // The head is made from the key alone (typed_head): each chat's rendered head is
            // held to it, the model, stream and tools of every chat here included.
            CHECK(typed->request.method == sent.method);
            CHECK(typed->request.path == sent.path);
            CHECK(typed->request.headers == sent.headers);
            CHECK(typed->request.body.empty());
            for (auto vendor : info.vendors) {  // every server half of the dialect
                auto server = info.make(vendor);
                auto parsed = parse_sent(*server, sent);
                REQUIRE(std::holds_alternative<ChatRequest>(parsed));
                CHECK(same_request(typed->chat, std::get<ChatRequest>(parsed)));
            }
        }
        if (any) ++typed_dialects;
        for (const auto& chat : odd) CHECK_FALSE(client->typed_chat(chat, "sk-test"));
    }
    CHECK(typed_dialects >= 2);  // OpenAI chat and Anthropic messages
}

namespace {

// A request as `d` reads it, and its answer: a tool call, or text with `token` second.
std::vector<std::unique_ptr<Dialect>> every_vendor() {
    std::vector<std::unique_ptr<Dialect>> out;
    for (const auto& info : dialects()) {
        for (auto vendor : info.vendors) out.push_back(info.make(vendor));
    }
    return out;
}

std::pair<ChatRequest, Completion> answered(const Dialect& d, bool stream, bool tool,
                                            FinishReason finish, const std::string& token) {
    auto parsed = parse_sent(d, d.render_chat(question(stream), ""));
    REQUIRE(std::holds_alternative<ChatRequest>(parsed));
    auto req = std::get<ChatRequest>(parsed);
    if (tool) {
        req.tools.push_back({"lookup_order", {{"order_id", "string"}}});
        req.tool_choice = ToolChoice::required;
    }
    auto c = generate_answer(1, req, {6, 6}, true, "id", 0);
    c.finish = finish;
    if (!tool) c.tokens.insert(1, token);
    return {req, c};
}

}  // namespace

TEST_CASE("a stream's frames say what the client half reads from their bytes, where they say it",
          "[wire][client][typed]") {
    int folded = 0;
    for (const auto& d : every_vendor()) {  // each vendor's server half renders its own
        for (bool usage : {false, true}) {
            for (bool tool : {false, true}) {
                for (auto finish : {FinishReason::stop, FinishReason::length,
                                    FinishReason::insufficient_system_resource}) {
                    for (std::string token : {"plain", "quote \" and \\ and \n", "caf\xc3\xa9"}) {
                        for (std::string id : {"id", "id-caf\xc3\xa9"}) {
                            auto [req, c] = answered(*d, true, tool, finish, token);
                            c.id = id;  // in every chunk's head
                            req.include_usage = usage;
                            auto frames = d->stream_frames(c, req);
                            std::string body;
                            for (const auto& f : frames) {
                                body += f.bytes;
                                CHECK_FALSE(f.read);  // bytes only: a socket reads nothing else
                            }
                            auto reads = d->stream_reads(c, req);
                            // The outline says the reads without the frames, where they say it.
                            auto outline = d->stream_outline(c, req);
                            CHECK(outline.has_value() == reads.has_value());
                            if (!reads) continue;
                            // The same frames, their reads in place of their bytes.
                            REQUIRE(reads->size() == frames.size());
                            for (std::size_t i = 0; i < frames.size(); ++i) {
                                CHECK((*reads)[i].kind == frames[i].kind);
                                CHECK((*reads)[i].tokens == frames[i].tokens);
                                CHECK((*reads)[i].bytes.empty());
                            }
                            auto read = read_frames(*reads);
                            REQUIRE(read);
                            ++folded;
                            // Its frames: no-token frames, a frame a token, no-token frames.
                            int prelude = 0, tokens = 0, epilogue = 0;
                            for (const auto& f : *reads) {
                                if (f.kind == StreamFrame::Kind::token) {
                                    CHECK(f.tokens == 1);
                                    CHECK(epilogue == 0);
                                    ++tokens;
                                } else {
                                    CHECK(f.tokens == 0);
                                    ++(tokens == 0 ? prelude : epilogue);
                                }
                            }
                            REQUIRE(outline);
                            CHECK(outline->prelude == prelude);
                            CHECK(outline->token_frames == tokens);
                            CHECK(outline->epilogue == epilogue);
                            CHECK(outline->read.text == read->text);
                            CHECK(outline->read.finish_reason == read->finish_reason);
                            CHECK(outline->read.broken == read->broken);
                            auto bytes = d->read_answer(true, body, true);
                            CHECK_FALSE(bytes.broken);
                            CHECK(read->text == bytes.text);
                            CHECK(read->finish_reason == bytes.finish_reason);
                            // A token or an id outside ASCII is read from the bytes.
                            CHECK((tool || token.find('\xc3') == std::string::npos));
                            CHECK(id == "id");
                        }
                    }
                }
            }
        }
    }
    CHECK(folded >= 2 * 2 * 3 * 2);  // OpenAI chat: every shape but the one outside ASCII
}

TEST_CASE(
    "a token frame made from its dialect's form is the frame the dialect renders, token "
    "by token",
    "[wire][client][stream]") {
    std::set<DialectKind> formed;
    for (const auto& d : every_vendor()) {
        for (bool usage : {false, true}) {
            for (bool tool : {false, true}) {
                for (std::string token : {"plain", "quote \" and \\ and \n", "caf\xc3\xa9"}) {
                    for (std::string id : {"id", "id-caf\xc3\xa9"}) {
                        auto [req, c] = answered(*d, true, tool, FinishReason::stop, token);
                        c.id = id;
                        req.include_usage = usage;
                        auto form = d->token_frame_form(c, req);
                        if (!form) continue;
                        formed.insert(d->kind());
                        // Every token frame, in order, is the form around the next piece.
                        std::size_t piece = 0;
                        std::vector<std::string> around;  // the frames that are not tokens'
                        bool epilogue = false;  // the tokens come after the prelude, before it
                        for (const auto& f : d->stream_frames(c, req)) {
                            if (f.kind != StreamFrame::Kind::token) {
                                CHECK((f.kind == StreamFrame::Kind::prelude) == (piece == 0));
                                epilogue = epilogue || f.kind == StreamFrame::Kind::epilogue;
                                around.push_back(f.bytes);
                                continue;
                            }
                            CHECK_FALSE(epilogue);
                            REQUIRE(piece < c.tokens.size());
                            CHECK(f.tokens == 1);
                            std::string made;
                            form->append(made, c.tokens[piece++]);
                            CHECK(made == f.bytes);
                        }
                        CHECK(piece == c.tokens.size());
                        // Without its tokens, the stream's other frames, the same.
                        auto without = c;
                        without.tokens = Tokens();
                        std::vector<std::string> rendered;
                        for (const auto& f : d->stream_frames(without, req)) {
                            CHECK(f.kind != StreamFrame::Kind::token);
                            rendered.push_back(f.bytes);
                        }
                        CHECK(rendered == around);
                    }
                }
            }
        }
    }
    // OpenAI chat and Anthropic give it; the others render every frame when the stream starts.
    CHECK(formed == std::set<DialectKind>{DialectKind::openai, DialectKind::anthropic});
}

TEST_CASE("a whole body's read, where a dialect says it, is what the client half reads from it",
          "[wire][client][typed]") {
    int taken = 0;
    for (const auto& d : every_vendor()) {  // each vendor's server half renders its own
        for (bool tool : {false, true}) {
            for (auto finish : {FinishReason::stop, FinishReason::length,
                                FinishReason::insufficient_system_resource}) {
                for (std::string token : {"plain", "quote \" and \\ and \n", "caf\xc3\xa9"}) {
                    for (std::string model : {"", "caf\xc3\xa9-model"}) {
                        auto [req, c] = answered(*d, false, tool, finish, token);
                        if (!model.empty()) c.model = model;
                        auto body = d->completion_body(c);
                        auto read = d->completion_read(c);
                        if (!read) continue;
                        ++taken;
                        auto bytes = d->read_answer(false, body, true);
                        CHECK_FALSE(bytes.broken);
                        CHECK(read->text == bytes.text);
                        CHECK(read->finish_reason == bytes.finish_reason);
                        CHECK((tool || token.find('\xc3') == std::string::npos));
                        CHECK(model.empty());
                    }
                }
            }
        }
    }
    CHECK(taken >= 2 * 3 * 2);  // OpenAI chat: all but the text outside ASCII
}

TEST_CASE("every vendor's answer ids are ASCII, so a read said without one is the same",
          "[wire][client][typed]") {
    // The simulator's provider makes no id for an answer read in process whole (Provider::answer):
    // the reads ask of an id only that it be ASCII, which every id a vendor makes is.
    for (const auto& d : every_vendor()) {
        for (std::uint64_t r : {0ULL, 1ULL, 0x0123456789abcdefULL, ~0ULL, 0x8000000000000001ULL}) {
            CHECK(detail::ascii(d->new_completion_id(r)));  // empty where the API has none
        }
        for (bool stream : {false, true}) {
            for (bool tool : {false, true}) {
                auto [req, c] = answered(*d, stream, tool, FinishReason::stop, "plain");
                c.id = d->new_completion_id(7);
                auto without = c;
                without.id.clear();
                auto read = d->completion_read(c), read_without = d->completion_read(without);
                REQUIRE(read.has_value() == read_without.has_value());
                if (read) {
                    CHECK(read->text == read_without->text);
                    CHECK(read->finish_reason == read_without->finish_reason);
                }
                auto outline = d->stream_outline(c, req);
                auto outline_without = d->stream_outline(without, req);
                REQUIRE(outline.has_value() == outline_without.has_value());
                if (outline) {
                    CHECK(outline->read.text == outline_without->read.text);
                    CHECK(outline->read.finish_reason == outline_without->read.finish_reason);
                    CHECK(outline->prelude == outline_without->prelude);
                    CHECK(outline->token_frames == outline_without->token_frames);
                    CHECK(outline->epilogue == outline_without->epilogue);
                }
            }
        }
    }
}

namespace {

// The same answer with a member outside ASCII put first in each of its JSON objects (a whole
// body, each SSE event, each NDJSON line), which no reader reads: JsonTape declines it, so the
// client half reads it with Boost.JSON.
std::string outside_the_tape(const std::string& body) {
    const std::string extra = "{\"x\":\"caf\xc3\xa9\",";
    std::string out;
    for (std::size_t i = 0; i < body.size(); ++i) {
        bool opens = body[i] == '{' && (i == 0 || body[i - 1] == '\n' ||
                                        (i >= 6 && body.compare(i - 6, 6, "data: ") == 0));
        if (opens) {
            out += extra;
        } else {
            out += body[i];
        }
    }
    return out;
}

}  // namespace

TEST_CASE(
    "read_json_object: the tape first, and what a reader added there before throwing is taken "
    "back before Boost.JSON reads",
    "[wire][client]") {
    using detail::JsonNode;
    ReadAnswer out;
    out.text = "kept ";
    std::vector<bool> on_tape;
    auto read = [&](const auto& o) {
        constexpr bool tape = std::is_same_v<std::decay_t<decltype(o)>, JsonNode::Members>;
        on_tape.push_back(tape);
        out.text += std::string(detail::as_string(detail::at(o, "text")));
        if (tape && detail::contains(o, "throw")) throw std::invalid_argument("for Boost.JSON");
        return 1;
    };
    CHECK(detail::read_json_object(R"({"text":"a"})", out, read) == 1);
    CHECK(on_tape == std::vector<bool>{true});
    CHECK(detail::read_json_object(R"({"text":"b","throw":1})", out, read) == 1);
    CHECK(on_tape == std::vector<bool>{true, true, false});
    CHECK(out.text == "kept ab");  // not "kept abb"
    CHECK(detail::read_json_object(R"({"text":"caf\u00e9"})", out, read) == 1);
    CHECK(on_tape.back() == false);  // a \u escape: the tape declines it
    CHECK(out.text == "kept abcaf\xc3\xa9");
    CHECK_FALSE(detail::read_json_object("[1]", out, read));
    CHECK_FALSE(detail::read_json_object("{", out, read));
    CHECK(on_tape.size() == 4);
}

TEST_CASE("JsonTape or Boost.JSON: every dialect's client half reads an answer the same either way",
          "[wire][client]") {
    int read = 0;
    for (const auto& d : every_vendor()) {
        for (bool stream : {false, true}) {
            for (bool tool : {false, true}) {
                for (auto finish : {FinishReason::stop, FinishReason::length}) {
                    for (std::string token : {"plain", "quote \" and \\ and \n", "caf\xc3\xa9"}) {
                        auto [req, c] = answered(*d, stream, tool, finish, token);
                        auto body = stream ? stream_of(*d, req, c) : d->completion_body(c);
                        auto forced = outside_the_tape(body);
                        REQUIRE(forced != body);
                        for (bool complete : {true, false}) {
                            auto on_tape = d->read_answer(stream, body, complete);
                            auto boost = d->read_answer(stream, forced, complete);
                            CHECK(on_tape.broken == boost.broken);
                            CHECK(on_tape.text == boost.text);
                            CHECK(on_tape.finish_reason == boost.finish_reason);
                            if (complete && !on_tape.broken && !on_tape.text.empty()) ++read;
                        }
                    }
                }
            }
        }
    }
    CHECK(read >= 5 * 2 * 2 * 2 * 3);  // every dialect, whole and streamed, with a tool or text
}

TEST_CASE("an error's read, where a dialect says it, is what the client half reads from its body",
          "[wire][client][typed]") {
    int taken = 0;
    for (const auto& d : every_vendor()) {  // each vendor's server half renders its own
        std::vector<ApiError> errors;
        for (int status : {400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 504, 529})
            errors.push_back(d->status_error(status, "m"));
        errors.push_back(d->unknown_model("m"));
        errors.push_back(d->feature_unsupported("vision", "m"));
        errors.push_back(d->rate_limited("m", true, 1000, 1200, 2.5));
        errors.push_back(d->rate_limited("m", false, 60, 61, 0.5));
        // A scenario's own wording (faults' error_type, code and message), an empty type, and
        // text outside ASCII.
        errors.push_back({503, "server_busy", "busy_now", "", "Server busy, please try again"});
        errors.push_back({500, "", "", "", "no type"});
        errors.push_back({503, "caf\xc3\xa9_error", "caf\xc3\xa9", "", "caf\xc3\xa9"});
        // A code outside ASCII: OpenAI's body carries it (read from the bytes), Anthropic's none.
        errors.push_back({429, "rate_limit_error", "caf\xc3\xa9", "", "slow down"});
        for (const auto& e : errors) {
            auto read = d->error_read(e);
            if (!read) continue;
            ++taken;
            auto bytes = d->read_error(e.status, d->error_body(e, "req_1"));
            CHECK(read->status == bytes.status);
            CHECK(read->type == bytes.type);
            CHECK(read->code == bytes.code);
            CHECK(read->klass == bytes.klass);
            CHECK(read->retry_seconds == bytes.retry_seconds);
            CHECK(e.type.find('\xc3') == std::string::npos);  // read from the bytes
            CHECK((read->code.empty() || e.code.find('\xc3') == std::string::npos));
        }
    }
    // OpenAI chat (OpenAI, DeepSeek) and Anthropic: every error but the one outside ASCII.
    CHECK(taken >= 3 * 20);
}
