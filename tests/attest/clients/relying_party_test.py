"""Unit test of examples/attest/relying_party.py without the service: tokens signed here with a
key published in a JWKS as sgx-attest publishes it. Each refusal the example promises (another
MRENCLAVE, a debug enclave, another issuer, an expired token, alg none, a forged signature, an
unknown kid) and the release to the right enclave. Usage: relying_party_test.py EXAMPLE_DIR."""
import base64
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, sys.argv[1])
import relying_party as rp  # noqa: E402

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

ISSUER = "https://attest.test:8443"
MRENCLAVE = "e1" * 32
failures = []


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_key(cn):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return key, base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def sign(key, kid, claims, alg="RS256", issuer=ISSUER):
    header = {"alg": alg, "jku": issuer + "/certs", "kid": kid, "typ": "JWT"}
    h = b64url(json.dumps(header).encode())
    p = b64url(json.dumps(claims).encode())
    if alg == "none":
        return h + "." + p + "."
    s = key.sign((h + "." + p).encode(), padding.PKCS1v15(), hashes.SHA256())
    return h + "." + p + "." + b64url(s)


def claims(**over):
    now = int(time.time())
    c = {"iss": ISSUER, "iat": now, "nbf": now, "exp": now + 8 * 3600, "jti": "00" * 32,
         "x-ms-ver": "1.0", "x-ms-attestation-type": "sgx", "x-ms-sgx-is-debuggable": False,
         "x-ms-sgx-mrenclave": MRENCLAVE, "x-ms-sgx-mrsigner": "e2" * 32,
         "x-ms-sgx-product-id": 4, "x-ms-sgx-svn": 5}
    c.update(over)
    return c


key, x5c = make_key(ISSUER)
other_key, other_x5c = make_key("https://someone.else")
jwks = {"keys": [{"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256", "x5c": [x5c]}]}
keys = rp.signing_keys(jwks)


def expect(name, token, refusal=None, mrenclave=MRENCLAVE, **kw):
    try:
        c = rp.verify_token(token, keys, ISSUER, now=kw.pop("now", None))
        rp.check_enclave(c, mrenclave, **kw)
        outcome = None
    except rp.Refused as e:
        outcome = str(e)
    ok = (outcome is None) if refusal is None else (outcome is not None and refusal in outcome)
    print(("ok   " if ok else "FAIL ") + name + ": " + (outcome or "released"))
    if not ok:
        failures.append(name)


good = sign(key, "k1", claims())
expect("the expected enclave", good)
expect("MRENCLAVE in upper case", good, mrenclave=MRENCLAVE.upper())
expect("another MRENCLAVE", good, "is not the expected", mrenclave="ab" * 32)
expect("another MRSIGNER", good, "MRSIGNER", expected_mrsigner="00" * 32)
expect("a debug enclave", sign(key, "k1", claims(**{"x-ms-sgx-is-debuggable": True})), "DEBUG")
expect("a debug enclave when allowed",
       sign(key, "k1", claims(**{"x-ms-sgx-is-debuggable": True})), allow_debug=True)
expect("another issuer", sign(key, "k1", claims(iss="https://evil.test")), "issuer")
expect("another jku", sign(key, "k1", claims(), issuer="https://evil.test"), "jku")
expect("an expired token", good, "expired", now=time.time() + 9 * 3600)
expect("a token not valid yet", good, "not valid for another", now=time.time() - 3600)
expect("an unsecured token", sign(None, "k1", claims(), alg="none"), "only RS256")
expect("a forged signature", sign(other_key, "k1", claims()), "does not verify")
expect("an unknown kid", sign(key, "k2", claims()), "kid")
h, p, s = good.split(".")
tampered = b64url(json.dumps(claims(**{"x-ms-sgx-mrenclave": "ab" * 32})).encode())
expect("a payload changed after signing", h + "." + tampered + "." + s, "does not verify")
expect("not a JWS", "abc.def", "compact JWS")
expect("no exp", sign(key, "k1", {k: v for k, v in claims().items() if k != "exp"}), "exp")
expect("not sgx", sign(key, "k1", claims(**{"x-ms-attestation-type": "sevsnpvm"})), "not sgx")

# The command line: a saved JWKS, exit codes and the printed verdict.
with tempfile.TemporaryDirectory() as d:
    for name, data in {"jwks.json": json.dumps(jwks), "good.jwt": good, "secret.txt": "s3cret\n",
                       "debug.jwt": sign(key, "k1", claims(**{"x-ms-sgx-is-debuggable": True}))
                       }.items():
        open(os.path.join(d, name), "w").write(data)
    script = os.path.join(sys.argv[1], "relying_party.py")
    base = [sys.executable, script, "--issuer", ISSUER + "/", "--jwks-file", d + "/jwks.json",
            "--expected-mrenclave", MRENCLAVE, "--secret-file", d + "/secret.txt"]
    for token, code, text in (("good.jwt", 0, "released: s3cret"),
                              ("debug.jwt", 1, "refused: the enclave is a DEBUG enclave")):
        r = subprocess.run(base + [d + "/" + token], capture_output=True, text=True)
        ok = r.returncode == code and text in r.stdout
        print(("ok   " if ok else "FAIL ") + f"command line, {token}: {r.stdout.strip()}")
        if not ok:
            failures.append("command line " + token)

print(f"relying party unit test: {len(failures)} failure(s)")
sys.exit(1 if failures else 0)
