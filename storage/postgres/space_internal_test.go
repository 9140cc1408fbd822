package postgres

import (
	"errors"
	"reflect"
	"testing"

	"github.com/coffer-dav/coffer/storage"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestDBErr: a full disk wraps storage.ErrFull; other errors wrap only
// themselves; both say what failed.
func TestDBErr(t *testing.T) {
	tests := []struct {
		name string
		err  error
		full bool
	}{
		{"disk full", &pgconn.PgError{Code: "53100"}, true},
		{"out of memory", &pgconn.PgError{Code: "53200"}, false},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"not from the server", errors.New("broken pipe"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := dbErr("write object", tc.err)
			if errors.Is(got, storage.ErrFull) != tc.full || !errors.Is(got, tc.err) {
				t.Fatalf("dbErr = %v: ErrFull %v, want %v, and the error itself", got, errors.Is(got, storage.ErrFull), tc.full)
			}
			if want := "postgres: write object: "; len(got.Error()) < len(want) || got.Error()[:len(want)] != want {
				t.Fatalf("dbErr = %q, want it to begin %q", got, want)
			}
		})
	}
}

// TestNonNil: nil MACs leave a list, empty ones stay.
func TestNonNil(t *testing.T) {
	tests := []struct {
		in, want [][]byte
	}{
		{nil, [][]byte{}},
		{[][]byte{nil}, [][]byte{}},
		{[][]byte{{}, nil, []byte("a")}, [][]byte{{}, []byte("a")}},
	}
	for _, tc := range tests {
		if got := nonNil(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("nonNil(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
