// File helpers for state that must never be half-written or readable by others. Errors of
// system calls are IoError naming the call and the path (Status::FromErrno). Thread-safe as
// the file system is: the functions keep no state of their own.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "common/status.h"

namespace confcom {

// Creates `path` and its missing parents (parents with mode 0755, `path` with `mode`).
// If `path` exists it must be a directory (else AlreadyExists); its mode is left as it is.
// InvalidArgument for an empty path.
Status MakeDirs(const std::string& path, mode_t mode);

// Creates `path` (and parents) if needed and makes sure it is a directory with exactly
// `mode` (tightening it with chmod if it was looser). Used for the 0700 state dir.
Status EnsurePrivateDir(const std::string& path, mode_t mode = 0700);

// Writes `data` to `path` atomically: a temporary file in the same folder, created with
// `mode`, written, fsync'ed, renamed over `path`, then the folder fsync'ed. On any failure
// the temporary file is removed and `path` is untouched.
Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode = 0600);

// Reads a whole file. NotFound when it does not exist; InvalidArgument for a file that is not
// a regular file or is larger than `max_size` bytes.
Result<std::string> ReadFile(const std::string& path, size_t max_size = 16 << 20);

// Permission bits (st_mode & 07777) of `path`, or NotFound.
Result<mode_t> FileMode(const std::string& path);

// Whether anything is at `path`, a dangling symlink included (lstat).
bool PathExists(const std::string& path);

// "0600" style.
std::string ModeString(mode_t mode);

}  // namespace confcom
