package integration_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-dav/coffer/encryption/webpush"
	"github.com/coffer-dav/coffer/push"
	"github.com/coffer-dav/coffer/push/pushtest"
)

// nsPush is the WebDAV-Push namespace.
const nsPush = "https://bitfire.at/webdav-push"

// davx5PushRegister is the push-register body DAVx5's
// PushRegistrationManager writes with dav4jvm's names (no trigger, three
// days), with the device's push resource, key and secret put in.
const davx5PushRegister = `<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><n0:push-register xmlns:n0="https://bitfire.at/webdav-push"><n0:subscription><n0:web-push-subscription><n0:push-resource>{resource}</n0:push-resource><n0:subscription-public-key type="p256dh">{key}</n0:subscription-public-key><n0:auth-secret>{secret}</n0:auth-secret></n0:web-push-subscription></n0:subscription><n0:expires>{expires}</n0:expires></n0:push-register>`

// pushRig is a server with push on and a loopback push service that
// checks its VAPID signature and decrypts what it receives.
type pushRig struct {
	s   *server
	svc *pushtest.Server
}

// startPushRig starts coffer with push on, and the push service with the
// VAPID key coffer made in its data folder.
func startPushRig(t *testing.T) *pushRig {
	t.Helper()
	s := startServerWith(t, "", "--push", "on", "--push-allow-loopback")
	key, err := webpush.LoadVAPIDKey(filepath.Join(s.data, "vapid.key"))
	if err != nil {
		t.Fatal(err)
	}
	svc := pushtest.New(key.PublicKey())
	t.Cleanup(svc.Close)
	return &pushRig{s: s, svc: svc}
}

// registerDevice registers a new device of the push service on path as
// DAVx5 does and returns its subscription and registration URL.
func (r *pushRig) registerDevice(t *testing.T, c *client, path string) (push.Subscription, string) {
	t.Helper()
	sub := r.svc.Subscribe()
	res := c.must(201, "POST", path, pushRegisterBody(sub), davx5("Content-Type", "application/xml; charset=utf-8")...)
	loc := res.Header.Get("Location")
	if !strings.HasPrefix(loc, "http") || res.Header.Get("Expires") == "" {
		t.Fatalf("register: Location %q Expires %q", loc, res.Header.Get("Expires"))
	}
	return sub, loc
}

// pushRegisterBody is DAVx5's body for sub.
func pushRegisterBody(sub push.Subscription) string {
	return strings.NewReplacer("{resource}", sub.Endpoint,
		"{key}", base64.RawURLEncoding.EncodeToString(sub.P256dh),
		"{secret}", base64.RawURLEncoding.EncodeToString(sub.Auth),
		"{expires}", time.Now().Add(72*time.Hour).UTC().Format(http.TimeFormat)).Replace(davx5PushRegister)
}

// waitPush waits at most one second for the n-th message of sub.
func (r *pushRig) waitPush(t *testing.T, sub push.Subscription, n int) pushtest.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	msgs, err := r.svc.Wait(ctx, sub.Endpoint, n)
	if err != nil {
		t.Fatalf("within 1 s the push service got %d messages, want %d: %v (errors %v)", len(msgs), n, err, r.svc.Errors())
	}
	return msgs[n-1]
}

// noPush checks that sub has had exactly n messages after a while longer
// than the server's coalescing window.
func (r *pushRig) noPush(t *testing.T, sub push.Subscription, n int) {
	t.Helper()
	time.Sleep(700 * time.Millisecond)
	if got := len(r.svc.Messages(sub.Endpoint)); got != n {
		t.Fatalf("the push service got %d messages, want %d", got, n)
	}
}

// syncHrefs runs a sync-collection from token and returns the changed
// hrefs and the new token.
func syncHrefs(t *testing.T, c *client, coll, token string) ([]string, string) {
	t.Helper()
	body := `<?xml version="1.0" encoding="utf-8"?><sync-collection xmlns="DAV:"><sync-token>` + token + `</sync-token><sync-level>1</sync-level><prop><getetag/></prop></sync-collection>`
	res := c.must(207, "REPORT", coll, body, "Depth", "1", "Content-Type", "application/xml")
	var hrefs []string
	for _, x := range xresponses(t, res.Body) {
		hrefs = append(hrefs, x.Href)
	}
	root := parseXNode(t, res.Body)
	return hrefs, root.child(nsD, "sync-token").trimmed()
}

// TestPushDelivery: device A registers on a collection; device B changes
// it; within a second A's push service has a message naming the
// collection's topic and its new sync-token, and A's sync from its
// previous token returns exactly the change.
func TestPushDelivery(t *testing.T) {
	r := startPushRig(t)
	a := r.s.client(t, r.s.User, r.s.Password)
	b := r.s.client(t, r.s.User, r.s.Password)
	cal := "/dav/calendars/" + r.s.User + "/calendar/"
	tasks := "/dav/calendars/" + r.s.User + "/tasks/"
	book := "/dav/addressbooks/" + r.s.User + "/contacts/"
	tests := []struct {
		name, coll, method, path, body string
		headers                        []string
		property                       bool
	}{
		{"event", cal, "PUT", cal + "push-ev.ics", event("push-ev@example.org", "Pushed"), []string{"Content-Type", "text/calendar; charset=utf-8"}, false},
		{"contact", book, "PUT", book + "push-c.vcf", contact3("push-c@example.org", "Pushed Person"), []string{"Content-Type", "text/vcard; charset=utf-8"}, false},
		{"task", tasks, "PUT", tasks + "push-t.ics", task("push-t@example.org", "Pushed task"), []string{"Content-Type", "text/calendar; charset=utf-8"}, false},
		{"delete", cal, "DELETE", cal + "push-ev.ics", "", nil, false},
		{"displayname", cal, "PROPPATCH", cal, `<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Pushed name</D:displayname></D:prop></D:set></D:propertyupdate>`, []string{"Content-Type", "application/xml"}, true},
	}
	devices := map[string]push.Subscription{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sub, ok := devices[tc.coll]
			if !ok {
				sub, _ = r.registerDevice(t, a, tc.coll)
				devices[tc.coll] = sub
			}
			before := len(r.svc.Messages(sub.Endpoint))
			topic := a.propOfNS(t, tc.coll, nsPush, "topic")
			token := a.propOfNS(t, tc.coll, nsD, "sync-token")
			if topic == "" || token == "" {
				t.Fatalf("topic %q, sync-token %q", topic, token)
			}
			if res := b.do(tc.method, tc.path, tc.body, tc.headers...); res.Status >= 300 {
				t.Fatalf("%s %s: %d %s", tc.method, tc.path, res.Status, res.Body)
			}
			m := r.waitPush(t, sub, before+1)
			got := string(m.Payload)
			if !strings.Contains(got, "<P:topic>"+topic+"</P:topic>") {
				t.Fatalf("the message does not name the topic %q: %s", topic, got)
			}
			if m.Topic != push.CollapseKey(topic) || m.TTL <= 0 {
				t.Errorf("Topic header %q, TTL %d", m.Topic, m.TTL)
			}
			if tc.property {
				if !strings.Contains(got, "<P:property-update") {
					t.Fatalf("no property-update: %s", got)
				}
				return
			}
			newToken := a.propOfNS(t, tc.coll, nsD, "sync-token")
			if !strings.Contains(got, "<D:sync-token>"+newToken+"</D:sync-token>") {
				t.Fatalf("the message lacks the new sync-token %q: %s", newToken, got)
			}
			hrefs, synced := syncHrefs(t, a, tc.coll, token)
			if len(hrefs) != 1 || hrefs[0] != tc.path || synced != newToken {
				t.Fatalf("sync from %s: %v, token %s; want [%s] and %s", token, hrefs, synced, tc.path, newToken)
			}
		})
	}
}

// TestPushEnds: unregistering stops the messages; a 410 from the push
// service drops the subscription without a second attempt; another user's
// collection refuses a registration; Push-Dont-Notify spares the device
// that made the change.
func TestPushEnds(t *testing.T) {
	r := startPushRig(t)
	a := r.s.client(t, r.s.User, r.s.Password)
	cal := "/dav/calendars/" + r.s.User + "/calendar/"
	put := func(t *testing.T, name string, headers ...string) {
		t.Helper()
		a.must(201, "PUT", cal+name+".ics", event(name+"@example.org", name), append([]string{"Content-Type", "text/calendar"}, headers...)...)
	}
	t.Run("unregister", func(t *testing.T) {
		sub, loc := r.registerDevice(t, a, cal)
		put(t, "u1")
		r.waitPush(t, sub, 1)
		path := loc[strings.Index(loc, "/dav/push/"):]
		a.must(204, "DELETE", path, "", davx5()...)
		put(t, "u2")
		r.noPush(t, sub, 1)
		a.must(404, "DELETE", path, "", davx5()...)
	})
	t.Run("gone", func(t *testing.T) {
		sub, _ := r.registerDevice(t, a, cal)
		r.svc.SetAnswer(sub.Endpoint, pushtest.Gone)
		put(t, "g1")
		deadline := time.Now().Add(time.Second)
		for r.svc.Attempts(sub.Endpoint) == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		r.svc.SetAnswer(sub.Endpoint, pushtest.Take)
		time.Sleep(100 * time.Millisecond) // the drop follows the answer
		put(t, "g2")
		time.Sleep(700 * time.Millisecond)
		if n := r.svc.Attempts(sub.Endpoint); n != 1 {
			t.Fatalf("the push service was asked %d times, want once", n)
		}
	})
	t.Run("another user's collection", func(t *testing.T) {
		addUser(t, r.s.data, "pushbob", "pushbob-password-1")
		bob := r.s.client(t, "pushbob", "pushbob-password-1")
		res := bob.do("POST", cal, pushRegisterBody(r.svc.Subscribe()), davx5("Content-Type", "application/xml; charset=utf-8")...)
		if res.Status != 403 || res.Header.Get("Location") != "" {
			t.Fatalf("bob's registration on %s: %d %s", cal, res.Status, res.Body)
		}
	})
	t.Run("Push-Dont-Notify", func(t *testing.T) {
		me, loc := r.registerDevice(t, a, cal)
		other, _ := r.registerDevice(t, a, cal)
		put(t, "d1", "Push-Dont-Notify", `"`+loc+`"`)
		r.waitPush(t, other, 1)
		r.noPush(t, me, 0)
	})
}

// TestInstancesShareTheVAPIDKey: a second instance on the database refuses
// to start without the first one's vapid.key, or with another key; with a
// copy it serves, and a change made through it is pushed once, signed
// with the shared key, to a device that registered through the first.
func TestInstancesShareTheVAPIDKey(t *testing.T) {
	dsn := instancesDatabase(t)
	dir := t.TempDir()
	d1, d2 := filepath.Join(dir, "instance-1"), filepath.Join(dir, "instance-2")
	pushFlags := []string{"--database", dsn, "--push", "on", "--push-allow-loopback"}
	first := startServerWith(t, d1, pushFlags...)
	secret, err := os.ReadFile(filepath.Join(d1, "server.key"))
	if err != nil {
		t.Fatal(err)
	}
	noErr(t, os.Mkdir(d2, 0o700))
	noErr(t, os.WriteFile(filepath.Join(d2, "server.key"), secret, 0o600))
	other, err := webpush.GenerateVAPIDKey()
	if err != nil {
		t.Fatal(err)
	}
	otherPEM, err := other.MarshalPEM()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		setup func()
		want  string
	}{
		{"no vapid.key", func() {}, "copy vapid.key from the first instance"},
		{"another vapid.key", func() { noErr(t, os.WriteFile(filepath.Join(d2, "vapid.key"), otherPEM, 0o600)) }, "is not this database's"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup()
			out, err := coffer(t, "", append([]string{"serve", "--data", d2, "--listen", "127.0.0.1:0"}, pushFlags...)...)
			if err == nil || !strings.Contains(out, tc.want) {
				t.Fatalf("serve: %v, want a refusal naming %q:\n%s", err, tc.want, out)
			}
		})
	}
	key, err := os.ReadFile(filepath.Join(d1, "vapid.key"))
	if err != nil {
		t.Fatal(err)
	}
	noErr(t, os.WriteFile(filepath.Join(d2, "vapid.key"), key, 0o600))
	second := startServerWith(t, d2, pushFlags...)

	vk, err := webpush.ParseVAPIDKey(key)
	if err != nil {
		t.Fatal(err)
	}
	r := &pushRig{s: first, svc: pushtest.New(vk.PublicKey())}
	t.Cleanup(r.svc.Close)
	cal := "/dav/calendars/" + first.User + "/calendar/"
	sub, _ := r.registerDevice(t, first.client(t, first.User, first.Password), cal)
	second.client(t, first.User, first.Password).must(201, "PUT", cal+"i2.ics", event("i2@example.org", "Through the second"), "Content-Type", "text/calendar")
	r.waitPush(t, sub, 1)
	r.noPush(t, sub, 1)
	if errs := r.svc.Errors(); len(errs) != 0 {
		t.Fatalf("the push service refused: %v", errs)
	}
}

// noErr fails the test on err.
func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// execSQL runs one statement on the database of the data folder, and
// returns the first column of its first row when it has one (SQLite and
// PostgreSQL alike).
func execSQL(t *testing.T, data, query string) int64 {
	t.Helper()
	var n int64
	if onPostgres() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, databaseFor(t, data))
		noErr(t, err)
		defer conn.Close(ctx)
		if err := conn.QueryRow(ctx, query).Scan(&n); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(data, "coffer.db"))
	noErr(t, err)
	defer db.Close()
	if err := db.QueryRow(query).Scan(&n); err != nil && !errors.Is(err, sql.ErrNoRows) {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestPushExpired: a registration past its expiry (the server's clock
// cannot be moved, so the readable expiry is set back in the database) is
// dropped by the sweeper without the user's key, and its device gets no
// message; a registration still running gets one.
func TestPushExpired(t *testing.T) {
	s := startServerWith(t, "", "--push", "on", "--push-allow-loopback", "--sweep-every", "1s")
	key, err := webpush.LoadVAPIDKey(filepath.Join(s.data, "vapid.key"))
	noErr(t, err)
	r := &pushRig{s: s, svc: pushtest.New(key.PublicKey())}
	t.Cleanup(r.svc.Close)
	a := s.client(t, s.User, s.Password)
	cal := "/dav/calendars/" + s.User + "/calendar/"
	expired, loc := r.registerDevice(t, a, cal)
	id := loc[strings.LastIndex(loc, "/")+1:]
	if !validSQLWord(id) {
		t.Fatalf("registration id %q", id)
	}
	execSQL(t, s.data, "UPDATE push_subscriptions SET expires_at = 1 WHERE id = '"+id+"' RETURNING 1")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if execSQL(t, s.data, "SELECT count(*) FROM push_subscriptions WHERE id = '"+id+"'") == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sweeper did not drop the expired registration:\n%s", s.output())
		}
	}
	running, _ := r.registerDevice(t, a, cal)
	a.must(201, "PUT", cal+"x1.ics", event("x1@example.org", "After the expiry"), "Content-Type", "text/calendar")
	r.waitPush(t, running, 1)
	r.noPush(t, expired, 0)
}

// validSQLWord reports whether s can go into a test's SQL literal as is.
func validSQLWord(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return s != ""
}

// TestPushAfterImport: `coffer import`, run beside the server, sends
// nothing itself but queues the devices' messages in the outbox, and the
// server sends them at its next look there (every 5 s), with the sync
// token the import left.
func TestPushAfterImport(t *testing.T) {
	r := startPushRig(t)
	a := r.s.client(t, r.s.User, r.s.Password)
	cal := "/dav/calendars/" + r.s.User + "/calendar/"
	sub, _ := r.registerDevice(t, a, cal)
	ics := filepath.Join(t.TempDir(), "import.ics")
	body := event("imported-1@example.org", "Imported")
	noErr(t, os.WriteFile(ics, []byte(body), 0o600))
	out, err := coffer(t, r.s.Password+"\n", "import", r.s.User, ics, "--password-stdin", "--data", r.s.data)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if !strings.Contains(out, "1 push messages queued") {
		t.Fatalf("the import did not say it queued the device's message:\n%s", out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	msgs, err := r.svc.Wait(ctx, sub.Endpoint, 1)
	if err != nil {
		t.Fatalf("within 8 s of the import the push service got %d messages: %v (errors %v)", len(msgs), err, r.svc.Errors())
	}
	token := a.propOfNS(t, cal, nsD, "sync-token")
	if got := string(msgs[0].Payload); !strings.Contains(got, "<D:sync-token>"+token+"</D:sync-token>") {
		t.Fatalf("the message lacks the sync-token %q the import left: %s", token, got)
	}
}
