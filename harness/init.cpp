#include "harness/init.h"

#include <fmt/format.h>

#include <ostream>
#include <vector>

#include "core/error.h"
#include "core/text.h"
#include "harness/serve.h"

namespace brownout::harness {
namespace {

struct Starter {
    const char* name;
    const char* template_file;  // in init/
    const char* written_as;
    const char* client;  // the [[clients]] table
    const char* comment;
};

constexpr Starter kStarters[] = {
    {"node", "client.mjs", "brownout-client.mjs",
     "[[clients]]\n"
     "name = \"my-stack\"\n"
     "kind = \"stdio\"\n"
     "command = \"node brownout-client.mjs\"   # run brownout from this directory\n"
     "ready_line = true          # it writes {\"ready\":true} once started: start-up is not "
     "scored\n"
     "warmup = 4                 # unscored requests first, so it meets the incident warm\n"
     "providers = [\"primary\", \"fallback\"]",
     "brownout starts `command` once and sends it one JSON request a line;\nit answers one "
     "JSON line each (README \"Client stacks\"). Its own timers (retries,\ntimeouts) run in "
     "scenario time: libfaketime warps its clock (`time = \"wall\"` to\nopt out)."},
    {"python", "client.py", "brownout_client.py",
     "[[clients]]\n"
     "name = \"my-stack\"\n"
     "kind = \"stdio\"\n"
     "command = \"python3 brownout_client.py\"   # run brownout from this directory\n"
     "ready_line = true          # it writes {\"ready\":true} once started: start-up is not "
     "scored\n"
     "warmup = 4                 # unscored requests first, so it meets the incident warm\n"
     "providers = [\"primary\", \"fallback\"]",
     "brownout starts `command` once and sends it one JSON request a line;\nit answers one "
     "JSON line each (README \"Client stacks\"). Its own timers (retries,\ntimeouts, sleeps) "
     "run in scenario time: libfaketime warps its clock (`time =\n\"wall\"` to opt out)."},
    {"gateway", "gateway.py", "brownout_gateway.py",
     "[[clients]]\n"
     "name = \"my-stack\"\n"
     "kind = \"gateway\"\n"
     "command = \"python3 brownout_gateway.py {port}\"   # yours: LiteLLM, Portkey, … ({port}: a "
     "free port)\n"
     "url = \"http://127.0.0.1:{port}/v1\"     # where brownout sends the users' requests\n"
     "model = \"deepseek-chat\"\n"
     "providers = [\"primary\", \"fallback\"]",
     "brownout starts `command`, waits until `url` accepts connections and\nsends it every "
     "request as an OpenAI chat completions call; ${BROWNOUT_PRIMARY_URL}\nin `headers` is the "
     "primary's address, for a gateway configured per request."},
};

}  // namespace

int init_command(const InitCommand& c, std::ostream& out, std::ostream& err) {
    const Starter* starter = nullptr;
    std::vector<std::string> names;
    for (const auto& s : kStarters) {
        names.emplace_back(s.name);
        if (c.stack == s.name) starter = &s;
    }
    if (starter == nullptr) {
        err << fmt::format("brownout init: --stack {}: one of {}\n", c.stack,
                           fmt::join(names, ", "));
        return 2;
    }
    auto scenario = c.dir / "brownout.toml";
    auto client = c.dir / starter->written_as;
    if (!c.force) {
        for (const auto& f : {scenario, client}) {
            if (std::filesystem::exists(f)) {
                err << fmt::format(
                    "brownout init: {} exists (--force overwrites it); nothing "
                    "written\n",
                    f.string());
                return 2;
            }
        }
    }
    try {
        std::string text = read_text_file((c.templates / "scenario.toml").string());
        // The client comment is indented as TOML comments.
        std::string comment = replace_all(starter->comment, "\n", "\n# ");
        for (auto [key, value] :
             {std::pair<std::string_view, std::string>{"{client}", starter->client},
              {"{client_comment}", comment},
              {"{schema}", c.schema.string()},
              {"{stack}", starter->name},
              {"{file}", "brownout.toml"},
              {"{report}", "brownout-report"}})
            text = replace_all(text, key, value);
        std::filesystem::create_directories(c.dir);
        write_file_atomically(scenario.string(), text);
        write_file_atomically(client.string(),
                              read_text_file((c.templates / starter->template_file).string()));
        std::filesystem::permissions(client,
                                     std::filesystem::perms::owner_exec |
                                         std::filesystem::perms::group_exec |
                                         std::filesystem::perms::others_exec,
                                     std::filesystem::perm_options::add);
    } catch (const std::exception& e) {
        err << "brownout init: " << e.what() << "\n";
        return 2;
    }
    out << fmt::format("wrote {} and {}\n\nnext:\n  cd {}\n  brownout run brownout.toml\n",
                       scenario.string(), client.string(), c.dir.string());
    return 0;
}

}  // namespace brownout::harness
