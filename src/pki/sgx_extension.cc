#include "pki/sgx_extension.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#include "pki/x509.h"

namespace confcom::pki {

namespace {

using TypeStack = crypto::Asn1TypeStackPtr;

const std::string kBase = kSgxExtensionOid;

ASN1_TYPE* MakeOid(const std::string& oid) {
  ASN1_OBJECT* obj = OBJ_txt2obj(oid.c_str(), 1);
  if (obj == nullptr) return nullptr;
  ASN1_TYPE* t = ASN1_TYPE_new();
  ASN1_TYPE_set(t, V_ASN1_OBJECT, obj);
  return t;
}

ASN1_TYPE* MakeOctets(ByteSpan b) {
  ASN1_OCTET_STRING* s = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(s, b.data(), int(b.size()));
  ASN1_TYPE* t = ASN1_TYPE_new();
  ASN1_TYPE_set(t, V_ASN1_OCTET_STRING, s);
  return t;
}

ASN1_TYPE* MakeInteger(long v) {
  ASN1_INTEGER* i = ASN1_INTEGER_new();
  ASN1_INTEGER_set(i, v);
  ASN1_TYPE* t = ASN1_TYPE_new();
  ASN1_TYPE_set(t, V_ASN1_INTEGER, i);
  return t;
}

ASN1_TYPE* MakeEnumerated(long v) {
  ASN1_ENUMERATED* e = ASN1_ENUMERATED_new();
  ASN1_ENUMERATED_set(e, v);
  ASN1_TYPE* t = ASN1_TYPE_new();
  ASN1_TYPE_set(t, V_ASN1_ENUMERATED, e);
  return t;
}

ASN1_TYPE* MakeBool(bool v) {
  ASN1_TYPE* t = ASN1_TYPE_new();
  ASN1_TYPE_set(t, V_ASN1_BOOLEAN, v ? reinterpret_cast<void*>(0xff) : nullptr);
  return t;
}

// Encodes a stack as a SEQUENCE and wraps it as an ASN1_TYPE; takes ownership of `items`.
ASN1_TYPE* MakeSequence(TypeStack items) {
  uint8_t* der_raw = nullptr;
  int len = i2d_ASN1_SEQUENCE_ANY(items.get(), &der_raw);
  crypto::OpenSslMemoryPtr<uint8_t> der(der_raw);
  if (len <= 0) return nullptr;
  ASN1_STRING* s = ASN1_STRING_new();
  ASN1_STRING_set(s, der.get(), len);
  ASN1_TYPE* t = ASN1_TYPE_new();
  ASN1_TYPE_set(t, V_ASN1_SEQUENCE, s);
  return t;
}

TypeStack NewStack() { return TypeStack(sk_ASN1_TYPE_new_null()); }

// SEQUENCE { OID, value }
ASN1_TYPE* MakePair(const std::string& oid, ASN1_TYPE* value) {
  TypeStack pair = NewStack();
  sk_ASN1_TYPE_push(pair.get(), MakeOid(oid));
  sk_ASN1_TYPE_push(pair.get(), value);
  return MakeSequence(std::move(pair));
}

// Parses a SEQUENCE of SEQUENCE { OID, value } and calls `fn(oid, value)` for each pair. An
// OID twice in one SEQUENCE is refused: otherwise which of two TCBs or FMSPCs counts would
// depend on the parser (Intel's QVL refuses such an extension too).
Status ForEachPair(ByteSpan der, const std::string& where,
                   const std::function<Status(const std::string&, const ASN1_TYPE*)>& fn) {
  const uint8_t* p = der.data();
  TypeStack seq(d2i_ASN1_SEQUENCE_ANY(nullptr, &p, long(der.size())));
  if (!seq) return Status::InvalidArgument(where + ": not a DER SEQUENCE");
  if (p != der.data() + der.size()) {
    return Status::InvalidArgument(where + ": trailing bytes after the SEQUENCE");
  }
  std::vector<std::string> seen;
  for (int i = 0; i < sk_ASN1_TYPE_num(seq.get()); ++i) {
    const ASN1_TYPE* item = sk_ASN1_TYPE_value(seq.get(), i);
    if (item->type != V_ASN1_SEQUENCE) {
      return Status::InvalidArgument(where + ": element " + std::to_string(i) +
                                     " is not a SEQUENCE { OID, value }");
    }
    const ASN1_STRING* inner = item->value.sequence;
    const uint8_t* q = inner->data;
    TypeStack pair(d2i_ASN1_SEQUENCE_ANY(nullptr, &q, inner->length));
    if (!pair || sk_ASN1_TYPE_num(pair.get()) != 2 ||
        sk_ASN1_TYPE_value(pair.get(), 0)->type != V_ASN1_OBJECT) {
      return Status::InvalidArgument(where + ": element " + std::to_string(i) +
                                     " is not a SEQUENCE { OID, value }");
    }
    std::string oid = OidText(sk_ASN1_TYPE_value(pair.get(), 0)->value.object);
    if (std::find(seen.begin(), seen.end(), oid) != seen.end()) {
      return Status::InvalidArgument(where + ": " + oid + " appears more than once");
    }
    seen.push_back(oid);
    CONFCOM_RETURN_IF_ERROR(fn(oid, sk_ASN1_TYPE_value(pair.get(), 1)));
  }
  return Status::Ok();
}

template <size_t N>
Status GetOctets(const ASN1_TYPE* v, const std::string& name, sgx::Array<N>& out) {
  if (v->type != V_ASN1_OCTET_STRING || v->value.octet_string->length != int(N)) {
    return Status::InvalidArgument(name + " must be an OCTET STRING of " + std::to_string(N) +
                                   " bytes");
  }
  std::memcpy(out.data(), v->value.octet_string->data, N);
  return Status::Ok();
}

Status GetSmallInt(const ASN1_TYPE* v, const std::string& name, int type, long max, long& out) {
  if (v->type != type) return Status::InvalidArgument(name + " has the wrong ASN.1 type");
  long value = type == V_ASN1_ENUMERATED ? ASN1_ENUMERATED_get(v->value.enumerated)
                                         : ASN1_INTEGER_get(v->value.integer);
  if (value < 0 || value > max) {
    return Status::InvalidArgument(name + " = " + std::to_string(value) + " is out of range");
  }
  out = value;
  return Status::Ok();
}

Status GetBool(const ASN1_TYPE* v, const std::string& name, bool& out) {
  if (v->type != V_ASN1_BOOLEAN) return Status::InvalidArgument(name + " must be a BOOLEAN");
  out = v->value.boolean != 0;
  return Status::Ok();
}

}  // namespace

Result<Bytes> EncodeSgxExtension(const SgxExtension& ext) {
  TypeStack top = NewStack();
  sk_ASN1_TYPE_push(top.get(), MakePair(kBase + ".1", MakeOctets(ext.ppid)));
  TypeStack tcb = NewStack();
  for (int i = 0; i < 16; ++i) {
    sk_ASN1_TYPE_push(tcb.get(), MakePair(kBase + ".2." + std::to_string(i + 1),
                                          MakeInteger(ext.tcb.components[size_t(i)])));
  }
  sk_ASN1_TYPE_push(tcb.get(), MakePair(kBase + ".2.17", MakeInteger(ext.tcb.pcesvn)));
  sk_ASN1_TYPE_push(tcb.get(), MakePair(kBase + ".2.18", MakeOctets(ext.tcb.cpusvn)));
  sk_ASN1_TYPE_push(top.get(), MakePair(kBase + ".2", MakeSequence(std::move(tcb))));
  sk_ASN1_TYPE_push(top.get(), MakePair(kBase + ".3", MakeOctets(ext.pce_id)));
  sk_ASN1_TYPE_push(top.get(), MakePair(kBase + ".4", MakeOctets(ext.fmspc)));
  sk_ASN1_TYPE_push(top.get(), MakePair(kBase + ".5", MakeEnumerated(ext.sgx_type)));
  if (ext.platform_instance_id) {
    sk_ASN1_TYPE_push(top.get(), MakePair(kBase + ".6", MakeOctets(*ext.platform_instance_id)));
  }
  if (ext.configuration) {
    TypeStack conf = NewStack();
    sk_ASN1_TYPE_push(conf.get(),
                      MakePair(kBase + ".7.1", MakeBool(ext.configuration->dynamic_platform)));
    sk_ASN1_TYPE_push(conf.get(),
                      MakePair(kBase + ".7.2", MakeBool(ext.configuration->cached_keys)));
    sk_ASN1_TYPE_push(conf.get(),
                      MakePair(kBase + ".7.3", MakeBool(ext.configuration->smt_enabled)));
    sk_ASN1_TYPE_push(top.get(), MakePair(kBase + ".7", MakeSequence(std::move(conf))));
  }
  uint8_t* der_raw = nullptr;
  int len = i2d_ASN1_SEQUENCE_ANY(top.get(), &der_raw);
  crypto::OpenSslMemoryPtr<uint8_t> der(der_raw);
  if (len <= 0) return Status::Internal("encoding the SGX extension failed");
  return Bytes(der.get(), der.get() + len);
}

Result<SgxExtension> DecodeSgxExtension(ByteSpan der) {
  SgxExtension ext;
  bool seen[8] = {};
  bool tcb_seen[19] = {};
  auto sequence_bytes = [](const ASN1_TYPE* v) {
    return ByteSpan(v->value.sequence->data, size_t(v->value.sequence->length));
  };
  Status st = ForEachPair(der, "SGX extension", [&](const std::string& oid, const ASN1_TYPE* v) {
    if (!oid.starts_with(kBase + ".")) return Status::Ok();  // tolerate unknown siblings
    std::string tail = oid.substr(kBase.size() + 1);
    if (tail == "1") {
      seen[1] = true;
      return GetOctets(v, "PPID", ext.ppid);
    }
    if (tail == "3") {
      seen[3] = true;
      return GetOctets(v, "PCE-ID", ext.pce_id);
    }
    if (tail == "4") {
      seen[4] = true;
      return GetOctets(v, "FMSPC", ext.fmspc);
    }
    if (tail == "5") {
      seen[5] = true;
      long t = 0;
      CONFCOM_RETURN_IF_ERROR(GetSmallInt(v, "SGX type", V_ASN1_ENUMERATED, 2, t));
      ext.sgx_type = int(t);
      return Status::Ok();
    }
    if (tail == "6") {
      sgx::Array<16> id{};
      CONFCOM_RETURN_IF_ERROR(GetOctets(v, "PlatformInstanceID", id));
      ext.platform_instance_id = id;
      return Status::Ok();
    }
    if (tail == "2") {
      seen[2] = true;
      if (v->type != V_ASN1_SEQUENCE) return Status::InvalidArgument("TCB must be a SEQUENCE");
      return ForEachPair(sequence_bytes(v), "SGX extension TCB",
                         [&](const std::string& toid, const ASN1_TYPE* tv) {
                           if (!toid.starts_with(kBase + ".2.")) return Status::Ok();
                           int n = std::atoi(toid.substr(kBase.size() + 3).c_str());
                           if (n < 1 || n > 18) return Status::Ok();
                           tcb_seen[n] = true;
                           if (n == 18) return GetOctets(tv, "CPUSVN", ext.tcb.cpusvn);
                           long value = 0;
                           CONFCOM_RETURN_IF_ERROR(GetSmallInt(
                               tv, n == 17 ? "PCESVN" : "TCB component " + std::to_string(n),
                               V_ASN1_INTEGER, n == 17 ? 65535 : 255, value));
                           if (n == 17) ext.tcb.pcesvn = uint16_t(value);
                           else ext.tcb.components[size_t(n - 1)] = uint8_t(value);
                           return Status::Ok();
                         });
    }
    if (tail == "7") {
      if (v->type != V_ASN1_SEQUENCE) {
        return Status::InvalidArgument("Configuration must be a SEQUENCE");
      }
      SgxPlatformConfiguration conf;
      CONFCOM_RETURN_IF_ERROR(ForEachPair(sequence_bytes(v), "SGX extension Configuration",
                                          [&](const std::string& coid, const ASN1_TYPE* cv) {
                                            if (coid == kBase + ".7.1")
                                              return GetBool(cv, "dynamicPlatform",
                                                             conf.dynamic_platform);
                                            if (coid == kBase + ".7.2")
                                              return GetBool(cv, "cachedKeys", conf.cached_keys);
                                            if (coid == kBase + ".7.3")
                                              return GetBool(cv, "SMTEnabled", conf.smt_enabled);
                                            return Status::Ok();
                                          }));
      ext.configuration = conf;
      return Status::Ok();
    }
    return Status::Ok();
  });
  CONFCOM_RETURN_IF_ERROR(st);
  const char* names[] = {"", "PPID", "TCB", "PCE-ID", "FMSPC", "SGX type"};
  for (int i = 1; i <= 5; ++i) {
    if (!seen[i]) return Status::InvalidArgument(std::string("SGX extension lacks ") + names[i]);
  }
  for (int n = 1; n <= 18; ++n) {
    if (!tcb_seen[n]) {
      return Status::InvalidArgument("SGX extension TCB lacks " + kBase + ".2." +
                                     std::to_string(n));
    }
  }
  return ext;
}

}  // namespace confcom::pki
