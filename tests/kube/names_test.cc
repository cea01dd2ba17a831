// Kubernetes names (kube/names.h): labels, subdomains and NAMESPACE:NAME references, as the API
// server validates them.
#include "kube/names.h"

#include <gtest/gtest.h>

namespace confcom::kube {
namespace {

TEST(KubeNames, DnsLabels) {
  for (const char* ok : {"a", "0", "kube-system", "sgx-quote-helper", "a1-b2"}) {
    EXPECT_TRUE(IsDnsLabel(ok)) << ok;
  }
  EXPECT_TRUE(IsDnsLabel(std::string(63, 'a')));
  EXPECT_FALSE(IsDnsLabel(std::string(64, 'a')));
  for (const char* bad : {"", "-a", "a-", "A", "a_b", "a.b", "a b", "ä"}) {
    EXPECT_FALSE(IsDnsLabel(bad)) << bad;
  }
}

TEST(KubeNames, DnsSubdomains) {
  for (const char* ok : {"node-1", "aks-sgx-12345678-vmss000000", "ip-10-0-0-1.ec2.internal",
                         "a.b.c", "sgx-webhook.kube-system.svc"}) {
    EXPECT_TRUE(IsDnsSubdomain(ok)) << ok;
  }
  for (const char* bad : {"", "Node-1", "-a", "a-", ".a", "a.", "a..b", "a.-b", "a-.b",
                          "node-1/status", "a_b", "a b"}) {
    EXPECT_FALSE(IsDnsSubdomain(bad)) << bad;
  }
  // 253 at most in all; a label inside is not held to 63 (the API server's rule).
  std::string long_name = std::string(125, 'a') + "." + std::string(127, 'b');
  EXPECT_EQ(long_name.size(), 253u);
  EXPECT_TRUE(IsDnsSubdomain(long_name));
  EXPECT_FALSE(IsDnsSubdomain(long_name + "c"));
}

TEST(KubeNames, ServiceAccountRefs) {
  auto ok = ParseServiceAccountRef("kube-system:sgx-quote-helper");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, (ServiceAccountRef{"kube-system", "sgx-quote-helper"}));
  EXPECT_TRUE(ParseServiceAccountRef("team:attester.v2").ok());  // a name may have dots
  for (const char* bad : {"", "nocolon", ":x", "x:", "a:b:c", "Kube:x", "a b:c", "-a:b",
                          "a.b:c"}) {  // a namespace is a label: no dots
    auto r = ParseServiceAccountRef(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace confcom::kube
