"""Verifies sgx-attest tokens with python3-cryptography from the JWKS alone, as a relying party
written against Azure Attestation would: no confcom code. Usage: independent_check.py DIR."""
import base64
import json
import sys
import time

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID


def b64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)


d = sys.argv[1]
issuer = open(f"{d}/issuer.txt").read()
jwks = json.load(open(f"{d}/jwks.json"))
openid = json.load(open(f"{d}/openid.json"))

check(openid["issuer"] == issuer and openid["jwks_uri"] == issuer + "/certs", "openid issuer/jwks_uri")
check(openid["id_token_signing_alg_values_supported"] == ["RS256"], "openid algs")

keys = {}
for k in jwks["keys"]:
    check(k["kty"] == "RSA" and isinstance(k["kid"], str) and k["x5c"], "jwk members (Gramine's checks)")
    check(k["use"] == "sig" and k["alg"] == "RS256", "jwk use/alg")
    cert = x509.load_der_x509_certificate(base64.b64decode(k["x5c"][0], validate=True))
    pub = cert.public_key()
    check(isinstance(pub, rsa.RSAPublicKey) and pub.key_size == 2048, "RSA 2048")
    nums = pub.public_numbers()
    check(int.from_bytes(b64url(k["n"]), "big") == nums.n, "jwk n is the certificate's modulus")
    check(int.from_bytes(b64url(k["e"]), "big") == nums.e, "jwk e")
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    check(cn == issuer and cert.issuer == cert.subject, "self-signed, CN=<issuer> (the .NET sample's check)")
    cert.public_key().verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                             cert.signature_hash_algorithm)
    keys[k["kid"]] = pub
check(len(keys) == 2, "two published keys")


def verify(path):
    tok = open(path).read()
    h, p, s = tok.split(".")
    header_raw = b64url(h).decode()
    header = json.loads(header_raw)
    check(list(header) == ["alg", "jku", "kid", "typ"], "header members in MAA's order")
    check(header["alg"] == "RS256" and header["typ"] == "JWT", "alg/typ")
    check(header["jku"] == issuer + "/certs", "jku is <issuer>/certs")
    check(header["kid"] in keys, "kid in the JWKS")
    try:
        keys[header["kid"]].verify(b64url(s), (h + "." + p).encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        check(False, f"RS256 signature of {path}")
    claims = json.loads(b64url(p))
    now = time.time()
    check(claims["iss"] == issuer and claims["nbf"] <= now + 60 < claims["exp"] + 120, "iss and times")
    check(claims["exp"] - claims["iat"] == 8 * 3600, "8 h lifetime")
    check(claims["x-ms-attestation-type"] == "sgx" and claims["x-ms-ver"] == "1.0", "sgx claims")
    check(len(claims["jti"]) == 64, "jti")
    # Tampering with the payload must break the signature.
    bad = dict(claims, **{"x-ms-sgx-mrenclave": "00" * 32})
    bad_p = base64.urlsafe_b64encode(json.dumps(bad).encode()).rstrip(b"=").decode()
    try:
        keys[header["kid"]].verify(b64url(s), (h + "." + bad_p).encode(), padding.PKCS1v15(), hashes.SHA256())
        check(False, "a tampered payload verified")
    except InvalidSignature:
        pass
    return header["kid"]


kid_new = verify(f"{d}/token.jwt")
kid_old = verify(f"{d}/token_old_key.jwt")
check(kid_new != kid_old and jwks["keys"][0]["kid"] == kid_new, "newest key signs and leads /certs")

h, p, s = open(f"{d}/unsecured.jwt").read().split(".")
check(json.loads(b64url(h)) == {"alg": "none", "typ": "JWT"} and s == "", "unsecured token")
print("python3-cryptography: OK")
