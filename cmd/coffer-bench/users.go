package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// creds are one user's or one device's credentials.
type creds struct {
	user, password string
}

// userMaker creates the users a scenario needs.
type userMaker struct {
	opURL    *url.URL // the operator API; nil: run the coffer binary
	opToken  string
	bin      string // the coffer binary
	data     string // its data folder
	http     *http.Client
	parallel int
}

// randomSecret returns a random password of 24 letters.
func randomSecret() string {
	const letters = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 24)
	rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b)
}

// runID returns a short random identifier for user names and UIDs.
func runID() string {
	const hex = "0123456789abcdef"
	b := make([]byte, 6)
	rand.Read(b)
	for i := range b {
		b[i] = hex[int(b[i])%16]
	}
	return string(b)
}

// make creates n users named prefix-0 ... prefix-(n-1), a few at a time.
func (m *userMaker) make(ctx context.Context, prefix string, n int) ([]creds, error) {
	out := make([]creds, n)
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for w := 0; w < max(m.parallel, 1); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				c := creds{user: fmt.Sprintf("%s-%d", prefix, i), password: randomSecret()}
				err := m.create(ctx, c)
				mu.Lock()
				if err != nil && first == nil {
					first = fmt.Errorf("create user %s: %w", c.user, err)
				}
				out[i] = c
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < n; i++ {
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed || ctx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return out, first
}

// create makes one permanent (or confirmed) account.
func (m *userMaker) create(ctx context.Context, c creds) error {
	if m.opURL != nil {
		return m.viaAPI(ctx, c)
	}
	cmd := exec.CommandContext(ctx, m.bin, "user", "add", c.user, "--password-stdin", "--data", m.data)
	cmd.Stdin = strings.NewReader(c.password + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = io.Discard // it prints the recovery code
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s user add: %w: %s", m.bin, err, strings.TrimSpace(lastLine(stderr.String())))
	}
	return nil
}

// lastLine is the last line of s.
func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// viaAPI creates the account through the operator API and confirms it
// when it is pending: with the lifecycle off it is then permanent.
func (m *userMaker) viaAPI(ctx context.Context, c creds) error {
	var created struct {
		State             string `json:"state"`
		ConfirmationToken string `json:"confirmation_token"`
	}
	in := map[string]string{"username": c.user, "email": c.user + "@bench.example.org", "display_name": "Bench " + c.user, "password": c.password}
	if err := m.api(ctx, http.MethodPost, "/v1/accounts", in, http.StatusCreated, &created); err != nil {
		return err
	}
	if created.State != "pending" {
		return nil
	}
	if created.ConfirmationToken == "" {
		return errors.New("the account is pending and no confirmation token came back (SMTP is configured): use --coffer-bin instead")
	}
	return m.api(ctx, http.MethodPost, "/v1/accounts/"+url.PathEscape(c.user)+"/confirm", map[string]string{"token": created.ConfirmationToken}, http.StatusOK, nil)
}

// api sends one operator API request and decodes the answer into out.
func (m *userMaker) api(ctx context.Context, method, path string, in any, want int, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	u := *m.opURL
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+m.opToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := m.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != want {
		var e struct{ Error, Field string }
		json.Unmarshal(body, &e)
		return fmt.Errorf("%s %s: %d %s %s", method, path, resp.StatusCode, e.Field, e.Error)
	}
	if out != nil {
		return json.Unmarshal(body, out)
	}
	return nil
}

// appPassword creates an app password for one device, as a user does from
// the account page; the device then logs in without Argon2.
func appPassword(ctx context.Context, c *davClient, label string) (string, error) {
	body, _ := json.Marshal(map[string]string{"label": label})
	a, err := c.do(ctx, http.MethodPost, "/account/app-passwords", body, "Content-Type", "application/json")
	if err != nil {
		return "", err
	}
	if a.status != http.StatusCreated {
		return "", fmt.Errorf("POST /account/app-passwords: %d", a.status)
	}
	var out struct {
		Password string `json:"password"`
	}
	if err := json.Unmarshal(a.body, &out); err != nil || out.Password == "" {
		return "", fmt.Errorf("POST /account/app-passwords: no password in the answer")
	}
	return out.Password, nil
}
