#!/usr/bin/env python3
"""An independent reader of the simulated platform's artefacts, on Debian's python3-cryptography.

Given the root, parses every certificate and CRL named on the command line and the PCK chain
inside every quote, touches every extension (parsing their OIDs, which is where Debian's
cryptography 38 refused the old marker), checks every signature, and prints one JSON line per
artefact. Exits 1 at the first failure, with the reason.

  x509_parse.py --root root.pem --marker OID [--cert f.pem]... [--crl f.der]... [--quote q.bin]...
                [--write-chain DIR]   (writes each quote's chain as DIR/<quote name>.{0,1,2}.pem)
"""
import argparse
import json
import os
import struct
import sys

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

SGX_EXTENSION_OID = "1.2.840.113741.1.13.1"


def fail(message):
    print("x509_parse.py: " + message, file=sys.stderr)
    sys.exit(1)


def load_certs(data, where):
    marker = b"-----BEGIN CERTIFICATE-----"
    blocks = [marker + b for b in data.split(marker)[1:]]
    if not blocks:
        fail(where + ": no PEM certificate")
    try:
        return [x509.load_pem_x509_certificate(b) for b in blocks]
    except Exception as e:  # noqa: BLE001 - any parser error is the finding
        fail("%s: %s: %s" % (where, type(e).__name__, e))


def oids(extensions, where):
    try:
        return [e.oid.dotted_string for e in extensions]
    except Exception as e:  # noqa: BLE001
        fail("%s: extensions do not parse: %s: %s" % (where, type(e).__name__, e))


def check_signed_by(cert, issuer, where):
    try:
        issuer.public_key().verify(cert.signature, cert.tbs_certificate_bytes,
                                   ec.ECDSA(cert.signature_hash_algorithm))
    except Exception as e:  # noqa: BLE001
        fail("%s: not signed by %s: %s" % (where, issuer.subject.rfc4514_string(), e))


def quote_chain(q, where):
    if len(q) < 1020:
        fail("%s: %d bytes is too short for a quote" % (where, len(q)))
    auth = struct.unpack_from("<H", q, 1012)[0]
    off = 1014 + auth
    cert_type, size = struct.unpack_from("<HI", q, off)
    if cert_type != 5:
        fail("%s: certification data type %d, not 5" % (where, cert_type))
    return q[off + 6:off + 6 + size]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--marker", required=True)
    ap.add_argument("--cert", action="append", default=[])
    ap.add_argument("--crl", action="append", default=[])
    ap.add_argument("--quote", action="append", default=[])
    ap.add_argument("--write-chain")
    a = ap.parse_args()

    root = load_certs(open(a.root, "rb").read(), a.root)[0]
    check_signed_by(root, root, a.root)
    known = {root.subject.rfc4514_string(): root}
    for f in a.cert:
        for c in load_certs(open(f, "rb").read(), f):
            known[c.subject.rfc4514_string()] = c
            print(json.dumps({"kind": "cert", "file": f, "marker": a.marker in oids(c.extensions, f)}))
    for f in a.crl:
        data = open(f, "rb").read()
        try:
            crl = (x509.load_pem_x509_crl(data) if data.startswith(b"-----")
                   else x509.load_der_x509_crl(data))
            revoked = len(list(crl))
        except Exception as e:  # noqa: BLE001
            fail("%s: %s: %s" % (f, type(e).__name__, e))
        issuer = known.get(crl.issuer.rfc4514_string())
        if issuer is None:
            fail("%s: issuer %s is not among the certificates given" % (f, crl.issuer.rfc4514_string()))
        if not crl.is_signature_valid(issuer.public_key()):
            fail("%s: signature does not verify with %s" % (f, crl.issuer.rfc4514_string()))
        print(json.dumps({"kind": "crl", "file": f, "revoked": revoked,
                          "marker": a.marker in oids(crl.extensions, f)}))
    for f in a.quote:
        chain = load_certs(quote_chain(open(f, "rb").read(), f), f + " PCK chain")
        if len(chain) != 3:
            fail("%s: %d certificates in the PCK chain, not 3" % (f, len(chain)))
        if chain[2].public_bytes(serialization.Encoding.DER) != root.public_bytes(serialization.Encoding.DER):
            fail("%s: the chain does not end at the given root" % f)
        check_signed_by(chain[1], chain[2], f + " PCK CA")
        check_signed_by(chain[0], chain[1], f + " PCK certificate")
        leaf_oids = oids(chain[0].extensions, f)
        if leaf_oids.count(SGX_EXTENSION_OID) != 1:
            fail("%s: %d SGX extensions" % (f, leaf_oids.count(SGX_EXTENSION_OID)))
        if a.write_chain:
            base = os.path.join(a.write_chain, os.path.basename(f))
            for i, c in enumerate(chain):
                with open("%s.%d.pem" % (base, i), "wb") as out:
                    out.write(c.public_bytes(serialization.Encoding.PEM))
        print(json.dumps({"kind": "quote", "file": f,
                          "pck_issuer": chain[0].issuer.rfc4514_string(),
                          "marker": all(a.marker in oids(c.extensions, f) for c in chain)}))


if __name__ == "__main__":
    main()
