#pragma once
// Subcommands of the chiron binary. Each add_*_command registers a CLI11
// subcommand whose callback runs the command and records its exit code.

namespace CLI {
class App;
}

namespace chiron::app {

void add_serve_command(CLI::App& app);  // chiron serve: the whole platform in one process
void add_trace_command(CLI::App& app);  // chiron trace: event log → SVG event plot
void add_demo_command(CLI::App& app);   // chiron demo overlap: compute/I-O overlap on the runtime
void add_ns_command(CLI::App& app);     // chiron ns: the name server (REG/REQ/... over RESP)
void add_chat_command(CLI::App& app);   // chiron chat token: chat session tokens (JWT HS256)
void add_user_command(CLI::App& app);   // chiron user add/list: accounts (prints stream key, push token)
void add_push_command(CLI::App& app);   // chiron push: mirror a project directory into a channel
void add_node_command(CLI::App& app);   // chiron node: cluster daemon (subordination tree, remote kernels)
void add_job_command(CLI::App& app);    // chiron job submit/status/cancel: batch jobs on a node
void add_fluxc_command(CLI::App& app);  // chiron fluxc: compile a Node.js file into fluxions

// Exit code of the subcommand that ran.
int exit_code();
void set_exit_code(int code);

}  // namespace chiron::app
