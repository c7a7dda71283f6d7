package host

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"hash"
	"math/big"
	"sync"

	"github.com/tetratelabs/wazero/api"

	"github.com/hlsrelay/hlsrelay/plugins/abi"
)

// Signatures are verified by the host because the guest would be slow
// (tens of µs for an HMAC in a Go guest, milliseconds for RSA) and because
// it is easy to get wrong (constant-time comparison, key size checks).

func signatureVerify(ctx context.Context, _ api.Module, stack []uint64) {
	in := callOf(ctx)
	key := in.read(stack[1], stack[2])
	msg := in.read(stack[3], stack[4])
	sig := in.read(stack[5], stack[6])
	alg := int32(stack[0])
	if alg == abi.AlgHS256 {
		stack[0] = api.EncodeI32(in.hmac.verify(key, msg, sig))
		return
	}
	stack[0] = api.EncodeI32(in.p.r.keys.verify(alg, key, msg, sig))
}

// hmacState keeps an instance's last HMAC key and its hash, since a plugin
// verifies every token with the same secret: reusing them makes an HS256
// check allocation-free.
type hmacState struct {
	key []byte
	mac hash.Hash
	sum [sha256.Size]byte
}

func (h *hmacState) verify(key, msg, sig []byte) int32 {
	if h.mac == nil || !bytes.Equal(h.key, key) {
		h.key = append(h.key[:0], key...)
		h.mac = hmac.New(sha256.New, h.key)
	} else {
		h.mac.Reset()
	}
	h.mac.Write(msg)
	return result(hmac.Equal(h.mac.Sum(h.sum[:0]), sig))
}

// minRSABits is the smallest RSA modulus RS256 accepts.
const minRSABits = 2048

// keyCacheSize bounds the parsed public keys kept by a Runtime.
const keyCacheSize = 256

type keyID struct {
	alg int32
	sum [sha256.Size]byte
}

// keyCache keeps parsed public keys (or the fact that a key is unusable),
// keyed by a hash of the key bytes, so a plugin verifying every token with
// the same PEM does not parse it every time.
type keyCache struct {
	mu sync.RWMutex
	m  map[keyID]crypto.PublicKey // nil value: unusable for alg
}

func (c *keyCache) get(alg int32, key []byte) crypto.PublicKey {
	id := keyID{alg: alg, sum: sha256.Sum256(key)}
	c.mu.RLock()
	pub, ok := c.m[id]
	c.mu.RUnlock()
	if ok {
		return pub
	}
	pub = parseKey(alg, bytes.Clone(key)) // never keep guest memory
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[keyID]crypto.PublicKey)
	}
	if len(c.m) >= keyCacheSize {
		for k := range c.m { // evict an arbitrary entry
			delete(c.m, k)
			break
		}
	}
	c.m[id] = pub
	c.mu.Unlock()
	return pub
}

// verify implements signature_verify's answer for alg.
func (c *keyCache) verify(alg int32, key, msg, sig []byte) int32 {
	if alg == abi.AlgHS256 {
		var h hmacState
		return h.verify(key, msg, sig)
	}
	if alg != abi.AlgRS256 && alg != abi.AlgES256 && alg != abi.AlgEdDSA {
		return abi.SigBadAlg
	}
	pub := c.get(alg, key)
	if pub == nil {
		return abi.SigBadKey
	}
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		h := sha256.Sum256(msg)
		return result(rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig) == nil)
	case *ecdsa.PublicKey:
		if len(sig) != 64 {
			return abi.SigInvalid
		}
		h := sha256.Sum256(msg)
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		return result(ecdsa.Verify(pub, h[:], r, s))
	case ed25519.PublicKey:
		if len(sig) != ed25519.SignatureSize {
			return abi.SigInvalid
		}
		return result(ed25519.Verify(pub, msg, sig))
	}
	return abi.SigBadKey
}

func result(ok bool) int32 {
	if ok {
		return abi.SigValid
	}
	return abi.SigInvalid
}

// parseKey parses a public key for alg from PEM or DER (PKIX, or PKCS #1
// for RSA), or the raw 32 bytes of an Ed25519 key. It returns nil if the
// key cannot be used for alg.
func parseKey(alg int32, key []byte) crypto.PublicKey {
	der := key
	block, _ := pem.Decode(key)
	if block != nil {
		der = block.Bytes
	} else if alg == abi.AlgEdDSA && len(key) == ed25519.PublicKeySize {
		return ed25519.PublicKey(key)
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil && alg == abi.AlgRS256 {
		pub, err = x509.ParsePKCS1PublicKey(der)
	}
	if err != nil {
		return nil
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if alg == abi.AlgRS256 && k.N.BitLen() >= minRSABits {
			return k
		}
	case *ecdsa.PublicKey:
		if alg == abi.AlgES256 && k.Curve == elliptic.P256() {
			return k
		}
	case ed25519.PublicKey:
		if alg == abi.AlgEdDSA {
			return k
		}
	}
	return nil
}
