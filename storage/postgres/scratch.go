package postgres

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"time"

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

// WaitQuiet waits until no autovacuum worker runs on the cluster that
// admin connects to, for at most most, and returns how long it waited: a
// measurement then does not pay for the vacuum of what ran before it.
func WaitQuiet(ctx context.Context, admin string, most time.Duration) (time.Duration, error) {
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		return 0, fmt.Errorf("postgres: the connection string cannot be parsed")
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return 0, fmt.Errorf("postgres: connect: %w", err)
	}
	defer conn.Close(ctx)
	start := time.Now()
	for {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'`).Scan(&n); err != nil {
			return time.Since(start), fmt.Errorf("postgres: %w", err)
		}
		if n == 0 || time.Since(start) >= most {
			return time.Since(start), nil
		}
		select {
		case <-ctx.Done():
			return time.Since(start), ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
