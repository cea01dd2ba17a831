#!/usr/bin/env python3
"""A relying party for sgx-attest's tokens (and Azure Attestation's): it checks a token with the
keys the service publishes at <issuer>/certs and nothing else, then releases its secret only to
the enclave it expects. Written against MAA's documented token, with python3-cryptography only
(no confcom code, no JWT library), so it shows what any relying party has to check.

  relying_party.py --issuer https://attest.example:8443 --ca-file ca.crt \
      --expected-mrenclave <64 hex> --secret-file secret.txt token.jwt

Prints "released: <secret>" (exit 0) or "refused: <reason>" (exit 1); exit 2 when the keys
cannot be fetched or the arguments are wrong. examples/attest/README.md walks through the flow.
"""
import argparse
import base64
import json
import ssl
import sys
import time
import urllib.request

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# Clocks of the service and of the relying party may differ; MAA's SDKs default to no slack,
# Microsoft's samples to 5 minutes. One minute covers NTP-synchronised hosts.
DEFAULT_LEEWAY_SECONDS = 60


class Refused(Exception):
    """The token or the enclave it describes is not acceptable; str() says why."""


def b64url_decode(text):
    """Decodes base64url with or without padding; Refused on anything else."""
    if not isinstance(text, str):
        raise Refused("a token part is not a string")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as e:
        raise Refused(f"bad base64url: {e}") from None


def fetch_json(url, ca_file=None, timeout=10):
    """GETs `url` over HTTPS (verified against `ca_file`, or the system's CAs) as JSON."""
    context = ssl.create_default_context(cafile=ca_file)
    with urllib.request.urlopen(url, context=context, timeout=timeout) as response:
        return json.load(response)


def signing_keys(jwks):
    """{kid: RSA public key} from a JWKS: each key needs kty RSA, a string kid and an x5c whose
    first certificate holds the key (the modulus in n/e is not trusted on its own)."""
    keys = {}
    for jwk in jwks.get("keys", []):
        kid = jwk.get("kid")
        if jwk.get("kty") != "RSA" or not isinstance(kid, str) or not jwk.get("x5c"):
            continue
        try:
            cert = x509.load_der_x509_certificate(base64.b64decode(jwk["x5c"][0]))
            public_key = cert.public_key()
        except ValueError:
            continue
        if isinstance(public_key, rsa.RSAPublicKey):
            keys[kid] = public_key
    if not keys:
        raise Refused("the JWKS holds no RSA key with a kid and an x5c certificate")
    return keys


def verify_token(token, keys, issuer, now=None, leeway=DEFAULT_LEEWAY_SECONDS):
    """Returns the claims of `token` once its RS256 signature verifies with the key its kid
    names in `keys`, its iss is `issuer` and now lies in [nbf, exp] (give or take `leeway`).
    Refused says which check failed; an unsecured (alg none) token is always refused."""
    now = time.time() if now is None else now
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise Refused("not a compact JWS (three dot-separated parts)")
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
    except ValueError:
        raise Refused("the token's header or payload is not JSON") from None
    if header.get("alg") != "RS256":
        raise Refused(f"token algorithm {header.get('alg')!r}; only RS256 is accepted")
    if "jku" in header and header["jku"] != issuer + "/certs":
        raise Refused(f"jku {header['jku']!r} is not {issuer}/certs")
    key = keys.get(header.get("kid"))
    if key is None:
        raise Refused(f"kid {header.get('kid')!r} is not among the service's signing keys")
    try:
        key.verify(b64url_decode(parts[2]), (parts[0] + "." + parts[1]).encode(),
                   padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise Refused("the RS256 signature does not verify with the key of that kid") from None
    if claims.get("iss") != issuer:
        raise Refused(f"issuer {claims.get('iss')!r}; expected {issuer!r}")
    for name in ("exp", "nbf"):
        if not isinstance(claims.get(name), (int, float)) or isinstance(claims[name], bool):
            raise Refused(f"the token has no numeric {name}")
    if now > claims["exp"] + leeway:
        raise Refused(f"the token expired {int(now - claims['exp'])} s ago")
    if now + leeway < claims["nbf"]:
        raise Refused(f"the token is not valid for another {int(claims['nbf'] - now)} s")
    return claims


def check_enclave(claims, expected_mrenclave, expected_mrsigner=None, allow_debug=False):
    """Refused unless the claims describe a production (non-debug) SGX enclave with the
    expected MRENCLAVE (and MRSIGNER when given); hex compares case-insensitively."""
    if claims.get("x-ms-attestation-type") != "sgx":
        raise Refused(f"attestation type {claims.get('x-ms-attestation-type')!r}, not sgx")
    debuggable = claims.get("x-ms-sgx-is-debuggable")
    if not isinstance(debuggable, bool):
        raise Refused("the token has no boolean x-ms-sgx-is-debuggable")
    if debuggable and not allow_debug:
        raise Refused("the enclave is a DEBUG enclave (its memory is readable by the host)")
    mrenclave = str(claims.get("x-ms-sgx-mrenclave", "")).lower()
    if mrenclave != expected_mrenclave.lower():
        raise Refused(f"MRENCLAVE {mrenclave} is not the expected {expected_mrenclave.lower()}")
    if expected_mrsigner is not None:
        mrsigner = str(claims.get("x-ms-sgx-mrsigner", "")).lower()
        if mrsigner != expected_mrsigner.lower():
            raise Refused(f"MRSIGNER {mrsigner} is not the expected {expected_mrsigner.lower()}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("token", help="file holding the token ('-' for stdin)")
    p.add_argument("--issuer", required=True, help="the attestation service's URL (its tokens' iss)")
    p.add_argument("--ca-file", help="CA bundle for the service's TLS certificate")
    p.add_argument("--jwks-file", help="use this saved /certs answer instead of fetching it")
    p.add_argument("--expected-mrenclave", required=True, help="64 hex digits")
    p.add_argument("--expected-mrsigner", help="64 hex digits (optional)")
    p.add_argument("--allow-debug", action="store_true", help="accept DEBUG enclaves (testing)")
    p.add_argument("--secret-file", required=True, help="the secret released to the enclave")
    p.add_argument("--at", type=float, help="check the times as of this Unix time (testing)")
    args = p.parse_args(argv)

    issuer = args.issuer.rstrip("/")
    token = sys.stdin.read() if args.token == "-" else open(args.token).read()
    try:
        if args.jwks_file:
            jwks = json.load(open(args.jwks_file))
        else:
            jwks = fetch_json(issuer + "/certs", args.ca_file)
    except (OSError, ValueError) as e:
        print(f"error: cannot get the signing keys from {issuer}/certs: {e}", file=sys.stderr)
        return 2
    try:
        claims = verify_token(token, signing_keys(jwks), issuer, now=args.at)
        check_enclave(claims, args.expected_mrenclave, args.expected_mrsigner, args.allow_debug)
    except Refused as e:
        print(f"refused: {e}")
        return 1
    secret = open(args.secret_file).read().strip()
    print(f"released: {secret}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
