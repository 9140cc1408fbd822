package integration_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReverseProxies runs contrib/nginx.conf and contrib/Caddyfile, as the
// docs give them, in front of coffer on loopback, with TLS at the proxy
// under a certificate made here: discovery through /.well-known, one sync
// through each proxy, and the trusted-proxy case (one client's bad logins
// do not lock out another's first login).
func TestReverseProxies(t *testing.T) {
	certFile, keyFile, pool := proxyCert(t)
	for _, tt := range []struct {
		name, tool string
		start      func(t *testing.T, tool string, port int, upstream, cert, key string) *exec.Cmd
	}{
		{"nginx", "nginx", startNginx},
		{"caddy", "caddy", startCaddy},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tool, err := exec.LookPath(tt.tool)
			if err != nil {
				tool = "/usr/sbin/" + tt.tool
				if _, serr := os.Stat(tool); serr != nil {
					if os.Getenv("CI") != "" {
						t.Fatalf("%s is missing; .ci/run installs it", tt.tool)
					}
					t.Skipf("%s is missing (apt-get install nginx-light caddy); skipping", tt.tool)
				}
			}
			s := startServerWith(t, "", "--trusted-proxy", "127.0.0.1/32", "--public-url", "https://dav.example.org/")
			addUser(t, s.data, "pia", "pia's long password")
			addUser(t, s.data, "ola", "ola's long password")
			port := freePort(t)
			cmd := tt.start(t, tool, port, strings.TrimPrefix(strings.TrimSuffix(s.URL, "/"), "http://"), certFile, keyFile)
			t.Cleanup(func() {
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // nginx's workers too
				cmd.Wait()
			})
			base := fmt.Sprintf("https://127.0.0.1:%d", port)
			from := func(ip string) *http.Client {
				d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
				return &http.Client{Timeout: 20 * time.Second,
					Transport:     &http.Transport{DialContext: d.DialContext, TLSClientConfig: &tls.Config{RootCAs: pool}},
					CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			}
			do := func(hc *http.Client, user, pass, method, path, body string, hdr ...string) (int, http.Header, string) {
				t.Helper()
				req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
				if user != "" {
					req.SetBasicAuth(user, pass)
				}
				for i := 0; i+1 < len(hdr); i += 2 {
					req.Header.Set(hdr[i], hdr[i+1])
				}
				resp, err := hc.Do(req)
				if err != nil {
					t.Fatalf("%s %s through %s: %v", method, path, tt.name, err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, resp.Header, string(b)
			}
			waitFor(t, func() bool {
				_, err := from("127.0.0.1").Get(base + "/healthz")
				return err == nil
			})

			// Discovery.
			for _, p := range []string{"/.well-known/caldav", "/.well-known/carddav"} {
				if st, h, _ := do(from("127.0.0.1"), "", "", "PROPFIND", p, ""); st != 301 || h.Get("Location") != "https://dav.example.org/dav/" {
					t.Errorf("%s through %s: %d to %q", p, tt.name, st, h.Get("Location"))
				}
			}
			// One sync.
			c := from("127.0.0.5")
			cal := "/dav/calendars/pia/calendar/"
			if st, _, b := do(c, "pia", "pia's long password", "PUT", cal+"proxied.ics", event("proxied-1", "Through "+tt.name), "Content-Type", "text/calendar"); st != 201 {
				t.Fatalf("PUT through %s: %d %s", tt.name, st, b)
			}
			if st, _, b := do(c, "pia", "pia's long password", "PROPFIND", cal, "", "Depth", "1"); st != 207 || !strings.Contains(b, "proxied.ics") {
				t.Fatalf("PROPFIND through %s: %d %s", tt.name, st, b)
			}
			sync := `<sync-collection xmlns="DAV:"><sync-token/><sync-level>1</sync-level><prop><getetag/></prop></sync-collection>`
			if st, _, b := do(c, "pia", "pia's long password", "REPORT", cal, sync, "Depth", "1", "Content-Type", "application/xml"); st != 207 || !strings.Contains(b, "proxied.ics") {
				t.Fatalf("sync-collection through %s: %d %s", tt.name, st, b)
			}
			// Bad logins from one client address; another's first login passes.
			guesser := from("127.0.0.2")
			for i := 0; i < 7; i++ {
				do(guesser, "pia", "wrong password", "PROPFIND", cal, "", "Depth", "0")
			}
			if st, _, _ := do(guesser, "pia", "wrong password", "PROPFIND", cal, "", "Depth", "0"); st != 503 {
				t.Errorf("the guesser is not throttled through %s: %d", tt.name, st)
			}
			if st, _, _ := do(from("127.0.0.3"), "ola", "ola's long password", "PROPFIND", "/dav/calendars/ola/", "", "Depth", "0"); st != 207 {
				t.Errorf("another client's first login through %s: %d", tt.name, st)
			}
		})
	}
}

// proxyCert makes a self-signed certificate for 127.0.0.1 and
// dav.example.org, writes it and its key as PEM files, and returns them
// with a pool that trusts it.
func proxyCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dav.example.org"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"dav.example.org"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o644); err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(leaf)
	return certFile, keyFile, pool
}

// startNginx runs contrib/nginx.conf, with its port, certificate and
// upstream replaced, inside a minimal main configuration.
func startNginx(t *testing.T, tool string, port int, upstream, cert, key string) *exec.Cmd {
	t.Helper()
	site, err := os.ReadFile("../contrib/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.NewReplacer(
		"listen 443 ssl;", fmt.Sprintf("listen 127.0.0.1:%d ssl;", port),
		"/etc/letsencrypt/live/dav.example.org/fullchain.pem", cert,
		"/etc/letsencrypt/live/dav.example.org/privkey.pem", key,
		"http://127.0.0.1:8008", "http://"+upstream,
	).Replace(string(site))
	if conf == string(site) || !strings.Contains(conf, upstream) || !strings.Contains(conf, cert) {
		t.Fatal("contrib/nginx.conf no longer has the lines the test replaces")
	}
	dir := t.TempDir()
	main := fmt.Sprintf(`daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events {}
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[1]s/site.conf;
}
`, dir)
	if err := os.WriteFile(filepath.Join(dir, "site.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tool, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// startCaddy runs contrib/Caddyfile with its site address, certificate and
// upstream replaced.
func startCaddy(t *testing.T, tool string, port int, upstream, cert, key string) *exec.Cmd {
	t.Helper()
	file, err := os.ReadFile("../contrib/Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.NewReplacer(
		"dav.example.org {", fmt.Sprintf("{\n\tadmin off\n\tauto_https disable_redirects\n}\nhttps://127.0.0.1:%d {\n\ttls %s %s", port, cert, key),
		"reverse_proxy 127.0.0.1:8008", "reverse_proxy "+upstream,
	).Replace(string(file))
	if !strings.Contains(conf, upstream) || !strings.Contains(conf, cert) {
		t.Fatal("contrib/Caddyfile no longer has the lines the test replaces")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tool, "run", "--config", path, "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// freePort returns a loopback TCP port nobody listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitFor polls ok for up to 20 seconds.
func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for !ok() {
		select {
		case <-ctx.Done():
			t.Fatal("the proxy did not come up within 20s")
		case <-time.After(50 * time.Millisecond):
		}
	}
}
