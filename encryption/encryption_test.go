package encryption

import (
	"bytes"
	"errors"
	"testing"
)

// testKDF is the OWASP floor, the cheapest parameters Validate accepts.
var testKDF = MinKDF

func mustKey(t *testing.T) []byte {
	t.Helper()
	k, err := NewUserKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpenBindsAssociatedData(t *testing.T) {
	k, err := NewKeyring(mustKey(t))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewKeyring(mustKey(t))
	ad := AD{User: 1, Collection: []byte("c"), Object: []byte("o"), Field: "object.body"}
	sealed := k.Seal(ad, []byte("SUMMARY:secret"))
	if bytes.Contains(sealed, []byte("secret")) {
		t.Fatal("sealed record contains the plaintext")
	}
	got, err := k.Open(ad, sealed)
	if err != nil || string(got) != "SUMMARY:secret" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	tests := []struct {
		name   string
		keys   *Keyring
		ad     AD
		sealed []byte
	}{
		{"other user", k, AD{User: 2, Collection: ad.Collection, Object: ad.Object, Field: ad.Field}, sealed},
		{"other collection", k, AD{User: 1, Collection: []byte("d"), Object: ad.Object, Field: ad.Field}, sealed},
		{"other object", k, AD{User: 1, Collection: ad.Collection, Object: []byte("p"), Field: ad.Field}, sealed},
		{"other field", k, AD{User: 1, Collection: ad.Collection, Object: ad.Object, Field: "object.name"}, sealed},
		{"field boundary shift", k, AD{User: 1, Collection: []byte("co"), Object: nil, Field: ad.Field}, sealed},
		{"a part added", k, AD{User: 1, Collection: ad.Collection, Object: ad.Object, Field: ad.Field, Part: []byte{}}, sealed},
		{"a revision added", k, AD{User: 1, Collection: ad.Collection, Object: ad.Object, Field: ad.Field, Revision: 7}, sealed},
		{"other part", k, AD{User: 1, Collection: ad.Collection, Object: ad.Object, Field: ad.Field, Part: []byte("q"), Revision: 7}, k.Seal(AD{User: 1, Collection: ad.Collection, Object: ad.Object, Field: ad.Field, Part: []byte("p"), Revision: 7}, []byte("x"))},
		{"older revision", k, AD{User: 1, Collection: ad.Collection, Object: ad.Object, Field: ad.Field, Part: []byte("p"), Revision: 8}, k.Seal(AD{User: 1, Collection: ad.Collection, Object: ad.Object, Field: ad.Field, Part: []byte("p"), Revision: 7}, []byte("x"))},
		{"other key", other, ad, sealed},
		{"truncated", k, ad, sealed[:10]},
		{"flipped bit", k, ad, append(append([]byte{}, sealed[:len(sealed)-1]...), sealed[len(sealed)-1]^1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.keys.Open(tt.ad, tt.sealed); !errors.Is(err, ErrOpen) {
				t.Fatalf("Open = %v, want ErrOpen", err)
			}
		})
	}
}

func TestMACIsKeyedAndDomainSeparated(t *testing.T) {
	a, _ := NewKeyring(mustKey(t))
	b, _ := NewKeyring(mustKey(t))
	if !Equal(a.MAC("uid", []byte("x")), a.MAC("uid", []byte("x"))) {
		t.Fatal("MAC is not deterministic")
	}
	for name, other := range map[string][]byte{
		"other key":    b.MAC("uid", []byte("x")),
		"other domain": a.MAC("name", []byte("x")),
		"other split":  a.MAC("uid", []byte("x"), []byte("")),
	} {
		if Equal(a.MAC("uid", []byte("x")), other) {
			t.Errorf("%s: MAC collides", name)
		}
	}
}

// TestSlotNeedsCredentialAndServerSecret shows that neither the database
// (the slot) plus the server secret, nor the slot plus the credential, opens
// the user key: only all three together do.
func TestSlotNeedsCredentialAndServerSecret(t *testing.T) {
	user := mustKey(t)
	secret := mustKey(t)
	otherSecret := mustKey(t)
	pw, err := WrapPassword(user, []byte("correct horse"), secret, testKDF, SlotAD(7, "password"))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := WrapSecret(user, []byte("RECOVERYCODE"), secret, SlotAD(7, "recovery"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(pw.Wrapped, user) || bytes.Contains(rc.Wrapped, user) {
		t.Fatal("slot holds the raw user key")
	}
	tests := []struct {
		name       string
		slot       Slot
		credential string
		secret     []byte
		ad         AD
		ok         bool
	}{
		{"password", pw, "correct horse", secret, SlotAD(7, "password"), true},
		{"recovery code", rc, "RECOVERYCODE", secret, SlotAD(7, "recovery"), true},
		{"empty password", pw, "", secret, SlotAD(7, "password"), false},
		{"wrong password", pw, "correct horsf", secret, SlotAD(7, "password"), false},
		{"server secret as password", pw, string(secret), secret, SlotAD(7, "password"), false},
		{"wrong recovery code", rc, "RECOVERYCODF", secret, SlotAD(7, "recovery"), false},
		{"right password, other server secret", pw, "correct horse", otherSecret, SlotAD(7, "password"), false},
		{"right code, other server secret", rc, "RECOVERYCODE", otherSecret, SlotAD(7, "recovery"), false},
		{"slot moved to another user", pw, "correct horse", secret, SlotAD(8, "password"), false},
		{"KDF downgraded", Slot{KDF: "secret$AAAAAAAAAAAAAAAAAAAAAA", Wrapped: pw.Wrapped}, "correct horse", secret, SlotAD(7, "password"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Unwrap(tt.slot, []byte(tt.credential), tt.secret, tt.ad)
			if tt.ok {
				if err != nil || !bytes.Equal(got, user) {
					t.Fatalf("Unwrap = %x, %v; want the user key", got, err)
				}
				return
			}
			if err == nil {
				t.Fatal("Unwrap succeeded without every piece")
			}
		})
	}
}

func TestKDFParamsFloor(t *testing.T) {
	tests := []struct {
		p  KDFParams
		ok bool
	}{
		{DefaultKDF, true},
		{MinKDF, true},
		{KDFParams{Time: 1, MemoryKiB: 47104, Threads: 1}, true},
		{KDFParams{Time: 1, MemoryKiB: 19 * 1024, Threads: 1}, false},
		{KDFParams{Time: 3, MemoryKiB: 4096, Threads: 1}, false},
		{KDFParams{Time: 0, MemoryKiB: 65536, Threads: 1}, false},
		{KDFParams{Time: 3, MemoryKiB: 65536, Threads: 0}, false},
		{MaxKDF, true},
		{KDFParams{Time: 3, MemoryKiB: MaxKDF.MemoryKiB + 1, Threads: 4}, false},
		{KDFParams{Time: MaxKDF.Time + 1, MemoryKiB: 65536, Threads: 4}, false},
		{KDFParams{Time: 3, MemoryKiB: 65536, Threads: MaxKDF.Threads + 1}, false},
		{KDFParams{Time: 3, MemoryKiB: 4294967295, Threads: 4}, false},
	}
	for _, tt := range tests {
		if err := tt.p.Validate(); (err == nil) != tt.ok {
			t.Errorf("%v: Validate = %v, want ok=%v", tt.p, err, tt.ok)
		}
	}
}

// TestHostileSlotParameters: a key slot written into the database with
// huge or sloppy Argon2 parameters is refused before any derivation. Before,
// parameters were read with Sscanf (trailing text accepted) and only a
// floor was checked, so m=4294967295 made the server allocate 4 TiB.
func TestHostileSlotParameters(t *testing.T) {
	secret := make([]byte, KeySize)
	for _, params := range []string{
		"m=4294967295,t=3,p=4",
		"m=65536,t=4294967295,p=4",
		"m=65536,t=3,p=255",
		"m=65536,t=3,p=4junk",
		"m=65536,t=3,p=4,x=1",
		"m=065536,t=3,p=4",
		"m=+65536,t=3,p=4",
		"m= 65536,t=3,p=4",
		"m=65536,t=3,p=256",
		"m=99999999999,t=3,p=4",
		"t=3,m=65536,p=4",
	} {
		t.Run(params, func(t *testing.T) {
			slot := Slot{KDF: "argon2id$v=19$" + params + "$AAAAAAAAAAAAAAAAAAAAAA", Wrapped: make([]byte, 64)}
			if _, err := Unwrap(slot, []byte("pw"), secret, SlotAD(1, "password")); !errors.Is(err, ErrSlotFormat) {
				t.Fatalf("Unwrap = %v, want ErrSlotFormat", err)
			}
			if _, ok := KDFParamsOf(slot); ok {
				t.Fatal("KDFParamsOf accepted it")
			}
		})
	}
}

func FuzzUnwrapSlot(f *testing.F) {
	secret := make([]byte, KeySize)
	f.Add("argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA", []byte("x"), []byte("pw"))
	f.Add("secret$AAAAAAAAAAAAAAAAAAAAAA", []byte("0123456789012345678901234567890123456789"), []byte("code"))
	f.Add("argon2id$v=19$m=1,t=1,p=1$", []byte{}, []byte{})
	f.Add("argon2id$v=19$m=4294967295,t=3,p=4$AAAAAAAAAAAAAAAAAAAAAA", []byte("x"), []byte("pw"))
	f.Add("argon2id$v=19$m=65536,t=3,p=4junk$AAAAAAAAAAAAAAAAAAAAAA", []byte("x"), []byte("pw"))
	f.Fuzz(func(t *testing.T, kdf string, wrapped, cred []byte) {
		// Parameters within the ceiling are honest work for Argon2; only
		// the costly ones among them are left out, to keep the fuzzer fast.
		// Everything beyond the ceiling must be refused, cleanly.
		if p, ok := KDFParamsOf(Slot{KDF: kdf}); ok && (p.MemoryKiB > 64*1024 || p.Time > 4 || p.Threads > 4) {
			return
		}
		_, err := Unwrap(Slot{KDF: kdf, Wrapped: wrapped}, cred, secret, SlotAD(1, "password"))
		if err == nil {
			t.Fatal("a fuzzed slot opened")
		}
		if !errors.Is(err, ErrOpen) && !errors.Is(err, ErrSlotFormat) {
			t.Fatalf("Unwrap = %v, want ErrOpen or ErrSlotFormat", err)
		}
	})
}
