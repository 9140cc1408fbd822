package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coffer-dav/coffer/account"
)

// BenchmarkRequestOverhead measures what every authenticated request costs
// the whole server as serve wires it (login cache hit, lifecycle gate,
// password check, DAV): a Depth 0 PROPFIND of getctag and sync-token, as
// clients poll, in process and over loopback HTTP.
func BenchmarkRequestOverhead(b *testing.B) {
	ctx := context.Background()
	a, _ := testApp(b)
	var err error
	if a.life, err = newLifecycle(a, account.DefaultSettings(), nil, quietLog); err != nil {
		b.Fatal(err)
	}
	if _, err := a.createUser(ctx, newUser{username: "u", password: "bench-password"}); err != nil {
		b.Fatal(err)
	}
	h := mounted(a, nil)
	const body = `<propfind xmlns="DAV:" xmlns:CS="http://calendarserver.org/ns/"><prop><CS:getctag/><sync-token/></prop></propfind>`
	request := func(base string) *http.Request {
		req := httptest.NewRequest("PROPFIND", base+"/dav/calendars/u/calendar/", strings.NewReader(body))
		req.RequestURI = ""
		req.SetBasicAuth("u", "bench-password")
		req.Header.Set("Depth", "0")
		return req
	}
	b.Run("in-process", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, request(""))
			if rec.Code != 207 {
				b.Fatal(rec.Code)
			}
		}
	})
	b.Run("loopback-http", func(b *testing.B) {
		srv := httptest.NewServer(h)
		defer srv.Close()
		for i := 0; i < b.N; i++ {
			resp, err := srv.Client().Do(request(srv.URL))
			if err != nil || resp.StatusCode != 207 {
				b.Fatal(err, resp)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
