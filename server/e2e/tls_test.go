package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/server/internal/config"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key}
}

// issue makes a server certificate for 127.0.0.1 with the given serial
// number and returns it and its key, in PEM.
func (ca *testCA) issue(t *testing.T, serial int64) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "relay"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// replaceFile writes data to path through a rename, as certificate tools
// do, so a reader sees the old file or the new one.
func replaceFile(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// tlsClient trusts both CAs and records the serial number of the
// certificate each handshake saw.
type tlsClient struct {
	mu      sync.Mutex
	serials []int64
	config  *tls.Config
}

func newTLSClient(cas ...*testCA) *tlsClient {
	c := &tlsClient{}
	pool := x509.NewCertPool()
	for _, ca := range cas {
		pool.AddCert(ca.cert)
	}
	c.config = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12,
		VerifyConnection: func(cs tls.ConnectionState) error {
			c.mu.Lock()
			c.serials = append(c.serials, cs.PeerCertificates[0].SerialNumber.Int64())
			c.mu.Unlock()
			return nil
		}}
	return c
}

func (c *tlsClient) last() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.serials[len(c.serials)-1]
}

// handshake opens a TLS connection to addr and returns the serial number of
// the certificate the relay presented.
func (c *tlsClient) handshake(t *testing.T, addr string) int64 {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, c.config)
	if err != nil {
		t.Fatalf("TLS handshake with %s: %v", addr, err)
	}
	conn.Close()
	return c.last()
}

func (c *tlsClient) dialOptions() *websocket.DialOptions {
	return &websocket.DialOptions{HTTPClient: &http.Client{Transport: &http.Transport{TLSClientConfig: c.config}}}
}

// TestTLSCertificateSwap: a relay serves ws:// and wss:// at once; its
// certificate files are replaced while viewers watch over wss://. The
// viewers' connections go on untouched, new handshakes get the new
// certificate without a restart, and a broken replacement is refused while
// the last good certificate keeps serving.
func TestTLSCertificateSwap(t *testing.T) {
	t.Parallel()
	ca1, ca2 := newTestCA(t, "first CA"), newTestCA(t, "second CA")
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	cert1, key1 := ca1.issue(t, 1001)
	replaceFile(t, certFile, cert1)
	replaceFile(t, keyFile, key1)
	const check = 100 * time.Millisecond
	wsURL, node := startRelayNode(t, func(c *config.Config) {
		c.TLS = config.TLSConfig{Enabled: true, BindAddress: "127.0.0.1", Port: 0,
			CertificateFile: certFile, PrivateKeyFile: keyFile, CheckReloadInterval: check}
	})
	tlsAddr := node.TLSAddr().String()
	wssURL := "wss://" + tlsAddr + "/"
	client := newTLSClient(ca1, ca2)

	// HTTP and HTTPS at once: both answer the health check.
	https := &http.Client{Transport: &http.Transport{TLSClientConfig: client.config}}
	for _, u := range []string{httpBase(wsURL) + "/healthz", "https://" + tlsAddr + "/healthz"} {
		resp, err := https.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", u, resp.StatusCode)
		}
	}

	const stream = "tls/cam"
	pub := publish(t, wsURL, stream) // over ws://
	viewers := make([]*wire, 3)
	for i := range viewers {
		viewers[i] = dialWith(t, wssURL, client.dialOptions())
		viewers[i].sendText(pullMsg(stream, pullToken(t, stream), 0))
		viewers[i].expectText("OK")
		if got := client.last(); got != 1001 {
			t.Fatalf("viewer %d saw certificate %d, want 1001", i, got)
		}
	}
	n := 0
	deliver := func(ws ...*wire) {
		t.Helper()
		data := []byte(strings.Repeat("x", 1000) + string(rune('a'+n%26)))
		n++
		pub.sendFragment(1, data)
		for i, w := range ws {
			if _, b := w.readFragment(); string(b) != string(data) {
				t.Fatalf("viewer %d: fragment %d differs", i, n)
			}
		}
	}
	deliver(viewers...)

	// Renewal: a certificate from another CA replaces the files.
	cert2, key2 := ca2.issue(t, 2002)
	swapped := time.Now()
	replaceFile(t, keyFile, key2)
	replaceFile(t, certFile, cert2)
	// Fragments keep flowing to the viewers while the relay notices.
	var seen time.Duration
	for deadline := time.Now().Add(10 * time.Second); ; {
		deliver(viewers...)
		if client.handshake(t, tlsAddr) == 2002 {
			seen = time.Since(swapped)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("new handshakes never got the new certificate")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("new certificate served %v after the files were replaced (check interval %v); %d fragments delivered meanwhile on the old connections",
		seen.Round(time.Millisecond), check, n)
	late := dialWith(t, wssURL, client.dialOptions())
	late.sendText(pullMsg(stream, pullToken(t, stream), 0))
	late.expectText("OK")
	if got := client.last(); got != 2002 {
		t.Fatalf("a viewer that joined after the swap saw certificate %d, want 2002", got)
	}
	deliver(append(viewers, late)...)

	// A broken replacement (a key that does not match) is refused: the
	// last good certificate keeps serving.
	_, otherKey := ca1.issue(t, 3003)
	replaceFile(t, keyFile, otherKey)
	time.Sleep(5 * check)
	if got := client.handshake(t, tlsAddr); got != 2002 {
		t.Fatalf("after a broken replacement the relay served %d, want 2002 still", got)
	}
	deliver(append(viewers, late)...)

	// The stream ends as usual for every viewer.
	pub.sendText(protocol.TypeClose)
	for _, w := range append(viewers, late) {
		w.expectText(protocol.TypeClose)
	}
}
