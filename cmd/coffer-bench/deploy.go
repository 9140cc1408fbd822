package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/coffer-dav/coffer/storage/postgres"
)

// postgresEnv names the environment variable with the connection string
// of the PostgreSQL cluster that .ci/postgres starts; --postgres defaults
// to it.
const postgresEnv = "COFFER_TEST_POSTGRES"

// backend is one way of running the service that --backends names.
type backend struct {
	name      string
	postgres  bool // on a new database of the --postgres cluster, else SQLite in the data folder
	instances int  // several: behind a round-robin proxy of the tool's
}

// backends are the backends --backends accepts.
var backends = []backend{
	{name: "sqlite", instances: 1},
	{name: "postgres", postgres: true, instances: 1},
	{name: "postgres-2", postgres: true, instances: 2},
}

// lightArgon2 are the Argon2 settings of the started servers: OWASP's
// minimum (19 MiB, 2 passes), to shorten the setup. No measured request
// runs Argon2: the scenarios log in before they measure, on every
// instance, and the mixed load's devices use app passwords.
var lightArgon2 = []string{"--argon2-memory", "19456", "--argon2-time", "2", "--argon2-threads", "1"}

// deployment is a started backend: its servers, the proxy in front of
// several, and what to remove afterwards.
type deployment struct {
	backend
	dir      string     // the temporary folder of the instances' data folders
	admin    string     // the PostgreSQL cluster the database is on
	dbName   string     // the PostgreSQL database, "" for SQLite
	servers  []*child   // the instances' processes
	urls     []*url.URL // each instance's DAV URL
	base     *url.URL   // what clients talk to: the only instance, or the proxy
	operator *url.URL   // the first instance's operator API
	token    string     // its bearer token
	proxy    *roundRobin
}

// childEnv is this process's environment without the variables that would
// change where a started server keeps its data or which operator token it
// takes, followed by extra.
func childEnv(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "COFFER_DATABASE=") || strings.HasPrefix(kv, "COFFER_OPERATOR_TOKEN=") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, extra...)
}

// serveArgs is the command line of instance i of a deployment: a DAV
// listener on a free loopback port, the operator API on another for the
// first instance only, light Argon2.
func serveArgs(data string, first bool) []string {
	op := "--operator-listen="
	if first {
		op = "--operator-listen=127.0.0.1:0"
	}
	return append([]string{"serve", "--data", data, "--listen", "127.0.0.1:0", op}, lightArgon2...)
}

// deploy starts b: a new database for PostgreSQL, the first instance
// (which creates the server secret), then the others with a copy of its
// server.key, and for several the proxy.
func deploy(ctx context.Context, c *config, b backend, conns int) (d *deployment, err error) {
	d = &deployment{backend: b, token: randomSecret()}
	if d.dir, err = os.MkdirTemp("", "coffer-bench-"+b.name+"-"); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			d.stop(context.WithoutCancel(ctx))
			d = nil
		}
	}()
	var dsn string
	if b.postgres {
		d.admin = c.postgres
		name := "coffer_bench_" + runID() + "_" + strings.ReplaceAll(b.name, "-", "_")
		if dsn, err = postgres.CreateScratch(ctx, d.admin, name); err != nil {
			return d, err
		}
		d.dbName = name
	}
	for i := range b.instances {
		data := filepath.Join(d.dir, fmt.Sprintf("instance-%d", i+1))
		if i > 0 {
			if err := copySecret(filepath.Join(d.dir, "instance-1"), data); err != nil {
				return d, err
			}
		}
		var env []string
		if dsn != "" {
			// In the environment, not on the command line: a connection
			// string can hold a password.
			env = append(env, "COFFER_DATABASE="+dsn)
		}
		if i == 0 {
			env = append(env, "COFFER_OPERATOR_TOKEN="+d.token)
		}
		ch, _, err := startChild(c.bin, serveArgs(data, i == 0), childEnv(env...))
		if err != nil {
			return d, fmt.Errorf("start %s: %w", c.bin, err)
		}
		d.servers = append(d.servers, ch)
		sv, err := ch.awaitServing(ctx)
		if err != nil {
			return d, fmt.Errorf("%s instance %d: %w", b.name, i+1, err)
		}
		u, err := checkLoopback(sv.url)
		if err != nil {
			return d, fmt.Errorf("%s instance %d serves on %w", b.name, i+1, err)
		}
		d.urls = append(d.urls, u)
		if i == 0 {
			if d.operator, err = checkLoopback(ch.out.operatorURL()); err != nil {
				return d, fmt.Errorf("%s: the operator API: %w", b.name, err)
			}
		}
	}
	d.base = d.urls[0]
	if len(d.urls) > 1 {
		if d.proxy, err = startRoundRobin(d.urls, conns); err != nil {
			return d, err
		}
		d.base = d.proxy.url
	}
	return d, nil
}

// copySecret copies the first instance's server.key into a new data
// folder, as an operator does for a second instance of the service.
func copySecret(from, to string) error {
	key, err := os.ReadFile(filepath.Join(from, "server.key"))
	if err != nil {
		return fmt.Errorf("the first instance's secret: %w", err)
	}
	if err := os.Mkdir(to, 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(to, "server.key"), key, 0o600)
}

// dataDir is the folder whose size the runs report: the SQLite data
// folder; "" for PostgreSQL, whose data is in the cluster.
func (d *deployment) dataDir() string {
	if d.postgres {
		return ""
	}
	return filepath.Join(d.dir, "instance-1")
}

// writeProblems writes the warnings and errors still in the tails of the
// instances' logs and the proxy's, if any: the instances log no body, no
// password and no property value.
func (d *deployment) writeProblems(w io.Writer) {
	type named struct {
		name string
		log  *tailBuffer
	}
	var logs []named
	for i, ch := range d.servers {
		logs = append(logs, named{fmt.Sprintf("%s instance %d", d.name, i+1), ch.log})
	}
	if d.proxy != nil {
		logs = append(logs, named{d.name + " proxy", d.proxy.log})
	}
	for _, l := range logs {
		for _, line := range l.log.problems() {
			fmt.Fprintf(w, "%s logged: %s\n", l.name, line)
		}
	}
}

// stop stops the proxy and the servers, drops the database and removes
// the data folders. It returns the first error.
func (d *deployment) stop(ctx context.Context) error {
	var errs []error
	if d.proxy != nil {
		errs = append(errs, d.proxy.close())
	}
	for i, ch := range d.servers {
		if _, err := ch.stop(); err != nil {
			errs = append(errs, fmt.Errorf("%s instance %d: %w", d.name, i+1, err))
		}
	}
	if d.dbName != "" {
		errs = append(errs, postgres.DropScratch(ctx, d.admin, d.dbName))
	}
	errs = append(errs, os.RemoveAll(d.dir))
	return errors.Join(errs...)
}
