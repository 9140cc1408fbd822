package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestConfigFilePrecedence: flag > environment > file > default, and a key
// nobody knows is refused.
func TestConfigFilePrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "coffer.toml")
	if err := os.WriteFile(file, []byte("listen = \"127.0.0.1:9001\"\nquota = \"2MiB\"\nmax-collections = 7\ntrusted-proxy = [\"127.0.0.1/32\", \"10.0.0.0/8\"]\nmetrics-public = true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want map[string]string
	}{
		{"defaults", nil, nil, map[string]string{"listen": "127.0.0.1:8008", "quota": "0"}},
		{"file", nil, []string{"--config", file}, map[string]string{"listen": "127.0.0.1:9001", "quota": "2MiB", "max-collections": "7", "trusted-proxy": "127.0.0.1/32,10.0.0.0/8", "metrics-public": "true"}},
		{"file from the environment", map[string]string{"COFFER_CONFIG": file}, nil, map[string]string{"listen": "127.0.0.1:9001"}},
		{"environment over file", map[string]string{"COFFER_QUOTA": "5MiB"}, []string{"--config=" + file}, map[string]string{"quota": "5MiB", "listen": "127.0.0.1:9001"}},
		{"flag over environment", map[string]string{"COFFER_QUOTA": "5MiB"}, []string{"--config", file, "--quota", "1GiB"}, map[string]string{"quota": "1GiB"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var c config
			fs, _ := newServeFlags(&c)
			if _, err := parse(fs, &c, tt.args); err != nil {
				t.Fatal(err)
			}
			for k, want := range tt.want {
				if got := fs.Lookup(k).Value.String(); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
	bad := filepath.Join(t.TempDir(), "bad.toml")
	for _, body := range []string{"lisen = \"x\"\n", "quota = 1.5\n", "listen = \n"} {
		os.WriteFile(bad, []byte(body), 0o600)
		var c config
		fs, _ := newServeFlags(&c)
		if _, err := parse(fs, &c, []string{"--config", bad}); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("config %q: %v, want an error naming the file", body, err)
		}
	}
	// A user command reads the keys it knows and leaves serve's to serve.
	var c config
	fs := newFlags("user list", &c)
	if _, err := parse(fs, &c, []string{"--config", file}); err != nil {
		t.Errorf("user list with serve's config: %v", err)
	}
}

// TestConfigExampleIsValid: the example, uncommented, parses and gives
// every default.
func TestConfigExampleIsValid(t *testing.T) {
	var b bytes.Buffer
	writeConfigExample(&b)
	body := regexp.MustCompile(`(?m)^# ([a-z0-9-]+ = )`).ReplaceAllString(b.String(), "$1")
	file := filepath.Join(t.TempDir(), "example.toml")
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	var c config
	fs, _ := newServeFlags(&c)
	if _, err := parse(fs, &c, []string{"--config", file}); err != nil {
		t.Fatalf("the example does not parse: %v\n%s", err, body)
	}
	n := 0
	var def config
	dfs, _ := newServeFlags(&def)
	dfs.VisitAll(func(f *flag.Flag) {
		if f.Name == "config" {
			return
		}
		n++
		if !strings.Contains(body, "\n"+f.Name+" = ") {
			t.Errorf("the example lacks %s", f.Name)
		}
		if got := fs.Lookup(f.Name).Value.String(); got != f.Value.String() {
			t.Errorf("%s from the example = %q, default %q", f.Name, got, f.Value.String())
		}
	})
	if n < 30 {
		t.Fatalf("only %d settings", n)
	}
}
