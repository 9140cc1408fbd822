package postgres

import (
	"context"
	"fmt"
	"net/url"
	"regexp"

	"github.com/jackc/pgx/v5"
)

// scratchName is what a scratch database may be called: a plain lower-case
// identifier, so that it needs no quoting in CREATE and DROP.
var scratchName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// CreateScratch creates the empty database name on the cluster that admin
// connects to (for a load test or a measurement, not for a service) and
// returns a connection string that names it instead of admin's database.
func CreateScratch(ctx context.Context, admin, name string) (string, error) {
	if !scratchName.MatchString(name) {
		return "", fmt.Errorf("postgres: scratch database name %q: want lower-case letters, digits and _", name)
	}
	if err := onAdmin(ctx, admin, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	return withDatabase(admin, name), nil
}

// DropScratch drops the database name that CreateScratch made, ending
// the sessions still connected to it.
func DropScratch(ctx context.Context, admin, name string) error {
	if !scratchName.MatchString(name) {
		return fmt.Errorf("postgres: scratch database name %q: want lower-case letters, digits and _", name)
	}
	return onAdmin(ctx, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
}

// onAdmin runs one statement on a connection of its own to admin.
func onAdmin(ctx context.Context, admin, stmt string) error {
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		// The error of a malformed string can quote it, password included.
		return fmt.Errorf("postgres: the connection string cannot be parsed")
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

// withDatabase returns a connection string that names another database: a
// URL gets it as its path, a keyword/value string one more keyword (the
// last one counts).
func withDatabase(conn, name string) string {
	if u, err := url.Parse(conn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	return conn + " dbname=" + name
}
