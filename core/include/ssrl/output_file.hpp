#pragma once
// The one way to write a file the user named (tables, figures, weights, sweep
// folders, Slurm scripts, checkpoints). Policy:
//   - a symbolic link is followed: the file it points to is replaced, the link stays;
//   - a FIFO, device, socket or directory is refused with a message naming it;
//   - the bytes go to a temporary file beside the target, are flushed to disk and
//     renamed over it, so a reader sees the old file or the new one, never half;
//     the temporary file is removed whatever fails;
//   - an existing file keeps its permission bits; a new one gets 0666 less the umask.

#include <string>
#include <string_view>

namespace ssrl {

// The path the bytes will really go to (symbolic links followed), after checking
// that it is, or can become, a regular file. Throws ssrl::Error naming `path`.
// Commands call it before long work so a bad --out fails at once.
std::string check_output_file(const std::string& path);

// Checks that `dir` is a directory or can be created as one (following links),
// and creates it. Throws ssrl::Error naming `dir`.
void prepare_output_dir(const std::string& dir);

// Writes `bytes` to `path` atomically under the policy above. `executable` adds
// the execute bits a new file's read bits allow (scripts).
void write_output_file(const std::string& path, std::string_view bytes, bool executable = false);

}  // namespace ssrl
