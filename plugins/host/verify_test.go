package host

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"net/url"
	"testing"

	"github.com/hlsrelay/hlsrelay/plugins/abi"
)

type testKeys struct {
	rsaPKIXPEM, rsaPKCS1DER, rsaSmallPEM, ecPEM, ecP384DER, edPEM, edRaw []byte
	rsaSig, ecSig, edSig                                                 []byte
}

func makeKeys(t testing.TB, msg []byte) testKeys {
	t.Helper()
	var k testKeys
	h := sha256.Sum256(msg)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	k.rsaPKIXPEM = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	k.rsaPKCS1DER = x509.MarshalPKCS1PublicKey(&rk.PublicKey)
	k.rsaSig, _ = rsa.SignPKCS1v15(nil, rk, crypto.SHA256, h[:])
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	der, _ = x509.MarshalPKIXPublicKey(&small.PublicKey)
	k.rsaSmallPEM = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})

	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ = x509.MarshalPKIXPublicKey(&ek.PublicKey)
	k.ecPEM = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	r, s, _ := ecdsa.Sign(rand.Reader, ek, h[:])
	k.ecSig = make([]byte, 64)
	r.FillBytes(k.ecSig[:32])
	s.FillBytes(k.ecSig[32:])
	e384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	k.ecP384DER, _ = x509.MarshalPKIXPublicKey(&e384.PublicKey)

	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	der, _ = x509.MarshalPKIXPublicKey(pub)
	k.edPEM = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	k.edRaw = pub
	k.edSig = ed25519.Sign(priv, msg)
	return k
}

func flip(b []byte) []byte {
	c := append([]byte(nil), b...)
	c[len(c)-1] ^= 1
	return c
}

func TestSignatureVerify(t *testing.T) {
	t.Parallel()
	msg := []byte("header.payload")
	k := makeKeys(t, msg)
	mac := hmac.New(sha256.New, []byte("secret"))
	mac.Write(msg)
	hs := mac.Sum(nil)
	emptyMac := hmac.New(sha256.New, nil)
	emptyMac.Write(msg)
	var c keyCache
	for _, tt := range []struct {
		name     string
		alg      int32
		key, sig []byte
		want     int32
	}{
		{"HS256", abi.AlgHS256, []byte("secret"), hs, abi.SigValid},
		{"HS256 wrong", abi.AlgHS256, []byte("secret"), flip(hs), abi.SigInvalid},
		{"HS256 short sig", abi.AlgHS256, []byte("secret"), hs[:31], abi.SigInvalid},
		{"HS256 empty key", abi.AlgHS256, nil, emptyMac.Sum(nil), abi.SigValid},
		{"RS256 PEM", abi.AlgRS256, k.rsaPKIXPEM, k.rsaSig, abi.SigValid},
		{"RS256 PKCS1 DER", abi.AlgRS256, k.rsaPKCS1DER, k.rsaSig, abi.SigValid},
		{"RS256 wrong", abi.AlgRS256, k.rsaPKIXPEM, flip(k.rsaSig), abi.SigInvalid},
		{"RS256 1024 bits", abi.AlgRS256, k.rsaSmallPEM, k.rsaSig, abi.SigBadKey},
		{"RS256 EC key", abi.AlgRS256, k.ecPEM, k.rsaSig, abi.SigBadKey},
		{"ES256", abi.AlgES256, k.ecPEM, k.ecSig, abi.SigValid},
		{"ES256 wrong", abi.AlgES256, k.ecPEM, flip(k.ecSig), abi.SigInvalid},
		{"ES256 DER-length sig", abi.AlgES256, k.ecPEM, k.ecSig[:63], abi.SigInvalid},
		{"ES256 P-384 key", abi.AlgES256, k.ecP384DER, k.ecSig, abi.SigBadKey},
		{"EdDSA PEM", abi.AlgEdDSA, k.edPEM, k.edSig, abi.SigValid},
		{"EdDSA raw", abi.AlgEdDSA, k.edRaw, k.edSig, abi.SigValid},
		{"EdDSA wrong", abi.AlgEdDSA, k.edRaw, flip(k.edSig), abi.SigInvalid},
		{"EdDSA short sig", abi.AlgEdDSA, k.edRaw, k.edSig[:10], abi.SigInvalid},
		{"EdDSA garbage key", abi.AlgEdDSA, []byte("not a key"), k.edSig, abi.SigBadKey},
		{"unknown alg", 9, []byte("k"), hs, abi.SigBadAlg},
		{"alg 0", 0, []byte("k"), hs, abi.SigBadAlg},
	} {
		for round := range 2 { // the second round hits the key cache
			if got := c.verify(tt.alg, tt.key, msg, tt.sig); got != tt.want {
				t.Errorf("%s (round %d): %d, want %d", tt.name, round, got, tt.want)
			}
		}
	}
}

func TestKeyCacheBounded(t *testing.T) {
	t.Parallel()
	var c keyCache
	for i := range keyCacheSize + 50 {
		c.get(abi.AlgEdDSA, []byte{byte(i), byte(i >> 8), 30: 0, 31: 1})
	}
	if len(c.m) > keyCacheSize {
		t.Fatalf("%d keys cached, bound %d", len(c.m), keyCacheSize)
	}
}

// TestSignatureVerifyImport checks the import end to end through the probe.
func TestSignatureVerifyImport(t *testing.T) {
	t.Parallel()
	msg := []byte("a.b")
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	sig := ed25519.Sign(priv, msg)
	p := load(t, testRuntime(t), "probe", PluginConfig{})
	for _, tt := range []struct {
		alg  byte
		sig  []byte
		want string
	}{
		{'4', sig, "SIG_1"}, {'4', flip(sig), "SIG_0"}, {'2', sig, "SIG_M2"}, {'7', sig, "SIG_M4"},
	} {
		req := pull("s", "V"+string(tt.alg))
		req.Query = url.Values{"k": {string(pub)}, "m": {string(msg)}, "s": {string(tt.sig)}}
		if d := probe(t, p, req); d.Code != tt.want {
			t.Errorf("alg %c: %+v, want %s", tt.alg, d, tt.want)
		}
	}
}

func TestHMACStateReuse(t *testing.T) {
	t.Parallel()
	var h hmacState
	msg := []byte("m")
	for _, key := range []string{"a", "a", "b", "", "a"} {
		mac := hmac.New(sha256.New, []byte(key))
		mac.Write(msg)
		sum := mac.Sum(nil)
		if h.verify([]byte(key), msg, sum) != abi.SigValid || h.verify([]byte(key+"x"), msg, sum) != abi.SigInvalid {
			t.Fatalf("key %q", key)
		}
	}
}
