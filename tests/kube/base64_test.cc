// Base64 as the API carries bytes (kube/base64.h).
#include "kube/base64.h"

#include <gtest/gtest.h>

#include <vector>

namespace confcom::kube {
namespace {

TEST(KubeBase64, RoundTripsAndPads) {
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    EXPECT_EQ(*Base64Decode(Base64Encode(s)), s);
  }
  EXPECT_EQ(Base64Encode("ab"), "YWI=");
  EXPECT_EQ(Base64Encode("a"), "YQ==");
  EXPECT_EQ(Base64Encode(""), "");
}

TEST(KubeBase64, IgnoresLineBreaksAndRefusesWhatIsNotBase64) {
  EXPECT_EQ(*Base64Decode("YW\nJj\r\nZA==\n"), "abcd");  // a wrapped kubeconfig value
  EXPECT_EQ(*Base64Decode(" YWI= "), "ab");
  for (const char* bad : {"YWI", "Y", "YW!=", "####"}) {
    EXPECT_FALSE(Base64Decode(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace confcom::kube
