package selfservice

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/coffer-dav/coffer/dav"
)

// TestImportLimits: an import meets the operator's limits exactly as a
// client's PUT, MKCOL and PROPPATCH meet them, through the same admission
// path: the stream import refuses objects one by one with the DAV answer,
// and a restore stops at the first refusal, having taken the account
// beyond none of its limits. Before, a restore created collections and
// wrote properties without any limit.
func TestImportLimits(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password")
	fillAccount(e, "alice", "alice-password")
	zipA := e.must(200, "alice", "alice-password", "GET", "/account/export", "").body
	ics := eventCRLF + todo + "\r\n" + eventLF
	tests := []struct {
		name    string
		data    string
		limits  func(used int64) dav.Options
		objects int
		refused string // a refusal of the stream import
		err     *dav.Error
	}{
		{"stream over the quota", ics, func(used int64) dav.Options { return dav.Options{QuotaBytes: used + int64(len(eventCRLF)) + 30} }, 1,
			"refused (507): the account's storage quota is used up", nil},
		{"stream beyond the object count", ics, func(int64) dav.Options { return dav.Options{MaxObjects: 1} }, 2, // one event, one task
			"refused (507): a collection may hold at most 1 resources", nil},
		{"stream beyond the size limit", ics, func(int64) dav.Options { return dav.Options{MaxResourceSize: 100} }, 0,
			"refused (403): the resource exceeds the size limit", nil},
		{"restore over the quota", zipA, func(used int64) dav.Options { return dav.Options{QuotaBytes: used + 10} }, 0,
			"", &dav.Error{Status: http.StatusInsufficientStorage, Message: "the account's storage quota is used up"}},
		{"restore beyond the collection count", zipA, func(int64) dav.Options { return dav.Options{MaxCollections: 4} }, -1,
			"", &dav.Error{Status: http.StatusInsufficientStorage, Message: "an account may have at most 4 collections"}},
		{"restore within every limit", zipA, func(used int64) dav.Options {
			return dav.Options{QuotaBytes: used + 1<<20, MaxCollections: 5, MaxObjects: 3}
		}, 6,
			"", nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user := "user" + string(rune('a'+i))
			acct := e.addUser(user, user+"-password")
			id, err := e.auth.Login(context.Background(), user, user+"-password")
			if err != nil {
				t.Fatal(err)
			}
			space := e.db.Space(acct.ID, id.Keys)
			used, err := space.Usage(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			target := Target{AccountID: acct.ID, Username: user, Space: space, Limits: tt.limits(used)}
			res, err := Import(context.Background(), target, bytes.NewReader([]byte(tt.data)), int64(len(tt.data)))
			var de *dav.Error
			switch {
			case tt.err == nil && err != nil:
				t.Fatalf("import: %v", err)
			case tt.err != nil && (!errors.As(err, &de) || de.Status != tt.err.Status || de.Message != tt.err.Message):
				t.Fatalf("import: %v; want the DAV answer %d %q", err, tt.err.Status, tt.err.Message)
			}
			if tt.objects >= 0 && res.Objects != tt.objects {
				t.Fatalf("%d objects written, want %d: %+v", res.Objects, tt.objects, res)
			}
			if tt.refused != "" && (len(res.Refused) == 0 || !strings.Contains(res.Refused[0], tt.refused)) {
				t.Fatalf("refused %q, want %q", res.Refused, tt.refused)
			}
			l := target.Limits.WriteLimits().Storage()
			now, _ := space.Usage(context.Background())
			counts, _ := space.Counts(context.Background(), 0)
			if (l.QuotaBytes > 0 && now > l.QuotaBytes) || (l.MaxCollections > 0 && counts.Collections > l.MaxCollections) {
				t.Fatalf("the import took the account to %d bytes and %d collections, beyond %+v", now, counts.Collections, l)
			}
		})
	}
}
