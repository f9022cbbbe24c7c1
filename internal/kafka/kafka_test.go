package kafka

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string // substring of the error, "" for valid
	}{
		{"valid", Config{Brokers: []string{"a:9092"}}, ""},
		{"no brokers", Config{}, "no brokers"},
		{"not host:port", Config{Brokers: []string{"kafka"}}, "not host:port"},
		{"sasl without user", Config{Brokers: []string{"a:1"}, SASLMechanism: "PLAIN"}, "needs a user"},
		{"unknown sasl", Config{Brokers: []string{"a:1"}, SASLMechanism: "GSSAPI", SASLUser: "u"}, "unknown SASL"},
		{"scram ok", Config{Brokers: []string{"a:1"}, SASLMechanism: "scram-sha-512", SASLUser: "u"}, ""},
		{"cert without key", Config{Brokers: []string{"a:1"}, TLSCertFile: "c.pem"}, "go together"},
		{"bad compression", Config{Brokers: []string{"a:1"}, Compression: "brotli"}, "unknown compression"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.want == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("want error containing %q, got %v", tc.want, err)
			}
		})
	}
}

func TestParseBrokers(t *testing.T) {
	got := ParseBrokers(" a:1, ,b:2,")
	if len(got) != 2 || got[0] != "a:1" || got[1] != "b:2" {
		t.Fatalf("got %q", got)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestEmbeddedBrokerIsDurable: records and topics survive a restart of the
// embedded broker on the same data directory and address.
func TestEmbeddedBrokerIsDurable(t *testing.T) {
	dir := t.TempDir()
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	topics := Topics{Raw: "raw", DeadLetter: "dlq", Partitions: 3, Replication: 1}

	b, err := StartBroker(BrokerConfig{Listen: addr, DataDir: dir, SyncWrites: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Addrs(); len(got) != 1 || got[0] != addr {
		t.Fatalf("listening on %v, want %s", got, addr)
	}
	cl, err := kgo.NewClient(append(ProducerOpts(100), kgo.SeedBrokers(addr))...)
	if err != nil {
		t.Fatal(err)
	}
	if err := EnsureTopics(ctx, kadm.NewClient(cl), topics.Specs(), nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "raw", Key: []byte{byte(i)}, Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cl.Close()
	b.Close()

	b, err = StartBroker(BrokerConfig{Listen: addr, DataDir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cl, err = kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ends, err := EndOffsets(ctx, adm, "raw")
	if err != nil {
		t.Fatal(err)
	}
	if ends["raw"] != 10 {
		t.Fatalf("after restart the raw topic holds %d records, want 10", ends["raw"])
	}
	// Ensuring again is a no-op on existing topics.
	if err := EnsureTopics(ctx, adm, topics.Specs(), nil); err != nil {
		t.Fatal(err)
	}
	details, err := adm.ListTopics(ctx, "raw", "dlq")
	if err != nil || len(details["raw"].Partitions) != 3 || len(details["dlq"].Partitions) != 3 {
		t.Fatalf("topics after restart: %v %v", details, err)
	}
}

func TestTopicsValidate(t *testing.T) {
	good := DefaultTopicConfig()
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Topics{
		{Raw: "", DeadLetter: "d", Partitions: 1, Replication: 1},
		{Raw: "r", DeadLetter: "d", Partitions: 0, Replication: 1},
		{Raw: "r", DeadLetter: "d", Partitions: 1, Replication: 0},
		{Raw: "r", DeadLetter: "d", Partitions: 1, Replication: -2},
	} {
		if bad.Validate() == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}

// TestSASL connects with each supported mechanism to a broker that requires
// it, and fails with a wrong password.
func TestSASL(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(),
		kfake.Superuser("PLAIN", "plain-user", "plain-pass"),
		kfake.Superuser("SCRAM-SHA-256", "scram256", "pass256"),
		kfake.Superuser("SCRAM-SHA-512", "scram512", "pass512"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tests := []struct {
		mech, user, pass string
		ok               bool
	}{
		{"PLAIN", "plain-user", "plain-pass", true},
		{"SCRAM-SHA-256", "scram256", "pass256", true},
		{"SCRAM-SHA-512", "scram512", "pass512", true},
		{"SCRAM-SHA-512", "scram512", "wrong", false},
	}
	for _, tc := range tests {
		t.Run(tc.mech+"/"+tc.pass, func(t *testing.T) {
			cfg := Config{Brokers: c.ListenAddrs(), SASLMechanism: tc.mech, SASLUser: tc.user, SASLPassword: tc.pass}
			opts, err := cfg.Opts(nil)
			if err != nil {
				t.Fatal(err)
			}
			cl, err := kgo.NewClient(opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err = kadm.NewClient(cl).BrokerMetadata(ctx)
			if tc.ok && err != nil {
				t.Fatalf("could not connect: %v", err)
			}
			if !tc.ok && err == nil {
				t.Fatal("connected with a wrong password")
			}
		})
	}
}

// TestTLS connects over TLS trusting a CA file, and refuses a broker whose
// certificate the CA did not sign.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gamepulse-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.TLS(&tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	connect := func(cfg Config) error {
		opts, err := cfg.Opts(nil)
		if err != nil {
			return err
		}
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			return err
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err = kadm.NewClient(cl).BrokerMetadata(ctx)
		return err
	}
	if err := connect(Config{Brokers: c.ListenAddrs(), TLS: true, TLSCAFile: caFile}); err != nil {
		t.Fatalf("TLS with the right CA: %v", err)
	}
	if err := connect(Config{Brokers: c.ListenAddrs(), TLS: true}); err == nil {
		t.Fatal("connected to a broker whose certificate no trusted CA signed")
	}
}
