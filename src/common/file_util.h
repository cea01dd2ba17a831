// File helpers for state that must never be half-written or readable by others.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "common/status.h"

namespace confcom {

// Creates `path` and its missing parents (parents with mode 0755, `path` with `mode`).
// If `path` exists it must be a directory; its mode is left as it is.
Status MakeDirs(const std::string& path, mode_t mode);

// Creates `path` (and parents) if needed and makes sure it is a directory with exactly
// `mode` (tightening it with chmod if it was looser). Used for the 0700 state dir.
Status EnsurePrivateDir(const std::string& path, mode_t mode = 0700);

// Writes `data` to `path` atomically: a temporary file in the same folder, created with
// `mode`, written, fsync'ed, renamed over `path`, then the folder fsync'ed. On any failure
// the temporary file is removed and `path` is untouched.
Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode = 0600);

// Reads a whole file, refusing files larger than `max_size` bytes.
Result<std::string> ReadFile(const std::string& path, size_t max_size = 16 << 20);

// Permission bits (st_mode & 07777) of `path`, or NotFound.
Result<mode_t> FileMode(const std::string& path);

bool PathExists(const std::string& path);

// "0600" style.
std::string ModeString(mode_t mode);

}  // namespace confcom
