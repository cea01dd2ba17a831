// The JSON lines a process printed (the kubelet emulator's --json output), consumed in order
// by tests that wait for events such as "registered" or "list".
#pragma once

#include <chrono>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "deviceplugin/sgx/legacy_resources.h"

namespace confcom::testing {

class JsonEvents {
 public:
  using json = nlohmann::json;
  explicit JsonEvents(std::string path) : path_(std::move(path)) {}

  // The next line after the last one returned that `match`es, or nullopt after `timeout`.
  std::optional<json> Wait(const std::function<bool(const json&)>& match,
                           std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      std::vector<json> lines = Read();
      for (; next_ < lines.size(); ++next_) {
        if (match(lines[next_])) return lines[next_++];
      }
      if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  std::vector<json> Read() const {
    std::vector<json> out;
    std::ifstream in(path_);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] != '{') continue;
      auto j = json::parse(line, nullptr, false);
      if (!j.is_discarded()) out.push_back(j);
    }
    return out;
  }
  int Count(const std::function<bool(const json&)>& match) const {
    int n = 0;
    for (const auto& j : Read()) n += match(j) ? 1 : 0;
    return n;
  }

 private:
  std::string path_;
  size_t next_ = 0;
};

// Matches an emulator event of `resource` (by default the EPC resource).
inline std::function<bool(const nlohmann::json&)> EventIs(
    const std::string& event, const std::string& resource = deviceplugin::kEpcResourceName) {
  return [=](const nlohmann::json& j) {
    return j.value("event", "") == event && j.value("resource", "") == resource;
  };
}

}  // namespace confcom::testing
