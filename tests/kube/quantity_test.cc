// The one quantity parser (kube/quantity.h): the cases of both former parsers (the webhook's
// and the Node capacity reader's) and the grammar's corners, against the rules of
// docs/kubernetes-api.md.
#include "kube/quantity.h"

#include <gtest/gtest.h>

namespace confcom::kube {
namespace {

int64_t Value(std::string_view text) {
  auto q = ParseQuantity(text);
  EXPECT_TRUE(q.ok()) << text << ": " << q.status().ToString();
  return q.ok() ? q->value : -1;
}

bool Rounded(std::string_view text) {
  auto q = ParseQuantity(text);
  EXPECT_TRUE(q.ok()) << text << ": " << q.status().ToString();
  return q.ok() && q->rounded;
}

TEST(KubeQuantity, ParsesEverySuffixOfTheGrammar) {
  EXPECT_EQ(Value("10485760"), 10485760);
  EXPECT_EQ(Value("17179869184"), int64_t(16) << 30);
  for (auto [text, value] : {std::pair{"1Ki", int64_t(1) << 10},
                             {"10Mi", int64_t(10) << 20},
                             {"1Gi", int64_t(1) << 30},
                             {"8Gi", int64_t(8) << 30},
                             {"1Ti", int64_t(1) << 40},
                             {"1Pi", int64_t(1) << 50},
                             {"1Ei", int64_t(1) << 60},
                             {"3Ei", int64_t(3) << 60}}) {
    EXPECT_EQ(Value(text), value) << text;
  }
  EXPECT_EQ(Value("5k"), 5000);
  EXPECT_EQ(Value("131072k"), 131072000);
  EXPECT_EQ(Value("10M"), 10000000);
  EXPECT_EQ(Value("2G"), 2000000000);
  EXPECT_EQ(Value("1T"), 1000000000000);
  EXPECT_EQ(Value("1P"), 1000000000000000);
  EXPECT_EQ(Value("4E"), 4000000000000000000);
  EXPECT_EQ(Value("1e3"), 1000);
  EXPECT_EQ(Value("1E3"), 1000);
  EXPECT_EQ(Value("1e6"), 1000000);
  EXPECT_EQ(Value("1e+2"), 100);
  EXPECT_EQ(Value("15e-1"), 2);  // 1.5, rounded up
  EXPECT_EQ(Value("+5k"), 5000);
  EXPECT_EQ(Value("0"), 0);
  EXPECT_EQ(Value("-0"), 0);
  EXPECT_EQ(Value("0.000"), 0);
}

TEST(KubeQuantity, FractionsAreExactWhereWholeAndRoundedUpOtherwise) {
  EXPECT_EQ(Value("0.5Gi"), int64_t(1) << 29);
  EXPECT_EQ(Value("1.5Ki"), 1536);
  EXPECT_EQ(Value("1.5Gi"), int64_t(1536) << 20);
  EXPECT_EQ(Value("1.5k"), 1500);
  EXPECT_EQ(Value(".5k"), 500);
  EXPECT_EQ(Value("5."), 5);
  EXPECT_EQ(Value("1000m"), 1);
  EXPECT_EQ(Value("1.0"), 1);
  EXPECT_EQ(Value("1.50000000000000000000000000000000000000Ki"), 1536);  // zeros change nothing
  EXPECT_FALSE(Rounded("0.5Gi"));
  EXPECT_FALSE(Rounded("1000m"));
  EXPECT_FALSE(Rounded("1.0"));
  // Not whole: the ceiling, as the API's Quantity.Value() gives it.
  EXPECT_EQ(Value("100m"), 1);
  EXPECT_EQ(Value("0.5"), 1);
  EXPECT_EQ(Value("1.5"), 2);
  EXPECT_EQ(Value("1e-3"), 1);
  EXPECT_EQ(Value("1e-400"), 1);
  EXPECT_EQ(Value("0.1Ki"), 103);  // 102.4
  EXPECT_TRUE(Rounded("100m"));
  EXPECT_TRUE(Rounded("1.5"));
  EXPECT_TRUE(Rounded("0.1Ki"));
}

TEST(KubeQuantity, RefusesWhatIsMalformedNegativeOrTooLarge) {
  // Without the bounds these wrapped 128-bit arithmetic (to negative or wrong values).
  for (const char* bad : {"",
                          "Mi",
                          "10Xi",
                          "10ki",
                          "10K",
                          "-1",
                          "-0.5",
                          "-1Ki",
                          "1.2.3",
                          "10 Mi",
                          " 1",
                          "1e",
                          "1e-",
                          "1e1000",
                          "1ee3",
                          "+",
                          ".",
                          "0x10",
                          "99999999999999999999",
                          "8Ei",
                          "16Ei",
                          "1e400",
                          "4611686018427387905",
                          "1.000000000000000000000000001Ei",
                          "1.0000000000000000000000001Ei",
                          "1.0000000000000000000000000000001Ki"}) {
    EXPECT_FALSE(ParseQuantity(bad).ok()) << bad;
  }
  EXPECT_EQ(Value("4611686018427387904"), kMaxQuantity);
  EXPECT_EQ(Value("4Ei"), kMaxQuantity);
  EXPECT_FALSE(ParseQuantity(std::string(65, '1')).ok());
  auto err = ParseQuantity("-1");
  EXPECT_EQ(err.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(err.status().message().find("quantity '-1': negative"), std::string::npos)
      << err.status().message();
}

TEST(KubeQuantity, FormatsLikeTheApiServer) {
  EXPECT_EQ(FormatBinaryQuantity(10 << 20), "10Mi");
  EXPECT_EQ(FormatBinaryQuantity(int64_t(3) << 30), "3Gi");
  EXPECT_EQ(FormatBinaryQuantity(1536), "1536");
  EXPECT_EQ(FormatBinaryQuantity(2048), "2Ki");
  EXPECT_EQ(FormatBinaryQuantity(1000), "1000");
  EXPECT_EQ(FormatBinaryQuantity(0), "0");
  // What it writes parses back to the same value.
  for (int64_t v : {int64_t(1), int64_t(1536) << 10, int64_t(7) << 40, kMaxQuantity}) {
    EXPECT_EQ(Value(FormatBinaryQuantity(v)), v) << v;
  }
}

}  // namespace
}  // namespace confcom::kube
