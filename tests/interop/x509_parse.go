// An independent reader of the simulated platform's artefacts, on Go's crypto/x509 (the
// parser most cloud-native attestation services use). Given the root, it parses every
// certificate and CRL named on the command line and the PCK chain inside every quote, checks
// each signature and chain, decodes the SGX extension with encoding/asn1, and prints one JSON
// line per artefact. Exit status 1 on the first failure, with the reason.
//
//	x509_parse -root root.pem -marker OID [-cert f.pem]... [-crl f.der]... [-quote q.bin]...
//
// Built offline from the standard library only (no module downloads).
package main

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

type fileList []string

func (l *fileList) String() string     { return strings.Join(*l, ",") }
func (l *fileList) Set(v string) error { *l = append(*l, v); return nil }

var (
	sgxExtensionOID = asn1.ObjectIdentifier{1, 2, 840, 113741, 1, 13, 1}
	sgxFmspcOID     = asn1.ObjectIdentifier{1, 2, 840, 113741, 1, 13, 1, 4}
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "x509_parse: "+format+"\n", args...)
	os.Exit(1)
}

func emit(v map[string]interface{}) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

func readCerts(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM certificate")
	}
	return out, nil
}

func certHasOID(c *x509.Certificate, oid string) bool {
	for _, e := range c.Extensions {
		if e.Id.String() == oid {
			return true
		}
	}
	return false
}

type pair struct {
	ID    asn1.ObjectIdentifier
	Value asn1.RawValue
}

// The FMSPC (…13.1.4) from the SGX extension's SEQUENCE OF SEQUENCE { OID, value }.
func sgxFmspc(c *x509.Certificate) (string, error) {
	for _, e := range c.Extensions {
		if !e.Id.Equal(sgxExtensionOID) {
			continue
		}
		var pairs []pair
		if rest, err := asn1.Unmarshal(e.Value, &pairs); err != nil || len(rest) != 0 {
			return "", fmt.Errorf("SGX extension does not decode: %v", err)
		}
		for _, p := range pairs {
			if p.ID.Equal(sgxFmspcOID) {
				return string(p.Value.Bytes), nil
			}
		}
		return "", errors.New("SGX extension has no FMSPC")
	}
	return "", errors.New("no SGX extension")
}

// The certification data of a DCAP v3 quote: the signature data starts at 436; the QE auth
// data size is at 1012; type (2 bytes) and size (4 bytes) follow the auth data.
func quoteChain(q []byte) ([]byte, error) {
	if len(q) < 1020 {
		return nil, fmt.Errorf("quote of %d bytes is too short", len(q))
	}
	auth := int(binary.LittleEndian.Uint16(q[1012:]))
	off := 1014 + auth
	if len(q) < off+6 {
		return nil, errors.New("quote ends inside the certification data header")
	}
	if t := binary.LittleEndian.Uint16(q[off:]); t != 5 {
		return nil, fmt.Errorf("certification data type %d, not 5 (PCK chain)", t)
	}
	size := int(binary.LittleEndian.Uint32(q[off+2:]))
	if len(q) < off+6+size {
		return nil, errors.New("quote ends inside the certification data")
	}
	return q[off+6 : off+6+size], nil
}

func main() {
	var certs, crls, quotes fileList
	root := flag.String("root", "", "the simulated root certificate (PEM)")
	marker := flag.String("marker", "", "the OID every simulated certificate carries")
	flag.Var(&certs, "cert", "a PEM certificate file (repeatable)")
	flag.Var(&crls, "crl", "a CRL file, DER or PEM (repeatable)")
	flag.Var(&quotes, "quote", "a DCAP v3 quote file (repeatable)")
	flag.Parse()

	rootPem, err := os.ReadFile(*root)
	if err != nil {
		fail("%v", err)
	}
	rootCerts, err := readCerts(rootPem)
	if err != nil {
		fail("root %s: %v", *root, err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(rootCerts[0])
	known := map[string]*x509.Certificate{rootCerts[0].Subject.String(): rootCerts[0]}

	for _, f := range certs {
		data, err := os.ReadFile(f)
		if err != nil {
			fail("%v", err)
		}
		cs, err := readCerts(data)
		if err != nil {
			fail("certificate %s: %v", f, err)
		}
		for _, c := range cs {
			known[c.Subject.String()] = c
			emit(map[string]interface{}{"kind": "cert", "file": f, "subject": c.Subject.CommonName,
				"marker": certHasOID(c, *marker)})
		}
	}
	for _, f := range crls {
		data, err := os.ReadFile(f)
		if err != nil {
			fail("%v", err)
		}
		if block, _ := pem.Decode(data); block != nil {
			data = block.Bytes
		}
		crl, err := x509.ParseRevocationList(data)
		if err != nil {
			fail("CRL %s: %v", f, err)
		}
		issuer, ok := known[crl.Issuer.String()]
		if !ok {
			fail("CRL %s: issuer %q is not among the certificates given", f, crl.Issuer.String())
		}
		if err := crl.CheckSignatureFrom(issuer); err != nil {
			fail("CRL %s: signature: %v", f, err)
		}
		hasMarker := false
		for _, e := range crl.Extensions {
			hasMarker = hasMarker || e.Id.String() == *marker
		}
		emit(map[string]interface{}{"kind": "crl", "file": f, "issuer": crl.Issuer.CommonName,
			"revoked": len(crl.RevokedCertificates), "marker": hasMarker,
			"this_update": crl.ThisUpdate.UTC().Format(time.RFC3339)})
	}
	for _, f := range quotes {
		q, err := os.ReadFile(f)
		if err != nil {
			fail("%v", err)
		}
		chainPem, err := quoteChain(q)
		if err != nil {
			fail("quote %s: %v", f, err)
		}
		chain, err := readCerts(chainPem)
		if err != nil {
			fail("quote %s: PCK chain: %v", f, err)
		}
		if len(chain) != 3 {
			fail("quote %s: %d certificates in the PCK chain, not 3", f, len(chain))
		}
		inter := x509.NewCertPool()
		inter.AddCert(chain[1])
		if _, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			fail("quote %s: PCK chain does not verify: %v", f, err)
		}
		fmspc, err := sgxFmspc(chain[0])
		if err != nil {
			fail("quote %s: %v", f, err)
		}
		emit(map[string]interface{}{"kind": "quote", "file": f, "pck_issuer": chain[0].Issuer.CommonName,
			"fmspc": fmspc, "marker": certHasOID(chain[0], *marker) && certHasOID(chain[1], *marker) &&
				certHasOID(chain[2], *marker)})
	}
}
