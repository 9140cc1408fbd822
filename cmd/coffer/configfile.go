package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// configCmd runs "coffer config example".
func configCmd(args []string) error {
	if wantsHelp(args) || len(args) == 0 {
		return showHelp(configUsage)
	}
	if args[0] != "example" || len(args) != 1 {
		return fmt.Errorf("config: want example\nrun \"coffer config help\" for more")
	}
	writeConfigExample(os.Stdout)
	return nil
}

// configUsage describes the config command.
const configUsage = `coffer config example

Prints a config file with every setting of coffer serve, commented out, at
its default. Use it with --config FILE (or COFFER_CONFIG); the other commands
read the keys they know from the same file. A flag on the command line wins
over a COFFER_* variable, which wins over the file.`

// configPath finds --config on the command line, else COFFER_CONFIG.
func configPath(args []string) string {
	for i, a := range args {
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "config" {
			continue
		}
		if hasVal {
			return val
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return os.Getenv("COFFER_CONFIG")
}

// applyConfigFile sets the flags of fs from the TOML file at path; an
// empty string leaves a flag at its default. A key
// that no serve flag and no flag of this command has is an error (a typo
// must not pass unseen); keys of serve that this command lacks are left
// for serve.
func applyConfigFile(fs *flag.FlagSet, path string) error {
	var settings map[string]any
	if _, err := toml.DecodeFile(path, &settings); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	serveFS, _ := newServeFlags(&config{})
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "config" {
			return fmt.Errorf("config %s: a config file cannot name another", path)
		}
		if fs.Lookup(k) == nil {
			if serveFS.Lookup(k) == nil {
				return fmt.Errorf("config %s: unknown setting %q (coffer config example lists them)", path, k)
			}
			continue
		}
		v, err := settingString(settings[k])
		if err == nil && v == "" {
			continue // an empty value leaves the default, as if commented out
		}
		if err == nil {
			err = fs.Set(k, v)
		}
		if err != nil {
			return fmt.Errorf("config %s: %s: %w", path, k, err)
		}
	}
	return nil
}

// settingString turns a TOML value into the text its flag parses: a list
// becomes comma-separated.
func settingString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case bool:
		return strconv.FormatBool(x), nil
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			s, err := settingString(e)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), nil
	}
	return "", errors.New("want a string, a whole number, true or false, or a list of them")
}

// writeConfigExample writes a config file with every serve setting,
// commented out, at its default.
func writeConfigExample(w io.Writer) {
	fs, _ := newServeFlags(&config{})
	fmt.Fprintln(w, "# Coffer settings: one key per flag of coffer serve (coffer serve --help).")
	fmt.Fprintln(w, "# A flag on the command line wins over a COFFER_* variable, which wins over this file.")
	fmt.Fprintln(w, "# Use it with: coffer serve --config /etc/coffer/coffer.toml")
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "config" {
			return
		}
		_, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "\n# %s\n# %s = %s\n", usage, f.Name, exampleValue(f))
	})
}

// exampleValue is a flag's default as a TOML value.
func exampleValue(f *flag.Flag) string {
	if g, ok := f.Value.(flag.Getter); ok {
		switch v := g.Get().(type) {
		case bool, int, int64:
			return fmt.Sprint(v)
		case time.Duration:
			return strconv.Quote(humanDuration(v))
		}
	}
	if _, err := strconv.ParseUint(f.DefValue, 10, 64); err == nil && strings.HasPrefix(f.Name, "argon2-") {
		return f.DefValue
	}
	return strconv.Quote(f.DefValue)
}
