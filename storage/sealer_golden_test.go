package storage

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"testing"

	"github.com/coffer-dav/coffer/encryption"
)

// sealerGolden holds what the code before the sealer existed computed and
// sealed for goldenSealer's key and the values of TestSealerGolden*: MACs
// and ETags byte for byte, and sealed values (random nonces) that must still
// open. Nothing here may change: databases hold these values.
var sealerGolden = map[string]string{
	"collectionMAC":          "a17ecf67add8875ca854cbf19b7338948e4428216b2d798a77aee150fa5ca99e",
	"objectMAC":              "727c969661d4da4aab53168653ec889d380475dabb5fae5af546d678c004d25b",
	"etag":                   "1d236e2cbb9d4841589574a3c8eea814",
	"uidMAC":                 "7ed3bf53519af2c5a31b5d2d8a9532f2f29d699861686ad4e694f48575247293",
	"legacyUIDMAC":           "9bfa3af26531854b1713f50bf1e7c060ecdc1c770a511758047c8449566a7ef3",
	"collection.nameMAC":     "8fbd32bff175cc9c25f931d0ff5194fec1d9353c1c713327155d3f19a2b83092",
	"collection.term":        "5e3452e478716a3f8b71fb5a28be1a50c5b92dcff1bae52d85c7c70f9a44af30",
	"collection.prop":        "8ce6a62accccafa0f2cb4ad3da676717d1501ff8b88e0dd38f8195568e96ccd08f837dede03f44f951c91ba8fd2ae4fe306e",
	"collection.digest":      "0e0985b1fba4652a5bd10c54dcf8a638d3e63b687dc0cb5fdf2093c623c777e56d3d6c0efc8cf90f670b99bfd80407f02fc444aa46b025e6949199167e38d5d51fc398c29fdf3795",
	"object.nameMAC":         "2c3f11930b16cd5bb0ff1988fa77c6612acb18187ef6e1449b1ca74e5f966718",
	"object.term":            "880c387f50b8460cc061712a7a15106c8e4aecb4bdf2347d00528dbb3f92bb37",
	"object.prop":            "48dc0bc8965a4fa4cd41ac48e45b94ab902856bffb483b113a64a206e6a748b87a1f5815585d3d869ffe38d6cb3a7ba7f4f3",
	"object.digest":          "9f14e81f3c1c96f535530f5f67590457453817308136822b52beef8bdc97e340a52a6dfc67627539748b0caf1cb2937822b3828b448cfab9ba5d35f6988b9bf36bf70df090ce65cf",
	"scope.nameMAC":          "08bc4a8038cc925d0e3f6ab3ff387f08b408a79320b12483bc65838b4ee2261e",
	"scope.term":             "d551e10270119427166a7acea38c96424fe48509bc157f411fa2f0a6ed43a241",
	"scope.prop":             "d4dc7b7f3c6507eca2b16c1545c868e08a56819c36c668dc5564cbe5afefd52895adeea9a3ea2ea5c56efa2b33ba97882e9c",
	"scope.digest":           "56583f3165a1ee96140b36655e276919bb3a0faa566bd899844ed0786bcc950bcf8f15b2f6a83affbd394597fe49197ed6f22919b32c5bf6ff528cdc01093e9bfeccbd9d9449cb94",
	"collection.legacyProps": "2dd793bd1ca8a030c7b4cc3010c2beb8fbe5a70280618e12aac6072965aa9ac2f52ce7258af6dc17bc92c546773b92de6130234a15f60fcea3b0df",
	"object.legacyProps":     "6440266e0b15df26b463e6134be46caa6b2e515925e81441a7cfe0f46c7b2b5a770bfeb583cc9bec30fdec9706093727d6e1093c28ee4441ee0c52",
	"scope.legacyProps":      "876a13fa5a97c548e34ca7b1b1d6b1d5538730ebe46ee58212f97d57c8f426bdd6c9ec09070cb0768189abcb1d03d167f526b40dde322d3d1b6b5d",
	"collectionName":         "b1554efd8ef3e29caecf4a5a1d6ee890c79b3de12daba881d2a71e2900906d7aa9da8973638b9adb86fef0b9",
	"objectName":             "74f9f750cbe8688bc40a6c7a58e721e29b035a9149c199e8750a1f03556240f735a079fddcae61afb1b58207be05b75696",
	"v1.ctype":               "502411187dd0e4ff1dcc235cfe9ec27b6e39b6d9fe10c122f8d58cd09f92c63895fa858ffc64833e7b2bd4b375cfffe881a93d1d80",
	"v1.body":                "aa36e246c8356e259e52a13b0309c0b70e9e6096ad1894eb693ef91dcb071f3c845586b78da7616951890bbe722adcefce209e23a71988d37faba06bba320ac343db13e96626de7a",
	"v1.index":               "c451b305b1e1a2e3e3a904d068b28eb55c2216b25535c53c3bee2968c6d52008288e8701f3ae63a171337067",
	"v1.uid":                 "319cb88dc55be1305c907978db22fe83198e5099662352cdda96b2ad5b54c0d79d2d5cf3441a4d4ec54a92",
	"v1.uidMAC":              "7ed3bf53519af2c5a31b5d2d8a9532f2f29d699861686ad4e694f48575247293",
	"v0.ctype":               "4ce38936e6317016bbca4150b9a2202405aa16cee1af3814b0ce0d722879c41e12b582677e824aeb64ae9f9ed2e0b2ac47dcca0908",
	"v0.body":                "3945f2910cab112a9239b64d0bd2ecf5b3125d3a329e1b1e4532646d2fde0b9090d06412347af33fc873a02be14dc13584b52be8e8b819335ddc20767c5662ed43235b8280e50267",
	"v0.index":               "1bc032a0eccb4538ff7740a52e87d9b1739c31dfd80fe3bae12b6acf1862603e16af929864f331288bcfea",
	"v0.uidMAC":              "9bfa3af26531854b1713f50bf1e7c060ecdc1c770a511758047c8449566a7ef3",
	"v1none.index":           "70bd46cd375c0a5e080e76cfbe3069d5bc8379c229cb853f83bc99b4bc34bc53518a088450b5cf661d",
	"v1none.uid":             "c68a41f18978a4eb82e5ef1da7c8e73b02a7d8364538a7c480e455b30201e8806a6c9808b739df4687",
}

// Values the golden records were computed for.
var (
	goldenColl = []byte("0123456789abcdef")
	goldenBody = []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
)

// goldenSealer returns the sealer of account 7 under a fixed user key.
func goldenSealer(t *testing.T) sealer {
	t.Helper()
	key := make([]byte, encryption.KeySize)
	for i := range key {
		key[i] = byte(i + 1)
	}
	keys, err := encryption.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	return newSealer(7, keys)
}

// golden returns the golden value name, decoded.
func golden(t *testing.T, name string) []byte {
	t.Helper()
	s, ok := sealerGolden[name]
	if !ok {
		t.Fatalf("no golden value %q", name)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// goldenBindings are the property owners of the golden values.
func goldenBindings(k sealer) map[string]propBinding {
	obj := k.objectMAC(goldenColl, "event.ics")
	return map[string]propBinding{
		"collection": k.collectionBinding(goldenColl),
		"object":     k.objectBinding(goldenColl, obj),
		"scope":      k.scopeBinding(ScopeCalendars),
	}
}

func TestSealerGoldenMACs(t *testing.T) {
	k := goldenSealer(t)
	b := goldenBindings(k)
	obj := k.objectMAC(goldenColl, "event.ics")
	term := func(owner string) []byte {
		d := k.term(b[owner], k.nameMAC(b[owner], "{urn:x}p"), 42)
		return d[:]
	}
	for _, tt := range []struct {
		name string
		got  []byte
	}{
		{"collectionMAC", k.collectionMAC(HomeCalendars, "work")},
		{"objectMAC", obj},
		{"etag", []byte(k.etag(goldenBody))},
		{"uidMAC", k.uidMAC(goldenColl, "u1")},
		{"legacyUIDMAC", k.legacyUIDMAC("u1")},
		{"collection.nameMAC", k.nameMAC(b["collection"], "{urn:x}p")},
		{"object.nameMAC", k.nameMAC(b["object"], "{urn:x}p")},
		{"scope.nameMAC", k.nameMAC(b["scope"], "{urn:x}p")},
		{"collection.term", term("collection")},
		{"object.term", term("object")},
		{"scope.term", term("scope")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			want := sealerGolden[tt.name]
			got := hex.EncodeToString(tt.got)
			if tt.name == "etag" {
				got = string(tt.got)
			}
			if got != want {
				t.Errorf("%s = %s, want %s", tt.name, got, want)
			}
		})
	}
	if !bytes.Equal(k.uidMACs(goldenColl, "u1")[0], golden(t, "uidMAC")) || !bytes.Equal(k.uidMACs(goldenColl, "u1")[1], golden(t, "legacyUIDMAC")) {
		t.Error("uidMACs are not the bound and the legacy UID MAC, in that order")
	}
}

func TestSealerGoldenADs(t *testing.T) {
	k := goldenSealer(t)
	b := goldenBindings(k)
	obj := golden(t, "objectMAC")
	scope := []byte(ScopeCalendars)
	for _, tt := range []struct {
		name      string
		got, want encryption.AD
	}{
		{"ad", k.ad(goldenColl, obj, fieldObjectName), encryption.AD{User: 7, Collection: goldenColl, Object: obj, Field: "object.name"}},
		{"contentAD v0", k.contentAD(goldenColl, obj, fieldObjectBody, sealLegacy, 42), encryption.AD{User: 7, Collection: goldenColl, Object: obj, Field: "object.body"}},
		{"contentAD v1", k.contentAD(goldenColl, obj, fieldObjectBody, sealCurrent, 42), encryption.AD{User: 7, Collection: goldenColl, Object: obj, Field: "object.body@42"}},
		{"collection rows", b["collection"].ad, encryption.AD{User: 7, Collection: goldenColl, Field: "collection.prop"}},
		{"collection legacy", b["collection"].legacy, encryption.AD{User: 7, Collection: goldenColl, Field: "collection.props"}},
		{"object rows", b["object"].ad, encryption.AD{User: 7, Collection: goldenColl, Object: obj, Field: "object.prop"}},
		{"object legacy", b["object"].legacy, encryption.AD{User: 7, Collection: goldenColl, Object: obj, Field: "object.props"}},
		{"scope rows", b["scope"].ad, encryption.AD{User: 7, Object: scope, Field: "account.prop"}},
		{"scope legacy", b["scope"].legacy, encryption.AD{User: 7, Object: scope, Field: "account.props"}},
		{"scope row", b["scope"].rowAD(golden(t, "scope.nameMAC"), 42), encryption.AD{User: 7, Object: scope, Field: "account.prop", Part: golden(t, "scope.nameMAC"), Revision: 42}},
		{"digest row", b["object"].rowAD(digestMAC, 42), encryption.AD{User: 7, Collection: goldenColl, Object: obj, Field: "object.prop", Part: []byte{}, Revision: 42}},
	} {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s: %#v, want %#v", tt.name, tt.got, tt.want)
		}
	}
}

// TestSealerGoldenOpens opens what the code before the sealer sealed.
func TestSealerGoldenOpens(t *testing.T) {
	k := goldenSealer(t)
	b := goldenBindings(k)
	obj := golden(t, "objectMAC")
	ref := collectionRef{id: 5, uid: goldenColl}
	etag := sealerGolden["etag"]
	if name, err := k.openCollectionName(goldenColl, golden(t, "collectionName")); err != nil || name != "work" {
		t.Errorf("collection name: %q, %v", name, err)
	}
	if name, err := k.openObjectName(goldenColl, obj, golden(t, "objectName")); err != nil || name != "event.ics" {
		t.Errorf("object name: %q, %v", name, err)
	}
	for _, v := range []int64{sealLegacy, sealCurrent} {
		pre := map[int64]string{sealLegacy: "v0.", sealCurrent: "v1."}[v]
		o := &plainObject{etag: etag}
		uidSealed := []byte(nil)
		if v == sealCurrent {
			uidSealed = golden(t, "v1.uid")
		}
		err := k.openObject(ref, obj, golden(t, "objectName"), golden(t, pre+"uidMAC"), golden(t, pre+"ctype"), golden(t, pre+"body"), golden(t, pre+"index"), uidSealed, v, 42, o)
		if err != nil {
			t.Fatalf("seal version %d: %v", v, err)
		}
		if o.name != "event.ics" || string(o.ctype) != "text/calendar" || !bytes.Equal(o.body, goldenBody) || string(o.index) != "idx" {
			t.Errorf("seal version %d: opened %+v", v, o)
		}
		wantUID, wantKnown := "u1", true
		if v == sealLegacy {
			wantUID, wantKnown = "", false // only the legacy MAC is known
		}
		if o.uid != wantUID || o.uidKnown != wantKnown || (!wantKnown && !bytes.Equal(o.legacyMAC, golden(t, "v0.uidMAC"))) {
			t.Errorf("seal version %d: UID %q known %v legacy MAC %x", v, o.uid, o.uidKnown, o.legacyMAC)
		}
	}
	if index, err := k.openIndex(ref, obj, sealCurrent, 43, golden(t, "v1none.index")); err != nil || index != nil {
		t.Errorf("no index entry: %q, %v", index, err)
	}
	if uid, known, err := k.openUID(ref, obj, sealCurrent, 43, golden(t, "v1none.uid"), nil); err != nil || uid != "" || !known {
		t.Errorf("no UID: %q %v %v", uid, known, err)
	}
	for owner, bind := range b {
		mac := golden(t, owner+".nameMAC")
		name, value, err := k.openProp(bind, mac, 42, golden(t, owner+".prop"))
		if err != nil || name != "{urn:x}p" || string(value) != "v" {
			t.Errorf("%s property: %q %q %v", owner, name, value, err)
		}
		d, err := k.openDigest(bind, 42, golden(t, owner+".digest"))
		if err != nil || !bytes.Equal(d[:], golden(t, owner+".term")) {
			t.Errorf("%s digest: %x %v", owner, d, err)
		}
		p, err := k.openLegacyProps(bind, golden(t, owner+".legacyProps"))
		if err != nil || len(p) != 1 || string(p["{urn:x}p"]) != "v" {
			t.Errorf("%s legacy set: %v %v", owner, p, err)
		}
	}
}

// TestSealerGoldenSeals checks that what the sealer seals opens under the
// associated data the code before it used, spelled out.
func TestSealerGoldenSeals(t *testing.T) {
	k := goldenSealer(t)
	b := goldenBindings(k)
	obj := golden(t, "objectMAC")
	ref := collectionRef{id: 5, uid: goldenColl}
	p := &plainObject{uid: "u1", uidKnown: true, ctype: []byte("text/calendar"), body: goldenBody, index: []byte("idx")}
	ad := func(field string) encryption.AD {
		return encryption.AD{User: 7, Collection: goldenColl, Object: obj, Field: field}
	}
	c := k.sealContent(ref, obj, 42, p)
	l := k.sealLegacyContent(ref, obj, p)
	none := k.sealContent(ref, obj, 43, &plainObject{uidKnown: true, ctype: []byte("text/calendar"), body: []byte("x")})
	for _, tt := range []struct {
		name   string
		ad     encryption.AD
		sealed []byte
		want   []byte
	}{
		{"collection name", encryption.AD{User: 7, Collection: goldenColl, Field: "collection.name"}, k.sealCollectionName(goldenColl, "work"), []byte("work")},
		{"object name", ad("object.name"), k.sealObjectName(goldenColl, obj, "event.ics"), []byte("event.ics")},
		{"v1 content type", ad("object.content-type@42"), c.ctype, []byte("text/calendar")},
		{"v1 body", ad("object.body@42"), c.body, goldenBody},
		{"v1 index", ad("object.index@42"), c.index, []byte("\x01idx")},
		{"v1 uid", ad("object.uid@42"), c.uid, []byte("\x01u1")},
		{"v1 no index", ad("object.index@43"), none.index, []byte{0}},
		{"v1 no uid", ad("object.uid@43"), none.uid, []byte{1}},
		{"v0 content type", ad("object.content-type"), l.ctype, []byte("text/calendar")},
		{"v0 body", ad("object.body"), l.body, goldenBody},
		{"v0 index", ad("object.index"), l.index, []byte("idx")},
		{"property", b["object"].rowAD(golden(t, "object.nameMAC"), 42), k.sealProp(b["object"], golden(t, "object.nameMAC"), 42, "{urn:x}p", []byte("v")), []byte("\x08{urn:x}pv")},
		{"digest", b["scope"].rowAD([]byte{}, 42), k.sealDigest(b["scope"], 42, propDigest(golden(t, "scope.term"))), golden(t, "scope.term")},
	} {
		plain, err := k.keys.Open(tt.ad, tt.sealed)
		if err != nil || !bytes.Equal(plain, tt.want) {
			t.Errorf("%s: %q, %v; want %q", tt.name, plain, err, tt.want)
		}
	}
	if c.v != sealCurrent || c.rev != 42 || !bytes.Equal(c.uidMAC, golden(t, "v1.uidMAC")) {
		t.Errorf("v1: version %d rev %d UID MAC %x", c.v, c.rev, c.uidMAC)
	}
	if l.v != sealLegacy || l.rev != 0 || l.uid != nil || !bytes.Equal(l.uidMAC, golden(t, "v0.uidMAC")) {
		t.Errorf("v0: version %d rev %d uid %x UID MAC %x", l.v, l.rev, l.uid, l.uidMAC)
	}
	if none.uidMAC != nil {
		t.Errorf("no UID: UID MAC %x", none.uidMAC)
	}
	carried := k.sealContent(ref, obj, 44, &plainObject{legacyMAC: golden(t, "v0.uidMAC")})
	if !bytes.Equal(carried.uidMAC, golden(t, "v0.uidMAC")) {
		t.Errorf("a legacy row's UID MAC is not carried: %x", carried.uidMAC)
	}
	if plain, err := k.keys.Open(ad("object.uid@44"), carried.uid); err != nil || !bytes.Equal(plain, []byte{0}) {
		t.Errorf("a legacy row's unknown UID: %q, %v", plain, err)
	}
}
