package encryption

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func mustEscrowKey(t *testing.T) *EscrowPrivateKey {
	t.Helper()
	k, err := GenerateEscrowKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestEscrowOpensOnlyWithPrivateKeyAndSecret: an escrow slot opens with the
// private key and the server secret, and with nothing less or different.
func TestEscrowOpensOnlyWithPrivateKeyAndSecret(t *testing.T) {
	userKey := mustKey(t)
	secret := bytes.Repeat([]byte{7}, KeySize)
	priv := mustEscrowKey(t)
	ad := SlotAD(42, "escrow")
	slot, err := SealEscrow(userKey, priv.Public(), secret, ad)
	if err != nil {
		t.Fatal(err)
	}
	if !priv.Public().SealedTo(slot) {
		t.Fatal("SealedTo = false for the sealing key")
	}
	if bytes.Contains(slot.Wrapped, userKey) || strings.Contains(slot.KDF, string(userKey)) {
		t.Fatal("the slot holds the user key in the clear")
	}
	got, err := OpenEscrow(slot, priv, secret, ad)
	if err != nil || !bytes.Equal(got, userKey) {
		t.Fatalf("OpenEscrow = %x, %v", got, err)
	}

	// An impostor key pair that claims the real key's fingerprint.
	impostor := mustEscrowKey(t)
	forged := slot
	forged.KDF = strings.Replace(slot.KDF, priv.Public().Fingerprint(), impostor.Public().Fingerprint(), 1)
	otherSecret := bytes.Repeat([]byte{8}, KeySize)
	flipped := Slot{KDF: slot.KDF, Wrapped: append(append([]byte{}, slot.Wrapped[:len(slot.Wrapped)-1]...), slot.Wrapped[len(slot.Wrapped)-1]^1)}
	f := strings.Split(slot.KDF, "$")
	otherEnc, _ := SealEscrow(userKey, priv.Public(), secret, ad)
	swappedEnc := Slot{KDF: strings.Join(append(f[:3:3], strings.Split(otherEnc.KDF, "$")[3]), "$"), Wrapped: slot.Wrapped}
	tests := []struct {
		name   string
		slot   Slot
		priv   *EscrowPrivateKey
		secret []byte
		ad     AD
		want   error
	}{
		{"other private key", slot, mustEscrowKey(t), secret, ad, ErrEscrowKey},
		{"other private key, forged fingerprint", forged, impostor, secret, ad, ErrOpen},
		{"other server secret", slot, priv, otherSecret, ad, ErrOpen},
		{"other account", slot, priv, secret, SlotAD(43, "escrow"), ErrOpen},
		{"other kind", slot, priv, secret, SlotAD(42, "recovery"), ErrOpen},
		{"flipped bit", flipped, priv, secret, ad, ErrOpen},
		{"truncated", Slot{KDF: slot.KDF, Wrapped: slot.Wrapped[:10]}, priv, secret, ad, ErrOpen},
		{"other encapsulation", swappedEnc, priv, secret, ad, ErrOpen},
		{"not an escrow slot", Slot{KDF: "secret$AAAA", Wrapped: slot.Wrapped}, priv, secret, ad, ErrSlotFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if k, err := OpenEscrow(tt.slot, tt.priv, tt.secret, tt.ad); !errors.Is(err, tt.want) {
				t.Fatalf("OpenEscrow = %x, %v; want %v", k, err, tt.want)
			}
		})
	}
}

// TestEscrowNotOpenableWithServerSecret: whoever has the database and the
// server secret, but not the offline private key, cannot open the escrow
// slot through the credential slots' Unwrap, whatever they try, nor with
// the public key in place of the private one.
func TestEscrowNotOpenableWithServerSecret(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, KeySize)
	priv := mustEscrowKey(t)
	pub := priv.Public()
	ad := SlotAD(1, "escrow")
	slot, err := SealEscrow(mustKey(t), pub, secret, ad)
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Split(slot.KDF, "$")
	enc, _ := unb64(f[3])
	for _, guess := range [][]byte{nil, secret, pub.Bytes(), pub.MarshalPEM(), enc, []byte(slot.KDF), slot.Wrapped, []byte(pub.Fingerprint())} {
		if _, err := Unwrap(slot, guess, secret, ad); err == nil {
			t.Fatalf("Unwrap opened the escrow slot with %q", guess)
		}
		for _, kdf := range []string{"secret$" + f[3], "secret$AAAAAAAAAAAAAAAAAAAAAA"} {
			if _, err := Unwrap(Slot{KDF: kdf, Wrapped: slot.Wrapped}, guess, secret, ad); err == nil {
				t.Fatalf("Unwrap opened the escrow slot as %s with %q", kdf, guess)
			}
		}
	}
	// The public key's bytes, parsed as a private key, open nothing.
	if fake, err := escrowKEM.NewPrivateKey(pub.Bytes()); err == nil {
		if _, err := OpenEscrow(slot, &EscrowPrivateKey{sk: fake}, secret, ad); err == nil {
			t.Fatal("the public key opened the escrow slot")
		}
	}
}

// TestEscrowKeyFiles: key pairs survive their PEM files, and files of the
// wrong kind or shape are refused.
func TestEscrowKeyFiles(t *testing.T) {
	priv := mustEscrowKey(t)
	privPEM, err := priv.MarshalPEM()
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := priv.Public().MarshalPEM()
	priv2, err := ParseEscrowPrivateKey(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	pub2, err := ParseEscrowPublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	if priv2.Public().Fingerprint() != priv.Public().Fingerprint() || pub2.Fingerprint() != priv.Public().Fingerprint() {
		t.Fatal("fingerprints differ after a round trip")
	}
	secret := bytes.Repeat([]byte{1}, KeySize)
	userKey := mustKey(t)
	slot, err := SealEscrow(userKey, pub2, secret, SlotAD(1, "escrow"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := OpenEscrow(slot, priv2, secret, SlotAD(1, "escrow")); err != nil || !bytes.Equal(got, userKey) {
		t.Fatalf("OpenEscrow after a round trip = %v", err)
	}
	tests := []struct {
		name  string
		parse func([]byte) error
		in    []byte
	}{
		{"private as public", func(b []byte) error { _, err := ParseEscrowPublicKey(b); return err }, privPEM},
		{"public as private", func(b []byte) error { _, err := ParseEscrowPrivateKey(b); return err }, pubPEM},
		{"empty public", func(b []byte) error { _, err := ParseEscrowPublicKey(b); return err }, nil},
		{"garbage private", func(b []byte) error { _, err := ParseEscrowPrivateKey(b); return err }, []byte("hello")},
		{"trailing data", func(b []byte) error { _, err := ParseEscrowPublicKey(b); return err }, append(append([]byte{}, pubPEM...), "more"...)},
		{"short key", func(b []byte) error { _, err := ParseEscrowPublicKey(b); return err }, []byte("-----BEGIN COFFER ESCROW PUBLIC KEY-----\nAAAA\n-----END COFFER ESCROW PUBLIC KEY-----\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.parse(tt.in); err == nil {
				t.Fatal("parsed")
			}
		})
	}
}
