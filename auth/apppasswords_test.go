package auth

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
)

// appStore adds app passwords to memStore.
type appStore struct {
	*memStore
	amu      sync.Mutex
	apps     map[int64][]StoredAppPassword
	touches  int
	listHold chan struct{} // when set, AppPasswords waits on it after reading
}

func (a *appStore) AppPasswords(ctx context.Context, account int64) ([]StoredAppPassword, error) {
	a.amu.Lock()
	out := append([]StoredAppPassword(nil), a.apps[account]...)
	hold := a.listHold
	a.amu.Unlock()
	if hold != nil {
		<-hold
	}
	return out, nil
}

func (a *appStore) AddAppPassword(ctx context.Context, account int64, p StoredAppPassword) error {
	a.amu.Lock()
	defer a.amu.Unlock()
	a.apps[account] = append(a.apps[account], p)
	return nil
}

func (a *appStore) DeleteAppPassword(ctx context.Context, account int64, id string) error {
	a.amu.Lock()
	defer a.amu.Unlock()
	for i, p := range a.apps[account] {
		if p.ID == id {
			a.apps[account] = append(a.apps[account][:i], a.apps[account][i+1:]...)
			return nil
		}
	}
	return ErrUnknownAppPassword
}

func (a *appStore) TouchAppPassword(ctx context.Context, account int64, id string, at time.Time) error {
	a.amu.Lock()
	defer a.amu.Unlock()
	for i, p := range a.apps[account] {
		if p.ID == id {
			a.apps[account][i].LastUsed = at
			a.touches++
			return nil
		}
	}
	return ErrUnknownAppPassword
}

// newAppTestService returns a service with app passwords and users "alice"
// (account 1) and "bob" (account 2), whose passwords are "<name>-password".
func newAppTestService(t *testing.T, o Options) (*Service, *appStore) {
	t.Helper()
	st := &appStore{memStore: &memStore{creds: map[string]*Credentials{}}, apps: map[int64][]StoredAppPassword{}}
	o.KDF = testKDF
	o.ServerSecret = make([]byte, 32)
	s, err := New(st, o)
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"alice", "bob"} {
		e, err := s.Enroll(name + "-password")
		if err != nil {
			t.Fatal(err)
		}
		slots, err := e.Slots(int64(i + 1))
		if err != nil {
			t.Fatal(err)
		}
		st.creds[name] = &Credentials{AccountID: int64(i + 1), Username: name, PasswordSlot: slots["password"], RecoverySlot: slots["recovery"]}
	}
	return s, st
}

func TestAppPasswordLoginSkipsArgon2(t *testing.T) {
	s, _ := newAppTestService(t, Options{MaxArgon2: 1})
	ctx := context.Background()
	alice, err := s.Login(ctx, "alice", "alice-password")
	if err != nil {
		t.Fatal(err)
	}
	info, secret, err := s.CreateAppPassword(ctx, alice, "Pixel 9")
	if err != nil {
		t.Fatal(err)
	}
	if len(NormalizeSecret(secret)) != 32 || info.ID == "" || info.Label != "Pixel 9" {
		t.Fatalf("created %+v with secret of %d letters", info, len(NormalizeSecret(secret)))
	}
	// Hold the only Argon2 place: a login that needed it would time out.
	release, err := s.gate.acquire(ctx, "", true)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	runs := s.Argon2Runs()
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	for _, typed := range []string{secret, strings.ToLower(secret), strings.ReplaceAll(secret, "-", ""), strings.ReplaceAll(secret, "-", " ")} {
		id, err := s.Login(short, "alice", typed)
		if err != nil {
			t.Fatalf("login with the app password typed as %q: %v", typed, err)
		}
		if id.AccountID != 1 || id.AppPassword != info.ID || string(id.Keys.UserKey()) != string(alice.Keys.UserKey()) {
			t.Fatalf("app password identity = %+v", id)
		}
	}
	if got := s.Argon2Runs(); got != runs {
		t.Fatalf("app password logins ran Argon2 %d times", got-runs)
	}
}

func TestAppPasswordRefusals(t *testing.T) {
	s, _ := newAppTestService(t, Options{})
	ctx := context.Background()
	alice, err := s.Login(ctx, "alice", "alice-password")
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := s.CreateAppPassword(ctx, alice, "laptop")
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewSecret(20)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, user, password string
	}{
		{"wrong app password", "alice", other},
		{"alice's app password for bob", "bob", secret},
		{"unknown user", "carol", secret},
		{"one letter changed", "alice", flipLast(secret)},
		{"truncated", "alice", secret[:len(secret)-1]},
	}
	for _, tt := range tests {
		if _, err := s.Login(ctx, tt.user, tt.password); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("%s: Login = %v, want ErrBadCredentials", tt.name, err)
		}
	}
	// The account password still works beside app passwords.
	if _, err := s.Login(ctx, "alice", "alice-password"); err != nil {
		t.Fatal(err)
	}
}

func TestRevokeAppPasswordStopsItAtOnce(t *testing.T) {
	s, _ := newAppTestService(t, Options{})
	ctx := context.Background()
	alice, err := s.Login(ctx, "alice", "alice-password")
	if err != nil {
		t.Fatal(err)
	}
	phone, phoneSecret, err := s.CreateAppPassword(ctx, alice, "phone")
	if err != nil {
		t.Fatal(err)
	}
	_, tabletSecret, err := s.CreateAppPassword(ctx, alice, "tablet")
	if err != nil {
		t.Fatal(err)
	}
	// Both are in the login cache now.
	for _, sec := range []string{phoneSecret, tabletSecret} {
		if _, err := s.Login(ctx, "alice", sec); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeAppPassword(ctx, alice, phone.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Login(ctx, "alice", phoneSecret); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("revoked app password = %v, want ErrBadCredentials", err)
	}
	if _, err := s.Login(ctx, "alice", tabletSecret); err != nil {
		t.Fatalf("the other app password after a revocation: %v", err)
	}
	if err := s.RevokeAppPassword(ctx, alice, phone.ID); !errors.Is(err, ErrUnknownAppPassword) {
		t.Fatalf("second revocation = %v", err)
	}
	list, err := s.AppPasswords(ctx, alice)
	if err != nil || len(list) != 1 || list[0].Label != "tablet" {
		t.Fatalf("list after revocation = %+v, %v", list, err)
	}
}

// TestRevokeDuringVerification: a login verified while the app password
// is being revoked is answered, but not cached past the revocation.
func TestRevokeDuringVerification(t *testing.T) {
	s, st := newAppTestService(t, Options{})
	ctx := context.Background()
	alice, err := s.Login(ctx, "alice", "alice-password")
	if err != nil {
		t.Fatal(err)
	}
	info, secret, err := s.CreateAppPassword(ctx, alice, "phone")
	if err != nil {
		t.Fatal(err)
	}
	hold := make(chan struct{})
	st.amu.Lock()
	st.listHold = hold
	st.amu.Unlock()
	done := make(chan error, 1)
	go func() {
		_, err := s.Login(ctx, "alice", secret)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // the login has read the list and waits
	st.amu.Lock()
	st.listHold = nil
	st.amu.Unlock()
	if err := s.RevokeAppPassword(ctx, alice, info.ID); err != nil {
		t.Fatal(err)
	}
	close(hold)
	<-done
	if _, err := s.Login(ctx, "alice", secret); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("login after revocation = %v: a stale verification was cached", err)
	}
}

func TestAppPasswordListHoldsNoSecret(t *testing.T) {
	s, st := newAppTestService(t, Options{})
	ctx := context.Background()
	alice, err := s.Login(ctx, "alice", "alice-password")
	if err != nil {
		t.Fatal(err)
	}
	var secrets []string
	for _, label := range []string{"Pixel 9", "Thunderbird – Büro"} {
		_, sec, err := s.CreateAppPassword(ctx, alice, label)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, sec, NormalizeSecret(sec))
	}
	list, err := s.AppPasswords(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(list)
	for _, sec := range secrets {
		if strings.Contains(string(b), sec) {
			t.Fatalf("the list shows a secret: %s", b)
		}
	}
	if !strings.Contains(string(b), "Thunderbird – Büro") || strings.Contains(string(b), "last_used") {
		t.Fatalf("list = %s", b)
	}
	// What is stored holds neither the secret nor the label in the clear.
	for _, p := range st.apps[1] {
		for _, v := range [][]byte{p.Label, p.Verifier, p.Slot.Wrapped, []byte(p.Slot.KDF)} {
			for _, sec := range append(secrets, "Pixel 9") {
				if strings.Contains(string(v), sec) {
					t.Fatalf("stored record holds %q", sec)
				}
			}
		}
	}
	// Bob cannot open alice's labels with his keys.
	bob, err := s.Login(ctx, "bob", "bob-password")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.AppPasswords(ctx, bob); err != nil || len(got) != 0 {
		t.Fatalf("bob's list = %+v, %v", got, err)
	}
}

func TestAppPasswordLastUsedIsCoarse(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s, st := newAppTestService(t, Options{Now: func() time.Time { return now }})
	ctx := context.Background()
	alice, err := s.Login(ctx, "alice", "alice-password")
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := s.CreateAppPassword(ctx, alice, "phone")
	if err != nil {
		t.Fatal(err)
	}
	// A device polling every 15 minutes for 4 hours writes its last use about once an hour.
	for i := 0; i < 16; i++ {
		if _, err := s.Login(ctx, "alice", secret); err != nil {
			t.Fatal(err)
		}
		now = now.Add(15 * time.Minute)
	}
	if st.touches < 3 || st.touches > 5 {
		t.Fatalf("last use written %d times in 4 hours of polling", st.touches)
	}
	list, err := s.AppPasswords(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if age := now.Sub(list[0].LastUsed); age > 75*time.Minute || age < 0 {
		t.Fatalf("last used %v ago", age)
	}
}

func TestAppPasswordLabels(t *testing.T) {
	s, _ := newAppTestService(t, Options{})
	ctx := context.Background()
	alice, err := s.Login(ctx, "alice", "alice-password")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		label string
		ok    bool
	}{
		{"Pixel 9", true},
		{"iPhone von Jürgen", true},
		{strings.Repeat("ü", 100), true},
		{"", false},
		{strings.Repeat("a", 101), false},
		{"tab\there", false},
		{"new\nline", false},
		{"\xff\xfe", false},
	}
	for _, tt := range tests {
		_, _, err := s.CreateAppPassword(ctx, alice, tt.label)
		if (err == nil) != tt.ok {
			t.Errorf("CreateAppPassword(%q) = %v, want ok=%v", tt.label, err, tt.ok)
		}
	}
}

func TestAppPasswordsOffWithoutStore(t *testing.T) {
	s, _ := newTestService(t, Options{})
	ctx := context.Background()
	alice, err := s.Login(ctx, "alice", "alice-password")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateAppPassword(ctx, alice, "x"); !errors.Is(err, ErrAppPasswordsOff) {
		t.Fatalf("CreateAppPassword without a store = %v", err)
	}
}

// flipLast changes the last letter of a secret to another valid one.
func flipLast(s string) string {
	last := s[len(s)-1]
	repl := byte('A')
	if last == 'A' || last == 'a' {
		repl = 'B'
	}
	return s[:len(s)-1] + string(repl)
}

// TestAppPasswordSpellingsShareOneCacheEntry: 10,000 spellings of one app
// password (case, dashes, spaces) keep one cached login, not one keyring
// each; and the cache never holds more than CacheEntries logins. Before,
// the cache was keyed by the password as typed: 5,000 spellings made 5,001
// entries.
func TestAppPasswordSpellingsShareOneCacheEntry(t *testing.T) {
	s, _ := newAppTestService(t, Options{CacheEntries: 3})
	ctx := context.Background()
	alice, err := s.Login(ctx, "alice", "alice-password")
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := s.CreateAppPassword(ctx, alice, "Pixel 9")
	if err != nil {
		t.Fatal(err)
	}
	plain := NormalizeSecret(secret)
	rng := rand.New(rand.NewPCG(7, 7))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < 10000; i++ {
		var b strings.Builder
		for j, r := range plain {
			if j > 0 && rng.IntN(4) == 0 {
				b.WriteString([]string{"-", " ", "--"}[rng.IntN(3)])
			}
			if rng.IntN(2) == 0 {
				r = unicode.ToLower(r)
			}
			b.WriteRune(r)
		}
		if _, err := s.Login(ctx, "alice", b.String()); err != nil {
			t.Fatalf("spelling %q: %v", b.String(), err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if n := s.cacheLen(); n != 2 { // the password login and the app password
		t.Fatalf("%d cached logins after 10,000 spellings, want 2", n)
	}
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap growth over 10,000 spellings: %d KiB", growth/1024)
	if growth > 4<<20 {
		t.Fatalf("the heap grew by %d KiB", growth/1024)
	}
	// The bound: more logins than CacheEntries evict the least recent.
	if _, err := s.Login(ctx, "bob", "bob-password"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Login(ctx, "alice", "alice-password"+"x"); err == nil {
		t.Fatal("a wrong password logged in")
	}
	bob, _ := s.Login(ctx, "bob", "bob-password")
	_, bobApp, err := s.CreateAppPassword(ctx, bob, "tablet")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Login(ctx, "bob", bobApp); err != nil { // a fourth login
		t.Fatal(err)
	}
	if n := s.cacheLen(); n != 3 {
		t.Fatalf("%d cached logins, want the bound of 3", n)
	}
}
