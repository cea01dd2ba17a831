#include "crypto/crypto.h"

#include <gtest/gtest.h>

namespace confcom::crypto {
namespace {

TEST(Sha256Test, KnownVectorAndConcatenation) {
  EXPECT_EQ(ToHex(Sha256(AsBytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256({AsBytes("a"), AsBytes("bc")}), Sha256(AsBytes("abc")));
}

TEST(AesCmacTest, Rfc4493Vectors) {
  Aes128Key key{};
  auto k = *FromHex("2b7e151628aed2a6abf7158809cf4f3c");
  std::copy(k.begin(), k.end(), key.begin());
  EXPECT_EQ(ToHex(*AesCmac(key, {})), "bb1d6929e95937287fa37d129b756746");
  auto m = *FromHex("6bc1bee22e409f96e93d7e117393172a");
  EXPECT_EQ(ToHex(*AesCmac(key, m)), "070a16b46b4d4144f79bdd9dd04a287c");
}

TEST(EcKeyTest, SignVerifyRawAndPemRoundTrip) {
  auto key = EcKey::Generate();
  ASSERT_TRUE(key.ok());
  auto sig = key->Sign(AsBytes("message"));
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(key->Verify(AsBytes("message"), *sig));
  EXPECT_FALSE(key->Verify(AsBytes("messagf"), *sig));
  auto tampered = *sig;
  tampered[5] ^= 1;
  EXPECT_FALSE(key->Verify(AsBytes("message"), tampered));

  auto pem = key->PrivatePem();
  ASSERT_TRUE(pem.ok());
  auto loaded = EcKey::FromPrivatePem(*pem);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->PublicRaw(), key->PublicRaw());

  auto pub = EcKey::FromPublicRaw(key->PublicRaw());
  ASSERT_TRUE(pub.ok());
  EXPECT_FALSE(pub->has_private());
  EXPECT_TRUE(pub->Verify(AsBytes("message"), *sig));
  EXPECT_FALSE(pub->Sign(AsBytes("x")).ok());
}

TEST(EcKeyTest, RejectsPointsOffTheCurveAndBadSizes) {
  RawPublicKey bogus{};
  bogus[0] = 1;
  EXPECT_FALSE(EcKey::FromPublicRaw(bogus).ok());
  EXPECT_FALSE(EcKey::FromPublicRaw(Bytes(63)).ok());
  EXPECT_FALSE(EcKey::FromPrivatePem("not a key").ok());
}

TEST(SignatureEncodingTest, DerAndRawRoundTrip) {
  auto key = *EcKey::Generate();
  auto raw = *key.Sign(AsBytes("x"));
  auto der = RawSignatureToDer(raw);
  ASSERT_TRUE(der.ok());
  EXPECT_EQ(der->front(), 0x30);  // SEQUENCE
  EXPECT_EQ(*DerSignatureToRaw(*der), raw);
  EXPECT_FALSE(DerSignatureToRaw(Bytes{0x30, 0x00}).ok());
}

TEST(OpenSslPtrTest, MemoryBiosAndOwnersFreeWhatTheyHold) {
  BioPtr out = NewMemoryBio();
  ASSERT_NE(out, nullptr);
  BIO_write(out.get(), "abc", 3);
  EXPECT_EQ(MemoryBioText(out.get()), "abc");
  EXPECT_EQ(MemoryBioText(NewMemoryBio().get()), "");
  EXPECT_EQ(MemoryBioText(nullptr), "");
  std::string text = "hello";
  BioPtr in = MemoryBioOver(text);
  char buf[8] = {};
  EXPECT_EQ(BIO_read(in.get(), buf, sizeof buf), 5);
  EXPECT_EQ(std::string(buf), "hello");
  // Null pointers are fine to destroy; owned objects are freed (ASan/valgrind would report).
  X509Ptr none;
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  BignumPtr bn(BN_new());
  OpenSslMemoryPtr<char> hex(BN_bn2hex(bn.get()));
  EXPECT_EQ(std::string(hex.get()), "0");
  X509StackPtr stack(sk_X509_new_null());
  sk_X509_push(stack.get(), X509_new());  // owned by the stack
  EXPECT_EQ(sk_X509_num(stack.get()), 1);
}

TEST(EcKeyTest, PrivatePemRoundTripsThroughTheOwnedBio) {
  auto key = *EcKey::Generate();
  auto pem = key.PrivatePem();
  ASSERT_TRUE(pem.ok());
  auto again = EcKey::FromPrivatePem(*pem);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->PublicRaw(), key.PublicRaw());
  EXPECT_FALSE(EcKey::FromPublicRaw(key.PublicRaw())->PrivatePem().ok());
}

}  // namespace
}  // namespace confcom::crypto
