package storage

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadableColumnsAreListed: every column of the migrated schema is
// sealed (*_sealed), a keyed MAC (*_mac), or named in the README's table of
// what the operator can read; and the table names no column that is gone.
// A column added in clear without telling the users fails here.
func TestReadableColumnsAreListed(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(string(readme), "<!-- readable-columns")
	end := strings.Index(string(readme), "<!-- /readable-columns -->")
	if start < 0 || end < start {
		t.Fatal("README.md has no readable-columns table")
	}
	ticked := regexp.MustCompile("`([a-z_]+)`")
	listed := map[string]bool{}
	for _, line := range strings.Split(string(readme)[start:end], "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 {
			continue
		}
		table := ticked.FindStringSubmatch(cells[1])
		if table == nil {
			continue
		}
		for _, m := range ticked.FindAllStringSubmatch(cells[2], -1) {
			listed[table[1]+"."+m[1]] = true
		}
	}
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "coffer.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.read.Query(`SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var table, column string
		if err := rows.Scan(&table, &column); err != nil {
			t.Fatal(err)
		}
		col := table + "." + column
		seen[col] = true
		if !strings.HasSuffix(column, "_sealed") && !strings.HasSuffix(column, "_mac") && !listed[col] {
			t.Errorf("%s is neither sealed nor a MAC, and README.md does not list it as readable", col)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for col := range listed {
		if !seen[col] {
			t.Errorf("README.md lists %s, which the schema does not have", col)
		}
	}
	if len(seen) < 20 {
		t.Fatalf("only %d columns: the schema query found too little", len(seen))
	}
}
