// Times as text: the one RFC 3339 formatter the project uses (UTC, whole seconds, 'Z').
#pragma once

#include <ctime>
#include <string>

namespace confcom {

// "2030-01-01T00:00:00Z" for a time in seconds since 1970 (UTC).
std::string FormatRfc3339(std::time_t t);

}  // namespace confcom
