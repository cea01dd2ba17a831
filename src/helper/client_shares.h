// Fair shares of a server's connections: each client may hold `share` connections, then
// `refusal_slots` more that are only answered BUSY; beyond those, its connections are closed
// at once. One client therefore never holds more than share + refusal slots, and never locks
// the others out. A client is whatever Key identifies it: the server's is ClientKey
// (peer_identity.h), the peer's pod or else its uid (ClientShares).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "helper/peer_identity.h"

namespace confcom::helper {

// Where a new connection falls in its client's share.
enum class ShareAdmission {
  kWithinShare,  // serve it
  kRefusalSlot,  // over the share: answer it BUSY, with a short deadline
  kClosed,       // over the share and its refusal slots: close it at once (nothing counted)
};

// Thread safety: every method may be called from any thread (one mutex).
template <typename Key>
class ConnectionShares {
 public:
  ConnectionShares(size_t share, size_t refusal_slots)
      : share_(share), refusal_slots_(refusal_slots) {}

  // Counts one more connection of `client` and says where it falls; kClosed counts nothing.
  ShareAdmission Admit(const Key& client) {
    std::lock_guard<std::mutex> lock(mu_);
    Held& held = held_[client];
    if (held.within_share < share_) {
      ++held.within_share;
      return ShareAdmission::kWithinShare;
    }
    if (held.in_refusal_slots < refusal_slots_) {
      ++held.in_refusal_slots;
      return ShareAdmission::kRefusalSlot;
    }
    return ShareAdmission::kClosed;
  }

  // Gives back a connection that Admit() counted as `admission` (kClosed: nothing to give back).
  void Release(const Key& client, ShareAdmission admission) {
    if (admission == ShareAdmission::kClosed) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = held_.find(client);
    if (it == held_.end()) return;
    if (admission == ShareAdmission::kRefusalSlot) {
      --it->second.in_refusal_slots;
    } else {
      --it->second.within_share;
    }
    if (it->second.within_share == 0 && it->second.in_refusal_slots == 0) held_.erase(it);
  }

  // Clients holding at least one connection (a client's entry goes with its last connection).
  size_t clients() const {
    std::lock_guard<std::mutex> lock(mu_);
    return held_.size();
  }
  size_t share() const { return share_; }
  size_t refusal_slots() const { return refusal_slots_; }

 private:
  struct Held {
    size_t within_share = 0;
    size_t in_refusal_slots = 0;
  };
  const size_t share_;
  const size_t refusal_slots_;
  mutable std::mutex mu_;
  std::unordered_map<Key, Held> held_;
};

// Shares keyed by the peer's pod, or its uid outside pods (PeerIdentifier).
using ClientShares = ConnectionShares<ClientKey>;

}  // namespace confcom::helper
