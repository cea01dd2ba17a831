#include "attest/policy/policy_store.h"

#include "attest/policy/policy_jws.h"

namespace confcom::attest {

std::shared_ptr<const StoredPolicy> MakeStoredPolicy(const Policy& policy, bool is_default) {
  return std::make_shared<const StoredPolicy>(
      StoredPolicy{policy, PolicyHash(policy.text()), is_default});
}

namespace {
std::shared_ptr<const StoredPolicy> DefaultStoredPolicy() {
  // kDefaultSgxPolicy is a constant the policy tests parse; a failure here is a build bug.
  static const std::shared_ptr<const StoredPolicy> stored =
      MakeStoredPolicy(Policy::Parse(kDefaultSgxPolicy).value(), /*is_default=*/true);
  return stored;
}
}  // namespace

InMemoryPolicyStore::InMemoryPolicyStore() : current_(DefaultStoredPolicy()) {}

std::shared_ptr<const StoredPolicy> InMemoryPolicyStore::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

Status InMemoryPolicyStore::Set(const Policy& policy) {
  auto stored = MakeStoredPolicy(policy, /*is_default=*/false);
  std::lock_guard<std::mutex> lock(mu_);
  current_ = std::move(stored);
  return Status::Ok();
}

Status InMemoryPolicyStore::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  current_ = DefaultStoredPolicy();
  return Status::Ok();
}

}  // namespace confcom::attest
