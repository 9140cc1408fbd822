package storage

import (
	"context"
	"reflect"
	"sort"
	"testing"
)

// notExported are the SQLite tables and columns an export leaves out on
// purpose; every other column of the schema must be exported, so that a
// migration adding one cannot be forgotten by the copy to PostgreSQL.
var notExported = map[string]bool{
	"sqlite_sequence": true, // NextID carries the AUTOINCREMENT ids over
}

func TestExportCoversTheSchema(t *testing.T) {
	db, _, _ := testSpace(t)
	ctx := context.Background()
	rows, err := db.read.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	exported := map[string][]string{}
	for _, tb := range ExportTables() {
		names := tb.ColumnNames()
		if tb.Name == "app_passwords" {
			names = names[1:] // seq is the rowid
		}
		sort.Strings(names)
		exported[tb.Name] = names
	}
	for _, name := range tables {
		if notExported[name] {
			continue
		}
		want, ok := exported[name]
		if !ok {
			t.Errorf("table %s is not exported", name)
			continue
		}
		var have []string
		cols, err := db.read.QueryContext(ctx, `SELECT name FROM pragma_table_info(?) ORDER BY name`, name)
		if err != nil {
			t.Fatal(err)
		}
		for cols.Next() {
			var c string
			cols.Scan(&c)
			have = append(have, c)
		}
		cols.Close()
		if !reflect.DeepEqual(have, want) {
			t.Errorf("table %s: the schema has columns %v, the export %v", name, have, want)
		}
		delete(exported, name)
	}
	for name := range exported {
		t.Errorf("the export names a table %s the schema lacks", name)
	}
}

func TestExportRows(t *testing.T) {
	db, s, _ := testSpace(t)
	ctx := context.Background()
	c := mustCollection(t, s, "work")
	if _, err := s.PutObject(ctx, c.ID, PutOptions{Name: "a.ics", UID: "u", Body: []byte{}}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteObject(ctx, c.ID, "a.ics", DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutObject(ctx, c.ID, PutOptions{Name: "b.txt", Body: []byte{}}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutSetting(ctx, rebuildKey, "1"); err != nil {
		t.Fatal(err)
	}
	if err := db.PutSetting(ctx, "kept", "v"); err != nil {
		t.Fatal(err)
	}
	e, err := db.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	// Read each table, by name.
	read := func(name string) ([][]any, ExportTable, int64) {
		for _, tb := range e.Tables() {
			if tb.Name != name {
				continue
			}
			r, err := e.Rows(ctx, tb)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var out [][]any
			for r.Next() {
				v, _ := r.Values()
				out = append(out, v)
			}
			if err := r.Err(); err != nil {
				t.Fatal(err)
			}
			n, err := e.Count(ctx, tb)
			if err != nil || n != int64(len(out)) || r.Count() != n {
				t.Errorf("%s: count %d (%v), streamed %d", name, n, err, len(out))
			}
			next, err := e.NextID(ctx, tb)
			if err != nil {
				t.Fatal(err)
			}
			return out, tb, next
		}
		t.Fatalf("no table %s", name)
		return nil, ExportTable{}, 0
	}
	value := func(tb ExportTable, row []any, col string) any {
		for i, c := range tb.Columns {
			if c.Name == col {
				return row[i]
			}
		}
		t.Fatalf("%s has no column %s", tb.Name, col)
		return nil
	}
	tests := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"the rebuild mark stays behind", func(t *testing.T) {
			rows, tb, _ := read("settings")
			for _, r := range rows {
				if value(tb, r, "key") == rebuildKey {
					t.Error("rebuild_pending exported")
				}
			}
		}},
		{"booleans", func(t *testing.T) {
			rows, tb, _ := read("changes")
			deleted := map[bool]int{}
			for _, r := range rows {
				deleted[value(tb, r, "deleted").(bool)]++
			}
			if deleted[true] != 1 || deleted[false] != 1 {
				t.Errorf("changes deleted: %v", deleted)
			}
		}},
		{"NULL and empty apart", func(t *testing.T) {
			rows, tb, next := read("objects")
			if len(rows) != 1 {
				t.Fatalf("objects: %d rows", len(rows))
			}
			if v := value(tb, rows[0], "uid_mac"); v != nil {
				t.Errorf("uid_mac of an object without UID: %#v, want nil", v)
			}
			if next != value(tb, rows[0], "id").(int64)+1 {
				t.Errorf("objects NextID %d", next)
			}
			bodies, btb, _ := read("object_bodies")
			if b, ok := value(btb, bodies[0], "body_sealed").([]byte); !ok || b == nil {
				t.Errorf("body_sealed: %#v", value(btb, bodies[0], "body_sealed"))
			}
		}},
		{"AUTOINCREMENT ids", func(t *testing.T) {
			_, _, next := read("accounts")
			if next != 2 {
				t.Errorf("accounts NextID %d, want 2", next)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.check)
	}
}
